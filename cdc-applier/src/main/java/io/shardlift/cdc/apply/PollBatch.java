package io.shardlift.cdc.apply;

import io.shardlift.cdc.event.ChangeEvent;
import io.shardlift.cdc.event.Position;
import java.util.HashSet;
import java.util.Set;
import org.apache.kafka.common.TopicPartition;

/**
 * One poll's work, a {@link NodeBatch} per node. Each record goes to the nodes that do not hold it yet
 * ({@link Positions#holds}): those fold its step, if the router gave them one, and advance their Kafka offset.
 */
final class PollBatch {

    final NodeBatch[] nodes;

    PollBatch(int nodeCount) {
        nodes = new NodeBatch[nodeCount];
        for (int i = 0; i < nodeCount; i++) {
            nodes[i] = new NodeBatch(i);
        }
    }

    /** A routed change at {@code offset}: each node lacking it takes its step (if any) and advances. */
    void add(ChangeRouter.Routed routed, TopicPartition kafkaPartition, long offset, ChangeEvent e, long[] applied) {
        for (NodeBatch b : nodes) {
            if (Positions.holds(applied, b.node, offset)) {
                continue;
            }
            NodeBatch.Step step = routed == null ? null : routed.on(b.node);
            if (step != null) {
                b.add(step);
            }
            b.advance(kafkaPartition, offset, e.position(), e.commitTimeMicros());
        }
    }

    /** A record passed over unread (see {@code DdlBarrier#beforeCurrentShape}): each node lacking it advances past it. */
    void advance(TopicPartition kafkaPartition, long offset, Position position, long[] applied) {
        for (NodeBatch b : nodes) {
            if (!Positions.holds(applied, b.node, offset)) {
                b.advance(kafkaPartition, offset, position, 0);
            }
        }
    }

    /** A record with nothing to write (a marker, a passed barrier): each node lacking it advances past it. */
    void advance(TopicPartition kafkaPartition, long offset, ChangeEvent e, long[] applied) {
        add(null, kafkaPartition, offset, e, applied);
    }

    /** Distinct changes in this poll that some node writes. */
    long events() {
        Set<Object> seen = new HashSet<>();
        for (NodeBatch b : nodes) {
            for (NodeBatch.Step s : b.ordered) {
                seen.add(s.event());
            }
        }
        return seen.size();
    }
}
