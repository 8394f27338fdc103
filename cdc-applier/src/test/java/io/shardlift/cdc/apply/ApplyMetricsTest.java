package io.shardlift.cdc.apply;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

class ApplyMetricsTest {

    /** After a rollback the process starts a new forward applier on the same registry: its gauges must show it. */
    @Test
    void aLaterApplierOnTheSameRegistryIsTheOneItsGaugesShow() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ApplyMetrics first = new ApplyMetrics(registry);
        first.appliedLsn.set(5);
        first.consumerLag("t", 0, 11);
        first.nodeGauges(0, () -> new NodeApplyStatus(0, "n0", 0, 0, 0, 1_000, java.util.Optional.empty(), 0));
        first.removeGauges();
        assertThat(registry.find("shardlift.apply.queued").gauges()).isEmpty();
        assertThat(registry.find("shardlift.apply.node.lag").gauges()).isEmpty();

        ApplyMetrics second = new ApplyMetrics(registry);
        second.appliedLsn.set(7);
        second.consumerLag("t", 0, 3);
        assertThat(registry.get("shardlift.apply.applied.lsn").gauge().value()).isEqualTo(7.0);
        assertThat(registry.get("shardlift.apply.queued").gauge().value()).isEqualTo(3.0);
    }
}
