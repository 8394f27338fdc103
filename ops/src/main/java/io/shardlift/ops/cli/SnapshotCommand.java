package io.shardlift.ops.cli;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardlift.ops.Numbers;
import io.shardlift.ops.preflight.Preflight;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.plan.TablePlan;
import io.shardlift.ops.workflow.Planning;
import io.shardlift.snapshotter.CopyProgress;
import io.shardlift.snapshotter.SnapshotOptions;
import io.shardlift.snapshotter.SnapshotResult;
import io.shardlift.snapshotter.Snapshotter;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "snapshot", mixinStandardHelpOptions = true,
        header = "Lays out and copies every table under the slot's snapshot, then stops.",
        description = {"Lays the tables out (if needed), creates the publication and the replication slot, copies",
            "every table under the slot's snapshot into the nodes, builds keys and indexes, then stops.",
            "Resumable: run it again after a crash and it copies only what is missing."})
public final class SnapshotCommand implements Callable<Integer> {

    @Mixin
    SpecOptions specOptions;

    @Option(names = "--jobs", converter = Numbers.Jobs.class, description = "Parallel copy jobs (default: migrate.jobs of the spec).")
    Integer jobs;

    @Option(names = "--chunk-rows", converter = Numbers.Rows.class, defaultValue = "250000",
            description = "Rows per copy chunk; smaller tables are copied whole (default: ${DEFAULT-VALUE}).")
    long chunkRows;

    @Option(names = "--progress-interval", converter = Numbers.NonNegative.class, defaultValue = "2",
            description = "Seconds between progress lines on stderr; 0 turns them off (default: ${DEFAULT-VALUE}).")
    int progressInterval;

    @Spec
    picocli.CommandLine.Model.CommandSpec command;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = command.commandLine().getOut();
        PrintWriter err = command.commandLine().getErr();
        ClusterPlan plan = Planning.checked(specOptions.load(), Preflight.Scope.SNAPSHOT, Path.of("."));
        CopyProgress progress = new CopyProgress(new SimpleMeterRegistry(), plan.tables().stream().map(TablePlan::id).toList());
        Thread ticker = ProgressTicker.start(progress::line, err, progressInterval);
        SnapshotResult result;
        try {
            result = new Snapshotter(plan, new SnapshotOptions(jobs != null ? jobs : plan.spec().jobs(), chunkRows), progress).run();
        } catch (RuntimeException e) {
            Preflight.slotLeftBehind(plan.spec()).ifPresent(note -> {
                err.println("shardlift: " + note);
                err.flush();
            });
            throw e;
        } finally {
            ticker.interrupt();
        }
        out.println(progress.line());
        out.printf("snapshot done in %.1f s: %,d rows (%,.1f MB) in %d chunks copied, %d chunks already on the nodes%n",
                result.duration().toMillis() / 1000.0, result.rows(), result.bytes() / 1e6, result.chunksCopied(), result.chunksSkipped());
        result.consistentPoint().ifPresent(p -> out.println("slot " + plan.spec().replication().slot() + " consistent point: " + p));
        for (CopyProgress.TableView t : result.tables()) {
            out.printf("  %-36s %-8s %,12d rows %,10.1f MB  %d/%d chunks%n", t.table(), t.state().name().toLowerCase(),
                    t.rows(), t.bytes() / 1e6, t.chunksDone(), t.chunks());
        }
        out.flush();
        return 0;
    }
}
