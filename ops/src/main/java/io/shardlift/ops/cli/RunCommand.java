package io.shardlift.ops.cli;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.shardlift.ops.Numbers;
import io.shardlift.ops.control.ControlPlane;
import io.shardlift.ops.workflow.MigrationBackend;
import io.shardlift.core.spec.Problem;
import io.shardlift.core.spec.SpecException;
import io.shardlift.ops.ExitCodes;
import io.shardlift.ops.workflow.LiveMigration;
import io.shardlift.ops.workflow.Migration;
import io.shardlift.ops.preflight.Preflight;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.ops.workflow.Planning;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "run", mixinStandardHelpOptions = true,
        header = "The online migration: layout, copy and change stream, until stopped.",
        description = {"The online migration: lays the cluster out, copies every table under the slot's snapshot",
            "while the change stream is captured into Kafka from the same slot, then applies the changes of each",
            "table once its copy is in, continuously, until stopped (Ctrl-C / SIGTERM).",
            "Restartable at any point with the same command."})
public final class RunCommand implements Callable<Integer> {

    @Mixin
    SpecOptions specOptions;

    @Option(names = "--jobs", converter = Numbers.Jobs.class, description = "Parallel copy jobs (default: migrate.jobs of the spec).")
    Integer jobs;

    @Option(names = "--chunk-rows", converter = Numbers.Rows.class, defaultValue = "250000", description = "Rows per copy chunk (default: ${DEFAULT-VALUE}).")
    long chunkRows;

    @Option(names = "--data-dir", defaultValue = "shardlift-data",
            description = "Where the embedded Kafka broker keeps its data between runs (default: ${DEFAULT-VALUE}).")
    Path dataDir;

    @Option(names = "--instance-id",
            description = "The applier's member id in the Kafka consumer group (default: derived from host and --data-dir).")
    String instanceId;

    @Option(names = "--status-interval", converter = Numbers.NonNegative.class, defaultValue = "5",
            description = {"Seconds between status lines on stderr when stdout is not a terminal; 0 turns them off",
                "(default: ${DEFAULT-VALUE}). On a terminal, a progress display redrawn every second instead."})
    int statusInterval;

    @Option(names = "--exit-when-caught-up", hidden = true,
            description = "Stop once copied and caught up (for scripts and tests).")
    boolean exitWhenCaughtUp;

    @Spec
    picocli.CommandLine.Model.CommandSpec command;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = command.commandLine().getErr();
        // a restart leaves out the tables created during the migration that the planner refuses; a first start refuses
        Planning.TakeOn start = Planning.checkedRun(specOptions.load(), dataDir);
        ClusterPlan plan = start.plan();
        CountDownLatch stop = new CountDownLatch(1);
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Migration.Options options = new Migration.Options(jobs != null ? jobs : plan.spec().jobs(), chunkRows, dataDir,
                Optional.ofNullable(instanceId));
        Migration m = Migration.start(plan, options, registry);
        if (m.phase() == Migration.Phase.COMPLETED) {
            // nothing streams after complete, either way: a run left waiting would only look like a stalled copy
            m.close();
            err.println("shardlift: this migration is complete (shardlift complete closed its rollback window): the cluster"
                    + " serves the application, nothing streams and no rollback is possible, so there is nothing to run."
                    + " Leave the aliases at the cluster; what is left on the source, and how to remove it, is in the README"
                    + " (\"Closing the window\"). To migrate this source again, start over with empty nodes and another --data-dir.");
            return ExitCodes.OK;
        }
        // replaced in this process when it takes on tables created on the source during the migration
        LiveMigration live = new LiveMigration(m, options, registry);
        live.startedWithout(start.refused(), line -> {
            err.println("shardlift: " + line);
            err.flush();
        });
        ControlPlane control;
        try {
            control = ControlPlane.start(plan.spec().control(), new MigrationBackend(live), registry);
        } catch (java.net.BindException e) {
            m.close();
            throw new SpecException(specOptions.config.toString(), java.util.List.of(new Problem("control.listen",
                    plan.spec().control().listen(), e.getMessage() + " — choose a free address:port for control.listen")));
        }
        err.println("control plane on " + plan.spec().control().scheme() + "://" + control.listen() + " (status, metrics, POST /cutover)");
        Thread hook = new Thread(() -> {
            stop.countDown();
            // a running cutover finishes against a live migration before the migration stops
            control.close();
            live.close();
        }, "shardlift-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        ProgressDisplay display = ProgressDisplay.choose(err, statusInterval);
        try {
            while (stop.getCount() > 0) {
                if (!live.takeOnNewTables(line -> {
                    err.println("shardlift: " + line);
                    err.flush();
                }).isEmpty()) {
                    continue;
                }
                if (live.restartFailedTakeOn(line -> {
                    err.println("shardlift: " + line);
                    err.flush();
                })) {
                    continue;
                }
                Migration current = live.current();
                Optional<Throwable> failure = current.failure();
                if (failure.isPresent()) {
                    display.close();
                    Throwable f = failure.get();
                    Preflight.slotLeftBehind(plan.spec()).ifPresent(note -> {
                        err.println("shardlift: " + note);
                        err.flush();
                    });
                    throw f instanceof Exception e ? e : new IllegalStateException(f);
                }
                display.tick(() -> {
                    current.refreshSourcePosition();
                    return new ProgressDisplay.Frame(current.copyProgress().tables(), current.snapshotResult().isPresent(),
                            current.statusLine());
                }, System.nanoTime());
                if (exitWhenCaughtUp && current.caughtUp()) {
                    err.println("caught up: " + current.statusLine());
                    break;
                }
                Thread.sleep(200);
            }
        } finally {
            display.close();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
                control.close();
                live.close();
            } catch (IllegalStateException shuttingDown) {
                // the hook closes it
            }
        }
        return 0;
    }
}
