package io.shardlift.cdc.capture;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the capture has handed to Kafka, updated once per acknowledged batch and read by status() and the
 * Micrometer gauges from any thread.
 */
final class CaptureProgress {

    final AtomicLong ackedLsn = new AtomicLong();
    final AtomicLong lastCommitMicros = new AtomicLong();
    final AtomicLong lagMillis = new AtomicLong();
    final AtomicLong events = new AtomicLong();
    final AtomicLong markers = new AtomicLong();
    final AtomicLong batches = new AtomicLong();
    private final List<Meter> meters = new ArrayList<>();
    private final MeterRegistry registry;

    CaptureProgress(MeterRegistry registry, String slot) {
        this.registry = registry;
        meters.add(Gauge.builder("shardlift.capture.source.lsn", ackedLsn, AtomicLong::doubleValue)
                .description("highest source LSN whose changes (and every earlier one) Kafka acknowledged")
                .tag("slot", slot).register(registry));
        meters.add(Gauge.builder("shardlift.capture.lag", lagMillis, v -> v.get() / 1000.0)
                .description("source commit to Kafka acknowledgement of the last batch; 0 when idle")
                .baseUnit("seconds").tag("slot", slot).register(registry));
    }

    void register(Meter m) {
        meters.add(m);
    }

    void acked(long maxLsn, long commitMicros, long dataEvents, long markerCount, long nowMillis) {
        if (maxLsn >= 0) {
            ackedLsn.accumulateAndGet(maxLsn, Math::max);
        }
        if (dataEvents > 0 || markerCount > 0) {
            lastCommitMicros.set(commitMicros);
            lagMillis.set(Math.max(0, nowMillis - commitMicros / 1000));
        } else {
            lagMillis.set(0); // only heartbeats and transaction boundaries: caught up
        }
        events.addAndGet(dataEvents);
        markers.addAndGet(markerCount);
        batches.incrementAndGet();
    }

    void removeMeters() {
        meters.forEach(registry::remove);
    }
}
