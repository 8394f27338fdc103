package io.shardlift.ops.cli;

import io.shardlift.ops.preflight.Preflight;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.plan.LayoutApplier;
import io.shardlift.core.plan.LayoutApplier.NodeResult;
import io.shardlift.core.plan.LayoutApplier.Stage;
import io.shardlift.ops.workflow.PlanReport;
import io.shardlift.ops.workflow.Planning;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "schema", mixinStandardHelpOptions = true,
        header = "Creates the layout on every node (idempotent).",
        description = {"Creates the layout on every node: control schema, FDW servers, partitioned parents,",
            "local and foreign partitions, reference tables, keys and indexes. Foreign keys wait for cutover.",
            "Idempotent: running it again changes nothing; a node laid out for a different plan is refused."})
public final class SchemaCommand implements Callable<Integer> {

    @Mixin
    SpecOptions specOptions;

    @Option(names = "--without-indexes",
            description = "Create tables only; keys and indexes follow after the copy (what `snapshot` does).")
    boolean withoutIndexes;

    @Spec
    picocli.CommandLine.Model.CommandSpec command;

    @Override
    public Integer call() {
        PrintWriter out = command.commandLine().getOut();
        ClusterPlan plan = Planning.checked(specOptions.load(), Preflight.Scope.SCHEMA, Path.of("."));
        PlanReport.summary(plan, out);
        EnumSet<Stage> stages = withoutIndexes ? EnumSet.of(Stage.TABLES) : EnumSet.of(Stage.TABLES, Stage.INDEXES);
        List<NodeResult> results = LayoutApplier.apply(plan, stages);
        out.println();
        for (NodeResult r : results) {
            out.printf("%s: %s (%d statements)%n", r.label(), r.alreadyLaidOut() ? "already laid out, verified" : "laid out", r.statements());
        }
        out.flush();
        return 0;
    }
}
