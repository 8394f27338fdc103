package io.shardlift.ops.cli;

import io.shardlift.router.plan.ClusterPlan;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "plan", mixinStandardHelpOptions = true,
        description = {"Validates the spec against the source, prints the layout and the DDL for every node.",
            "Reads the source catalog; writes nothing anywhere."})
public final class PlanCommand implements Callable<Integer> {

    @Mixin
    SpecOptions specOptions;

    @Option(names = "--no-ddl", description = "Print the summary only, not the DDL per node.")
    boolean noDdl;

    @Option(names = "--show-config", description = "Print the effective configuration first (passwords masked).")
    boolean showConfig;

    @Spec
    picocli.CommandLine.Model.CommandSpec command;

    @Override
    public Integer call() {
        var spec = specOptions.load();
        PrintWriter out = command.commandLine().getOut();
        if (showConfig) {
            out.println("# effective configuration");
            out.println(spec.describe());
        }
        ClusterPlan plan = Planning.plan(spec);
        PlanReport.summary(plan, out);
        if (!noDdl) {
            PlanReport.ddl(plan, out);
        }
        out.flush();
        return 0;
    }
}
