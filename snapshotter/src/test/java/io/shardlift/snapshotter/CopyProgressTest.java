package io.shardlift.snapshotter;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardlift.core.TableId;
import java.util.List;
import org.junit.jupiter.api.Test;

class CopyProgressTest {

    private static final TableId EVENTS = new TableId("public", "events");

    @Test
    void beforeAnyTableIsPlannedTheLineClaimsNoShareDoneAndNoTimeLeft() {
        CopyProgress p = new CopyProgress(new SimpleMeterRegistry(), List.of(EVENTS));
        assertThat(p.line()).isEqualTo("copy preparing (layout, publication, slot, chunk plans)");
    }

    @Test
    void beforeTheFirstRowThereIsNoRateSoNoEta() {
        CopyProgress p = new CopyProgress(new SimpleMeterRegistry(), List.of(EVENTS));
        p.plan(EVENTS, 4, 0, 1_000);
        p.state(EVENTS, CopyProgress.State.COPYING);
        assertThat(p.line()).startsWith("copy   0.0% | 0 rows").contains("| ETA - |").endsWith("events 0/4");
        p.add(EVENTS, 500, 5_000);
        assertThat(p.line()).startsWith("copy  50.0% | 500 rows").doesNotContain("ETA -");
    }
}
