package io.shardlift.ops.cli;

import io.shardlift.ops.ExitCodes;
import io.shardlift.ops.Numbers;
import io.shardlift.ops.verify.Verifier;
import io.shardlift.ops.verify.VerifyOptions;
import io.shardlift.ops.verify.VerifyReport;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.spec.MigrationSpec;
import io.shardlift.ops.workflow.Planning;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "verify", mixinStandardHelpOptions = true,
        header = "Compares every migrated table row by row between the source and the cluster.",
        description = {"Compares every migrated table row by row between the source and the cluster, now: checksums per",
            "key range on the source and on each node's own rows, then the keys of the ranges that differ.",
            "Reads only. While the change stream runs the cluster lags the source; with writes fenced, equal",
            "data compares equal. Exit code 0 when everything is equal, 6 when differences are found."})
public final class VerifyCommand implements Callable<Integer> {

    @Mixin
    SpecOptions specOptions;

    @Option(names = "--jobs", converter = Numbers.Jobs.class, description = "Key ranges compared at once (default: migrate.jobs of the spec).")
    Integer jobs;

    @Option(names = "--chunk-rows", converter = Numbers.Rows.class, defaultValue = "100000",
            description = "Rows per key range: what a difference is located to (default: ${DEFAULT-VALUE}).")
    long chunkRows;

    @Option(names = "--max-keys", converter = Numbers.NonNegative.class, defaultValue = "20", paramLabel = "N",
            description = "Missing, extra and different keys listed per table, each (default: ${DEFAULT-VALUE}).")
    int maxKeys;

    @Option(names = "--global-copies", description = "Compare every node's copy of each global table with node 0's instead of"
            + " the cluster with the source: after the cutover, when the source is fenced and the copies must agree.")
    boolean globalCopies;

    @Option(names = "--json", description = "Print the report as JSON.")
    boolean json;

    @Spec
    picocli.CommandLine.Model.CommandSpec command;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = command.commandLine().getOut();
        MigrationSpec spec = specOptions.load();
        VerifyOptions options;
        try {
            options = new VerifyOptions(jobs != null ? jobs : spec.jobs(), chunkRows, maxKeys);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(command.commandLine(), e.getMessage(), e);
        }
        // a table the planner refuses now (renamed on the source: its stream stopped) is named, and the others compared
        Planning.TakeOn planned = Planning.planComparing(spec);
        ClusterPlan plan = planned.plan();
        VerifyReport report = (globalCopies ? Verifier.globalCopies(plan, options) : new Verifier(plan, options)).run()
                .notCompared(planned.refused());
        if (json) {
            out.println(report.toJson());
        } else {
            report.print(out);
        }
        out.flush();
        return report.equal() ? ExitCodes.OK : ExitCodes.DIFFERENCES;
    }
}
