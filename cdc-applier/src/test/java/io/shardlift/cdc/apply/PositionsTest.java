package io.shardlift.cdc.apply;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlift.cdc.event.ChangeEvent;
import io.shardlift.core.TargetException;
import io.shardlift.core.ledger.ApplyLedger.Offset;
import io.shardlift.core.spec.ConnInfo;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/** Exactly-once: each node skips what its ledger says it applied, and the consumer resumes after the lowest. */
class PositionsTest {

    static final ApplyTables T = new ApplyTables();
    static final TopicPartition TP = new TopicPartition("sl.public.regions", 1);

    static Positions positions() {
        return new Positions(Collections.nCopies(ApplyTables.NODES, (ConnInfo) null));
    }

    @Test
    void eachNodeSkipsWhatItHoldsAndAdvancesOnlyOnceItCommitted() {
        Positions positions = positions();
        // node 0 applied up to offset 10; node 1 nothing yet: it holds what precedes the stream start (5)
        positions.place(List.of(TP), Map.of(TP, 5L), List.of(List.of(new Offset(TP.topic(), 1, 10)), List.of()));
        assertThat(positions.of(TP)).containsExactly(10, 4);
        assertThat(positions.resumeAt(TP)).isEqualTo(5);

        ChangeRouter router = ChangeRouterTest.router((t, after) -> after, new ChangeJournal());
        PollBatch poll = new PollBatch(ApplyTables.NODES);
        for (long offset = 5; offset <= 11; offset++) {
            ChangeEvent e = T.insert(T.regions, offset, 0L, "n", "b");
            poll.add(router.route(T.regions, e), TP, offset, e, positions.of(TP));
        }
        // a reference table's change goes to both nodes; node 0 already has 5..10
        assertThat(poll.nodes[0].events).isEqualTo(1);
        assertThat(poll.nodes[1].events).isEqualTo(7);
        assertThat(poll.nodes[0].progress.get(TP).offset()).isEqualTo(11);
        assertThat(poll.nodes[1].progress.get(TP).offset()).isEqualTo(11);
        assertThat(poll.events()).as("a change written on two nodes counts once").isEqualTo(7);
        assertThat(positions.of(TP)).as("nothing moves before the commit").containsExactly(10, 4);

        positions.committed(poll.nodes[1]);
        assertThat(positions.of(TP)).containsExactly(10, 11);
        assertThat(positions.resumeAt(TP)).isEqualTo(11);
        assertThat(positions.lag(TP, 20)).isEqualTo(9);
        positions.committed(poll.nodes[0]);
        assertThat(positions.lag(TP, 12)).isZero();
    }

    @Test
    void aMarkerOrPassedBarrierAdvancesOnlyTheNodesThatLackIt() {
        Positions positions = positions();
        positions.place(List.of(TP), Map.of(TP, 0L), List.of(List.of(new Offset(TP.topic(), 1, 7)), List.of()));
        PollBatch poll = new PollBatch(ApplyTables.NODES);
        poll.advance(TP, 7, ChangeEvent.marker(T.regions.id(), "m", new io.shardlift.cdc.event.Position(1, 1, 0), 1, 0), positions.of(TP));
        assertThat(poll.nodes[0].isEmpty()).isTrue();
        assertThat(poll.nodes[1].hasData()).isFalse();
        assertThat(poll.nodes[1].progress.get(TP).offset()).isEqualTo(7);
    }

    @Test
    void withoutAMigrationIdTheTopicsAreAppliedFromTheirFirstRecord() {
        Positions positions = positions();
        positions.place(List.of(TP), null, List.of(List.of(), List.of()));
        assertThat(positions.resumeAt(TP)).isZero();
        assertThat(positions.of(new TopicPartition("other", 0))).isNull();
    }

    @Test
    void aPartitionWithoutAStreamStartIsRefusedWithWhatToDo() {
        assertThatThrownBy(() -> positions().place(List.of(TP), Map.of(), List.of(List.of(), List.of())))
                .isInstanceOf(TargetException.class)
                .hasMessage("node 0 records no stream start for sl.public.regions-1 — the spec's tables or kafka.topic_partitions"
                        + " changed since the migration started; restore them, or start over on fresh nodes");
    }
}
