package io.shardlift.ops.reverse;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardlift.cdc.apply.Applier;
import io.shardlift.cdc.apply.ApplierStatus;
import io.shardlift.cdc.apply.ApplyConfig;
import io.shardlift.cdc.capture.Capture;
import io.shardlift.cdc.capture.StreamBinding;
import io.shardlift.core.SourceException;
import io.shardlift.core.ledger.LedgerSchema;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.spec.ConnInfo;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The way back while the rollback window is open: every change committed on the cluster's migrated tables after the
 * point of no return flows to the source through the forward stream's own machinery, configured the other way round
 * ({@link ReversePlan}): a {@link Capture} per node on its reverse slot ({@link ReverseSlots}) into the reverse topics,
 * and an {@link Applier} whose one "node" is the source, which commits each batch with its Kafka positions in the
 * source's {@code shardlift} schema: exactly once at any crash point, in order per key.
 *
 * <p>The source's write fence lets the applier through without a gate of its own: the fence is an ordinary trigger,
 * and the applier's sessions run with {@code session_replication_role = replica}, where ordinary triggers do not fire.
 * Setting that needs superuser (or a GRANT SET on it), which an application role does not have, and no driver or
 * pooler sets it on its own; the application keeps getting the fence's error.
 *
 * <p>The stages have meters of their own (a private registry), so the forward stream's are not mixed with them; the
 * reverse stream shows itself as {@code shardlift.reverse.*}.
 */
