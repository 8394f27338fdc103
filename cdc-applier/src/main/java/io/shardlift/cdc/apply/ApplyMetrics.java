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

    /** One node's totals since this process started, for the status (the meters carry the same per table). */
    static final class NodeMeter {
        final AtomicLong rows = new AtomicLong();
        final AtomicLong batches = new AtomicLong();
        final AtomicLong lastBatchLagMs = new AtomicLong(-1);
        final AtomicLong lastAppliedAtMillis = new AtomicLong();
    }

    ApplyMetrics(MeterRegistry registry) {
        this.registry = registry;
        Gauge.builder("shardlift.apply.lag.ms", this, m -> m.commitLagMillis())
                .description("now minus the source commit time of the last change applied").register(registry);
        Gauge.builder("shardlift.apply.applied.lsn", appliedLsn, AtomicLong::get)
                .description("highest source LSN applied on every node it concerned").register(registry);
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
        missed.computeIfAbsent(table, t -> Counter.builder("shardlift.apply.updates.missing").tag("table", t.toString())
                .description("partial updates that found no row on the node").register(registry)).increment();
    }

    void consumerLag(String topic, int kafkaPartition, long lag) {
        consumerLag.computeIfAbsent(topic + "-" + kafkaPartition, k -> {
            AtomicLong v = new AtomicLong();
            Gauge.builder("shardlift.apply.consumer.lag", v, AtomicLong::get).tag("topic", topic)
                    .tag("partition", String.valueOf(kafkaPartition)).description("records not yet applied").register(registry);
            return v;
        }).set(lag);
    }
}
