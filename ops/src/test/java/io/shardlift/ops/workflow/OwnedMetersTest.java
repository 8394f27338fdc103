package io.shardlift.ops.workflow;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** A migration removes the meters it registered on the process's registry when it closes, and only those. */
class OwnedMetersTest {

    @Test
    void removesWhatTheMigrationRegisteredAndLeavesTheOthers() {
        PrometheusMeterRegistry shared = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        // the control plane's, registered on the shared registry under our prefix: not the migration's to remove
        Counter control = Counter.builder("shardlift.control.requests").register(shared);
        AtomicLong lag = new AtomicLong(42);

        OwnedMeters first = new OwnedMeters(shared);
        Gauge.builder("shardlift.apply.lag", lag, AtomicLong::get).baseUnit("seconds").description("d").register(first.registry());
        Counter.builder("shardlift.apply.rows").tag("table", "public.t").register(first.registry()).increment(3);
        Timer.builder("shardlift.apply.batch").tag("node", "0").register(first.registry()).record(Duration.ofMillis(5));
        FunctionCounter.builder("shardlift.reverse.events", lag, AtomicLong::get).register(first.registry());

        // on the shared registry, so /metrics shows them as before
        assertThat(shared.find("shardlift.apply.lag").gauge()).isNotNull().extracting(Gauge::value).isEqualTo(42.0);
        assertThat(shared.find("shardlift.apply.rows").tag("table", "public.t").counter()).isNotNull()
                .extracting(Counter::count).isEqualTo(3.0);
        assertThat(shared.scrape()).contains("shardlift_apply_lag_seconds 42.0", "# HELP shardlift_apply_lag_seconds d",
                "shardlift_apply_batch_seconds_count{node=\"0\"} 1", "shardlift_reverse_events_total 42.0");

        first.removeAll();
        assertThat(shared.getMeters()).extracting(Meter::getId).extracting(Meter.Id::getName)
                .containsExactly("shardlift.control.requests");

        // the migration that replaces it registers the same names afresh, reading its own objects
        OwnedMeters second = new OwnedMeters(shared);
        AtomicLong lag2 = new AtomicLong(7);
        Gauge.builder("shardlift.apply.lag", lag2, AtomicLong::get).register(second.registry());
        assertThat(shared.find("shardlift.apply.lag").gauge()).isNotNull().extracting(Gauge::value).isEqualTo(7.0);
        control.increment();
        assertThat(shared.find("shardlift.control.requests").counter().count()).isEqualTo(1.0);
        // the first's view no longer reaches the shared registry
        Counter.builder("shardlift.late").register(first.registry());
        assertThat(shared.find("shardlift.late").counter()).isNull();
    }
}
