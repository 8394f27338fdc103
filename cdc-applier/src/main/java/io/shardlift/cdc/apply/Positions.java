package io.shardlift.cdc.apply;

import io.shardlift.core.TargetException;
import io.shardlift.core.ledger.ApplyLedger;
import io.shardlift.core.spec.ConnInfo;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last Kafka offset each node applied, per assigned Kafka partition: what makes the apply exactly-once. Loaded
 * from every node's ledger on assignment; the consumer resumes after the lowest, and a node skips every record at or
 * below its own ({@link #holds}). Advanced only after a node committed the batch that carried the offset in its ledger.
 * Used by the consumer's thread only.
 */
final class Positions {

    private static final Logger log = LoggerFactory.getLogger(Positions.class);

    private final List<ConnInfo> nodes;
    private final Map<TopicPartition, long[]> applied = new HashMap<>();
    private boolean warnedUnbound;

    Positions(List<ConnInfo> nodes) {
        this.nodes = nodes;
    }

    /** Reads what every node applied of {@code parts}. */
    void load(Collection<TopicPartition> parts) throws SQLException {
        Map<TopicPartition, Long> starts = streamStarts();
        List<List<ApplyLedger.Offset>> appliedByNode = new ArrayList<>();
        for (ConnInfo node : nodes) {
            try (Connection c = node.connect()) {
                appliedByNode.add(ApplyLedger.appliedOffsets(c));
            }
        }
        place(parts, starts, appliedByNode);
    }

    /**
     * Takes {@code parts} on: each node holds what its ledger says it applied, and a node that applied nothing of a
     * partition yet holds everything before the migration's stream start ({@code starts}; null when unbound: the
     * topics are the applier's own from their first record).
     */
    void place(Collection<TopicPartition> parts, Map<TopicPartition, Long> starts, List<List<ApplyLedger.Offset>> appliedByNode) {
        for (TopicPartition tp : parts) {
            Long start = starts == null ? Long.valueOf(0) : starts.get(tp);
            if (start == null) {
                throw new TargetException("node 0 records no stream start for " + tp + " — the spec's tables or"
                        + " kafka.topic_partitions changed since the migration started; restore them, or start over on fresh nodes");
            }
            long[] offsets = new long[nodes.size()];
            Arrays.fill(offsets, start - 1);
            applied.put(tp, offsets);
        }
        for (int i = 0; i < appliedByNode.size(); i++) {
            for (ApplyLedger.Offset o : appliedByNode.get(i)) {
                long[] offsets = applied.get(new TopicPartition(o.topic(), o.kafkaPartition()));
                if (offsets != null) {
                    offsets[i] = o.offset();
                }
            }
        }
    }

    /** Where the migration's stream begins in each Kafka partition, or null when node 0 records no migration. */
    private Map<TopicPartition, Long> streamStarts() throws SQLException {
        Optional<List<ApplyLedger.Offset>> starts;
        try (Connection c = nodes.get(0).connect()) {
            starts = ApplyLedger.streamStarts(c);
        }
        if (starts.isEmpty()) {
            if (!warnedUnbound) {
                warnedUnbound = true;
                log.warn("node 0 records no migration id: applying the topics from their first record");
            }
            return null;
        }
        Map<TopicPartition, Long> out = new HashMap<>();
        for (ApplyLedger.Offset o : starts.get()) {
            out.put(new TopicPartition(o.topic(), o.kafkaPartition()), o.offset());
        }
        return out;
    }

    /** Each node's last applied offset of an assigned Kafka partition (do not modify); null when not assigned. */
    long[] of(TopicPartition kafkaPartition) {
        return applied.get(kafkaPartition);
    }

    /** Whether {@code node} already applied the record at {@code offset}: then it skips it. */
    static boolean holds(long[] applied, int node, long offset) {
        return offset <= applied[node];
    }

    /** The offset to resume consuming at: after the lowest any node holds; nodes ahead skip what they have. */
    long resumeAt(TopicPartition kafkaPartition) {
        return lowest(applied.get(kafkaPartition)) + 1;
    }

    /** Records not yet applied on every node, given the partition's end offset. */
    long lag(TopicPartition kafkaPartition, long endOffset) {
        long[] offsets = applied.get(kafkaPartition);
        return Math.max(0, endOffset - (offsets == null ? 0 : lowest(offsets) + 1));
    }

    /** After {@code batch} committed on its node: the node holds everything up to the offsets it carried. */
    void committed(NodeBatch batch) {
        for (var p : batch.progress.entrySet()) {
            long[] offsets = applied.get(p.getKey());
            if (offsets != null) {
                offsets[batch.node] = p.getValue().offset();
            }
        }
    }

    void forget(TopicPartition kafkaPartition) {
        applied.remove(kafkaPartition);
    }

    private static long lowest(long[] offsets) {
        long min = Long.MAX_VALUE;
        for (long o : offsets) {
            min = Math.min(min, o);
        }
        return min;
    }
}
