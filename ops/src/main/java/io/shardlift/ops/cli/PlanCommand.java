package io.shardlift.ops.cli;

import io.shardlift.ops.preflight.Preflight;
import io.shardlift.ops.workflow.PlanReport;
import io.shardlift.ops.workflow.Planning;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "plan", mixinStandardHelpOptions = true,
        header = "Checks the spec and every server, prints the layout and the DDL; writes nothing.",
        description = {"Validates the spec against the source, prints the layout and the DDL for every node, and runs",
            "the preflight of `run` (source, every node, broker, control.listen). Writes nothing anywhere;",
            "exits non-zero when the preflight finds a problem."})
public final class PlanCommand implements Callable<Integer> {

    @Mixin
    SpecOptions specOptions;

    @Option(names = "--no-ddl", description = "Print the summary only, not the DDL per node.")
    boolean noDdl;

    @Option(names = "--show-config", description = "Print the effective configuration first (passwords masked).")
    boolean showConfig;

    @Option(names = "--data-dir", defaultValue = "shardlift-data",
            description = "The --data-dir run will use: the embedded broker's directory is checked (default: ${DEFAULT-VALUE}).")
    Path dataDir;

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
        // the checks of run, its dry twin: what schema and snapshot need is a part of them
        Planning.Checked checked = Planning.check(spec, Preflight.Scope.RUN, dataDir);
        checked.plan().ifPresent(plan -> {
            PlanReport.summary(plan, out);
            if (!noDdl) {
                PlanReport.ddl(plan, out);
            }
        });
        if (!checked.leftOut().isEmpty()) {
            // what a restart of run leaves out: it names them while it runs, and the cutover is refused while they are
            out.printf("%nleft out, created on the source during the migration and refused by the planner (%d): run takes"
                    + " the other tables on, plans these again every 30 s, and refuses the cutover while one is left out%n",
                    checked.leftOut().size());
            checked.leftOut().values().forEach(problems -> problems.forEach(p -> out.println("  ! " + p)));
        }
        checked.report().print(out);
        out.flush();
        if (!checked.report().ok()) {
            PrintWriter err = command.commandLine().getErr();
            err.println("shardlift: " + checked.report().problems().size() + " problem(s) found, listed under \"preflight\";"
                    + " nothing was written");
            checked.report().problems().forEach(f -> err.println("  - " + f.message()));
            err.flush();
            return checked.report().exitCode();
        }
        return 0;
    }
}