public final class ReverseStream implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ReverseStream.class);

    /**
     * @param lagMillis     the larger of the captures' (node commit to Kafka) and the applier's (node commit to source)
     *                      lag; 0 when idle
     * @param queued        records in the reverse topics not yet applied to the source
     * @param eventsApplied changes applied to the source by this process
     * @param error         why a stage stopped, if one did
     */
    public record Status(String state, long lagMillis, long queued, long eventsApplied, List<String> captures, List<String> slots,
                         Optional<String> error, Optional<String> waiting) {
        public Status {
            captures = List.copyOf(captures);
            slots = List.copyOf(slots);
        }
    }

    private final ClusterPlan plan;
    private final ReversePlan reverse;
    private final String bootstrap;
    private final String instanceId;
    private final MeterRegistry registry;
    private final MeterRegistry own = new SimpleMeterRegistry();
    private final List<Capture> captures = new ArrayList<>();
    private ReverseSlotWatch slots;
    private final List<Meter> meters = new ArrayList<>();
    private Applier applier;

    public ReverseStream(ClusterPlan plan, String bootstrap, String instanceId, MeterRegistry registry) {
        this.plan = plan;
        this.reverse = new ReversePlan(plan);
        this.bootstrap = bootstrap;
        this.instanceId = instanceId + "-reverse";
        this.registry = registry;
    }

    /**
     * Starts the applier and one capture per node; the slots must exist (the cutover made them). The source gets the
     * applier's ledger tables first, and the reverse topics are bound to the migration on it before anything is sent.
     */
    public synchronized void start() {
        ConnInfo source = plan.spec().source();
        try (Connection c = source.connect(); Statement st = c.createStatement()) {
            for (String ddl : LedgerSchema.DDL) {
                st.execute(ddl);
            }
            for (String ddl : reverse.shapeDdl()) {
                st.execute(ddl);
            }
        } catch (SQLException e) {
            throw new SourceException("source " + source.label() + ": cannot create the reverse stream's ledger in schema "
                    + LedgerSchema.SCHEMA + ": " + e.getMessage(), e);
        }
        StreamBinding binding = StreamBinding.establish(source, bootstrap, reverse.topics(), plan.spec().kafka().topicPartitions(),
                plan.spec().kafka().replicationFactor());
        String offsetsId = ReverseSlots.offsetsId(plan.spec().nodes().get(0), binding.id());
        ClusterPlan applyPlan = reverse.applyPlan();
        applier = new Applier(new ApplyConfig(applyPlan, bootstrap, ReversePlan.topicPrefix(plan.spec()),
                "shardlift-reverse-" + plan.spec().replication().slot(), 5000, Duration.ofMinutes(5), instanceId, false,
                reverse.partitionTruncates()), own);
        applier.start();
        for (int k = 0; k < plan.nodeCount(); k++) {
            if (ReverseSlots.publishedOn(plan, k).isEmpty()) {
                continue; // only global tables, carried from node 0
            }
            Capture capture = new Capture(reverse.capture(k, bootstrap), own);
            captures.add(capture);
            capture.start(offsetsId);
        }
        slots = new ReverseSlotWatch(plan);
        slots.start();
        meters.add(Gauge.builder("shardlift.reverse.lag", this, s -> s.status().lagMillis() / 1000.0).baseUnit("seconds")
                .description("the reverse stream's lag: a change committed on the cluster until it is on the source (0 when idle)")
                .register(registry));
        meters.add(Gauge.builder("shardlift.reverse.queued", this, s -> s.status().queued())
                .description("changes in the reverse topics not yet applied to the source").register(registry));
        meters.add(FunctionCounter.builder("shardlift.reverse.events", this, s -> s.applier == null ? 0 : s.applier.status().eventsApplied())
                .description("changes of the cluster applied to the source").register(registry));
        log.info("reverse stream from {} nodes to the source {} started (topics {}-reverse.*)", plan.nodeCount(), source.label(),
                plan.spec().kafka().topicPrefix());
    }

    public synchronized Status status() {
        if (applier == null) {
            return new Status("NOT_STARTED", 0, 0, 0, List.of(), List.of(), Optional.empty(), Optional.empty());
        }
        ApplierStatus as = applier.status();
        long lag = as.commitLagMs();
        List<String> states = new ArrayList<>();
        Optional<String> error = as.lastError().map(e -> "reverse applier: " + e);
        for (int k = 0; k < captures.size(); k++) {
            Capture.Status cs = captures.get(k).status();
            lag = Math.max(lag, cs.lagMillis());
            states.add("node " + k + " " + cs.state());
            if (error.isEmpty() && cs.state() == Capture.State.FAILED) {
                error = Optional.of("reverse capture of node " + k + ": " + cs.error().orElse("unknown"));
            }
        }
        // a node down or a slot not read: not a failure (the capture retries, the node comes back), but the stream is not
        // current, and the rollback waits for it
        Optional<String> waiting = slots == null ? Optional.empty() : slots.problem().map(p -> "reverse capture of " + p);
        String state = error.isPresent() ? "FAILED" : waiting.isPresent() ? "WAITING"
                : as.state() == Applier.State.APPLYING ? "STREAMING" : as.state().name();
        return new Status(state, lag, as.consumerLag(), as.eventsApplied(), states,
                slots == null ? List.of() : slots.seen().stream().map(ReverseSlotWatch.Seen::describe).toList(), error, waiting);
    }

    /**
     * The reverse applier's journal for the rollback's content proof: the keys it writes to the source, whether it sees
     * every change (it was given every partition of the reverse topics), and each table's key columns in the journal
     * (the cluster's primary key, which for a table widened by its sharding key holds more than the source's).
     */
    public synchronized io.shardlift.ops.cutover.Rollback.Journal journal() {
        if (applier == null) {
            throw new IllegalStateException("the reverse stream has not started");
        }
        java.util.Map<io.shardlift.core.TableId, List<String>> keys = new java.util.LinkedHashMap<>();
        for (var t : reverse.applyPlan().tables()) {
            keys.put(t.id(), t.source().primaryKey().orElseThrow().columns());
        }
        boolean complete = applier.assignedPartitions() >= plan.tables().size() * plan.spec().kafka().topicPartitions();
        return new io.shardlift.ops.cutover.Rollback.Journal(applier.journal(), complete, keys);
    }

    /** True when every capture streams and the applier applies with nothing older than a second waiting. */
    public boolean caughtUp() {
        return applier != null && applier.caughtUp() && (slots == null || slots.problem().isEmpty())
                && captures.stream().allMatch(c -> c.status().state() == Capture.State.STREAMING && c.status().lagMillis() < 1_000);
    }

    /** One line for a terminal. */
    public String line() {
        Status s = status();
        return "reverse " + s.state() + " " + String.format("%,d", s.eventsApplied()) + " events to the source, "
                + String.format("%,d", s.queued()) + " queued, lag " + s.lagMillis() + " ms" + s.error().map(e -> " (" + e + ")").orElse("");
    }

    /** Stops the captures, then the applier; what they did is durable and the next start goes on from there. */
    @Override
    public synchronized void close() {
        if (slots != null) {
            slots.close();
        }
        meters.forEach(registry::remove);
        meters.clear();
        for (Capture c : captures) {
            try {
                c.close();
            } catch (RuntimeException e) {
                log.warn("closing a reverse capture: {}", e.getMessage());
            }
        }
        captures.clear();
        if (applier != null) {
            applier.close();
        }
    }
}
