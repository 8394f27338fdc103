package io.shardlift.cdc.apply;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.shardlift.core.TableId;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The applier's meters: rows applied per table and node, batch durations, updates that found no row,
 * lag by commit time and by Kafka offsets, and the highest source LSN applied.
 */
final class ApplyMetrics {

    private final MeterRegistry registry;
    private final Map<String, Counter> rows = new ConcurrentHashMap<>();
    private final Map<Integer, Timer> batches = new ConcurrentHashMap<>();
    private final Map<TableId, Counter> missed = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> consumerLag = new ConcurrentHashMap<>();
    final AtomicLong appliedLsn = new AtomicLong();
    final AtomicLong lastCommitMicros = new AtomicLong();
    final AtomicLong eventsApplied = new AtomicLong();
    private final Map<Integer, NodeMeter> nodes = new ConcurrentHashMap<>();
    /**
     * The gauges, which read this applier's objects: removed when it closes ({@link #removeGauges}), or a later applier
     * in the same process (the forward one started again after a rollback) would find them registered and be shown by
     * the closed one's frozen values.
     */
    private final java.util.List<io.micrometer.core.instrument.Meter> gauges = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** One node's totals since this process started, for the status (the meters carry the same per table). */
    static final class NodeMeter {
        final AtomicLong rows = new AtomicLong();
        final AtomicLong batches = new AtomicLong();
        final AtomicLong lastBatchLagMs = new AtomicLong(-1);
        final AtomicLong lastAppliedAtMillis = new AtomicLong();
    }

    ApplyMetrics(MeterRegistry registry) {
        this.registry = registry;
        // as the status has it: with nothing queued the stream is idle, not late
        gauges.add(Gauge.builder("shardlift.apply.lag", this, m -> m.queued() == 0 ? 0 : m.commitLagMillis() / 1000.0).baseUnit("seconds")
                .description("now minus the source commit time of the last change applied; 0 when nothing is queued")
                .register(registry));
        gauges.add(Gauge.builder("shardlift.apply.applied.lsn", appliedLsn, AtomicLong::get)
                .description("highest source LSN applied on every node it concerned").register(registry));
    }

    /** Records in Kafka not yet applied, over the partitions this applier holds. */
    long queued() {
        long sum = 0;
        for (AtomicLong v : consumerLag.values()) {
            sum += v.get();
        }
        return sum;
    }

    /** The per-node gauges: the node's lag (its last batch's, growing while it fails) and whether it fails now. */
    void nodeGauges(int node, java.util.function.Supplier<NodeApplyStatus> status) {
        gauges.add(Gauge.builder("shardlift.apply.node.lag", status, s -> s.get().lagMs() / 1000.0).baseUnit("seconds")
                .tag("node", String.valueOf(node))
                .description("source commit to this node's commit of its last batch, plus the time the node has been failing")
                .register(registry));
        gauges.add(Gauge.builder("shardlift.apply.node.failing", status, s -> s.get().failing().isPresent() ? 1 : 0)
                .tag("node", String.valueOf(node))
                .description("1 while applying to this node fails and the applier retries (the node down), else 0")
                .register(registry));
    }

    long commitLagMillis() {
        long last = lastCommitMicros.get();
        return last == 0 ? 0 : Math.max(0, System.currentTimeMillis() - last / 1000);
    }

    NodeMeter node(int node) {
        return nodes.computeIfAbsent(node, n -> new NodeMeter());
    }

    void tableRows(TableId table, int node, long n) {
        node(node).rows.addAndGet(n);
        rows.computeIfAbsent(table + "\u0000" + node, k -> Counter.builder("shardlift.apply.rows").tag("table", table.toString())
                .tag("node", String.valueOf(node)).description("rows written by the applier (net of batching)").register(registry))
                .increment(n);
    }

    void applied(int node, NodeBatch batch, long nanos) {
        batches.computeIfAbsent(node, n -> Timer.builder("shardlift.apply.batch").tag("node", String.valueOf(n))
                .description("one node transaction of the applier").register(registry)).record(Duration.ofNanos(nanos));
        long newest = 0;
        for (NodeBatch.Progress p : batch.progress.values()) {
            newest = Math.max(newest, p.commitTimeMicros());
        }
        NodeMeter m = node(node);
        long now = System.currentTimeMillis();
        m.batches.incrementAndGet();
        m.lastAppliedAtMillis.set(now);
        if (newest > 0) {
            m.lastBatchLagMs.set(Math.max(0, now - newest / 1000));
        }
    }

    void missedUpdate(TableId table) {
        missedCounter(table).increment();
    }

    /** Registered from the start: 0 missed updates is worth seeing (and alerting on its change), not an absent series. */
    Counter missedCounter(TableId table) {
        return missed.computeIfAbsent(table, t -> Counter.builder("shardlift.apply.updates.missing").tag("table", t.toString())
                .description("partial updates that found no row on the node").register(registry));
    }

    void consumerLag(String topic, int kafkaPartition, long lag) {
        consumerLag.computeIfAbsent(topic + "-" + kafkaPartition, k -> {
            AtomicLong v = new AtomicLong();
            gauges.add(Gauge.builder("shardlift.apply.queued", v, AtomicLong::get).baseUnit("records").tag("topic", topic)
                    .tag("partition", String.valueOf(kafkaPartition)).description("records in Kafka not yet applied (consumer lag)")
                    .register(registry));
            return v;
        }).set(lag);
    }

    /** Unregisters the gauges (the applier closed); counters and timers stay, totals of the process. */
    void removeGauges() {
        gauges.forEach(registry::remove);
        gauges.clear();
    }
}
