package io.shardlift.ops;

import io.shardlift.ops.cli.ApplyCommand;
import io.shardlift.ops.cli.CutoverCommand;
import io.shardlift.ops.cli.PlanCommand;
import io.shardlift.ops.cli.RunCommand;
import io.shardlift.ops.cli.SchemaCommand;
import io.shardlift.ops.cli.SnapshotCommand;
import io.shardlift.ops.cli.StatusCommand;
import io.shardlift.ops.cli.VerifyCommand;
import io.shardlift.ops.demo.DemoCommand;
import io.shardlift.core.SourceException;
import io.shardlift.core.TargetException;
import io.shardlift.core.plan.PlanException;
import io.shardlift.core.spec.SpecException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code shardlift} program. */
@Command(name = "shardlift", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Moves a live PostgreSQL database into a sharded PostgreSQL cluster with zero downtime.",
        subcommands = {PlanCommand.class, SchemaCommand.class, SnapshotCommand.class, RunCommand.class, ApplyCommand.class,
            StatusCommand.class, CutoverCommand.class, io.shardlift.ops.cli.RollbackCommand.class, io.shardlift.ops.cli.CompleteCommand.class, VerifyCommand.class, DemoCommand.class, CommandLine.HelpCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:success",
            "1:unexpected failure (see the message and the log)",
            "2:wrong command-line usage",
            "3:invalid spec, the source schema cannot be laid out as the spec asks, or control.listen cannot be bound"
                + " (nothing written)",
            "4:the source could not be reached or read, or lacks what the migration needs (wal_level, privileges, a free slot)",
            "5:a cluster node could not be reached, refused the layout, or lacks what it needs (UTF8, privileges)",
            "6:verify found differences between the source and the cluster",
            "7:the control plane could not be reached or did not accept the request",
            "8:the cutover was refused by a gate (nothing changed)",
            "9:the cutover failed (its steps say how far it got)",
            "10:the Kafka broker does not answer, or the embedded one cannot write its data directory",
            "143:stopped by SIGTERM (128 + 15; run and apply stop cleanly and resume on the next start)"},
        footer = {"%nWhen the preflight finds problems of several kinds, the exit code is the smallest of theirs."})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the program and returns its exit code. */
    public static int run(String... args) {
        return run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    /** Runs the program with the given output streams and returns its exit code (tests call this). */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            int code = exitCode(e);
            cmd.getErr().println(cmd.getColorScheme().errorText("shardlift: " + e.getMessage()));
            if (code == ExitCodes.INTERNAL) {
                e.printStackTrace(cmd.getErr());
            }
            cmd.getErr().flush();
            return code;
        });
        int code = cli.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    static int exitCode(Throwable e) {
        if (e instanceof io.shardlift.ops.preflight.Preflight.Refused r) {
            return r.exitCode();
        }
        if (e instanceof SpecException || e instanceof PlanException) {
            return ExitCodes.CONFIG;
        }
        if (e instanceof io.shardlift.ops.workflow.DataDirException) {
            return ExitCodes.USAGE; // the fix is on the command line (--data-dir) or in the file system
        }
        if (e instanceof SourceException) {
            return ExitCodes.SOURCE;
        }
        if (e instanceof TargetException) {
            return ExitCodes.TARGET;
        }
        return ExitCodes.INTERNAL;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"shardlift " + (v == null ? "(development build)" : v)};
        }
    }
}
