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

    @Test
    void aResumedTableStartsFromTheChunksAlreadyThereAndTheMetersFollow() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        CopyProgress p = new CopyProgress(registry, List.of(EVENTS));
        p.plan(EVENTS, 10, 4, 1_000);
        p.chunkDone(EVENTS);
        p.add(EVENTS, 300, 9_000);
        CopyProgress.TableView v = p.tables().get(0);
        assertThat(v.chunksDone()).isEqualTo(5);
        assertThat(v.chunks()).isEqualTo(10);
        assertThat(v.rows()).isEqualTo(300);
        assertThat(registry.get("shardlift.copy.chunks.done").tag("table", "public.events").gauge().value()).isEqualTo(5);
        assertThat(registry.get("shardlift.copy.rows").tag("table", "public.events").counter().count()).isEqualTo(300);
        assertThat(registry.get("shardlift.copy.bytes").tag("table", "public.events").counter().count()).isEqualTo(9_000);
    }

    @Test
    void aTableBeingIndexedCountsItsRealRowsNotItsEstimate() {
        CopyProgress p = new CopyProgress(new SimpleMeterRegistry(), List.of(EVENTS));
        p.plan(EVENTS, 2, 0, 1_000);
        p.state(EVENTS, CopyProgress.State.COPYING);
        p.add(EVENTS, 400, 4_000);
        assertThat(p.line()).startsWith("copy  40.0% |").endsWith("events 0/2");
        p.state(EVENTS, CopyProgress.State.INDEXING);
        assertThat(p.line()).startsWith("copy 100.0% |").contains("ETA 0 s").endsWith("events indexing");
    }
}
