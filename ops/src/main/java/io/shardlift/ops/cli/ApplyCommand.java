package io.shardlift.ops.cli;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardlift.cdc.apply.Applier;
import io.shardlift.cdc.apply.ApplierStatus;
import io.shardlift.cdc.apply.ApplyConfig;
import io.shardlift.core.TargetException;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.spec.SpecException;
import io.shardlift.core.spec.Problem;
import io.shardlift.ops.Numbers;
import io.shardlift.ops.workflow.Planning;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "apply", mixinStandardHelpOptions = true,
        header = "Applies the change stream only, as one more applier next to a run.",
        description = {"Applies the change stream only: one more member of the appliers' Kafka consumer group,",
            "next to a `run` (which copies and captures). Partitions are shared out across the processes; each",
            "node's positions keep the effect exactly-once whichever process applies a partition.",
            "Needs an external broker (kafka.bootstrap), and its own --instance-id per process."})
public final class ApplyCommand implements Callable<Integer> {

    @Mixin
    SpecOptions specOptions;

    @Option(names = "--instance-id", required = true,
            description = "This process's member id in the consumer group; keep it across restarts of this process.")
    String instanceId;

    @Option(names = "--status-interval", converter = Numbers.NonNegative.class, defaultValue = "5",
            description = "Seconds between status lines on stderr; 0 turns them off (default: ${DEFAULT-VALUE}).")
    int statusInterval;

    @Spec
    picocli.CommandLine.Model.CommandSpec command;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = command.commandLine().getErr();
        var spec = specOptions.load();
        if (spec.kafka().embedded()) {
            throw new SpecException(specOptions.config.toString(), List.of(new Problem("kafka.bootstrap", "embedded",
                    "`apply` joins the appliers of a `run` through Kafka: name the brokers in kafka.bootstrap (the embedded"
                            + " broker lives inside one `run` process)")));
        }
        ClusterPlan plan = Planning.plan(spec);
        CountDownLatch stop = new CountDownLatch(1);
        Applier applier = new Applier(ApplyConfig.of(plan, spec.kafka().bootstrap(), instanceId), new SimpleMeterRegistry());
        Thread hook = new Thread(() -> {
            stop.countDown();
            applier.close();
        }, "shardlift-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        applier.start();
        long next = 0;
        try {
            while (stop.getCount() > 0) {
                ApplierStatus s = applier.status();
                if (s.state() == Applier.State.FAILED) {
                    throw new TargetException("applier failed: " + s.lastError().orElse("unknown"));
                }
                if (statusInterval > 0 && System.nanoTime() >= next) {
                    err.printf("apply %s %d/%d tables, %,d events, %,d queued, commit lag %d ms%n", s.state(),
                            s.readyTables().size(), plan.tables().size(), s.eventsApplied(), s.consumerLag(), s.commitLagMs());
                    err.flush();
                    next = System.nanoTime() + statusInterval * 1_000_000_000L;
                }
                Thread.sleep(200);
            }
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
                applier.close();
            } catch (IllegalStateException shuttingDown) {
                // the hook closes it
            }
        }
        return 0;
    }
}
