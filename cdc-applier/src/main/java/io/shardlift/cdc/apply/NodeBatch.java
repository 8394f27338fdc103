package io.shardlift.cdc.apply;

import io.shardlift.cdc.event.ChangeEvent;
import io.shardlift.cdc.event.Op;
import io.shardlift.cdc.event.Position;
import io.shardlift.cdc.event.Row;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one node must apply from one poll: the net effect per key (a row changed five times is written once),
 * the events in their original order (for the slow path), and the Kafka position each partition reaches.
 */
final class NodeBatch {

    /** Net effect on one key of one partition table. */
    static final class Net {
        Op op;          // INSERT (full image, upsert), UPDATE (partial image), DELETE
        Row row;        // full or partial image; null for DELETE
        int partition;  // destination partition (widened tables: where the row now lives)
        /**
         * Only a source INSERT was folded here (widened tables): the key did not exist on the source just before,
         * so no node holds an old copy to remove (see {@link Applier}'s route).
         */
        boolean fresh;

        Net(Op op, Row row, int partition, boolean fresh) {
            this.op = op;
            this.row = row;
            this.partition = partition;
            this.fresh = fresh;
        }
    }

    /** One event routed to this node, kept in order for the slow path. */
    record Routed(TableApply table, ChangeEvent event, int partition) {
    }

    /** A Kafka partition's progress within this batch. */
    record Progress(long offset, Position position, long commitTimeMicros) {
    }

    final int node;
    /** table -> partition table -> key -> net effect; for widened tables keyed by the source key, partition -1. */
    final Map<TableApply, Map<Integer, LinkedHashMap<Row, Net>>> work = new LinkedHashMap<>();
    final List<Routed> ordered = new ArrayList<>();
    final Map<TopicPartitionKey, Progress> progress = new LinkedHashMap<>();
    int events;

    NodeBatch(int node) {
        this.node = node;
    }

    boolean hasData() {
        return events > 0;
    }

    boolean isEmpty() {
        return events == 0 && progress.isEmpty();
    }

    void advance(TopicPartitionKey tp, long offset, Position position, long commitTimeMicros) {
        progress.put(tp, new Progress(offset, position, commitTimeMicros));
    }

    /**
     * Folds an event into the net effect. {@code partition} is where the row lives (INSERT/UPDATE) or
     * the partition of the key (DELETE); -1 for a widened table's DELETE, whose partition is unknown.
     * {@code freshInsert}: the event is a source INSERT of a widened table (see {@link Net#fresh}).
     */
    void add(TableApply t, ChangeEvent e, Row key, int partition, boolean freshInsert) {
        events++;
        ordered.add(new Routed(t, e, partition));
        // widened tables fold by source key across partitions: the row may move between them
        int slot = t.widened ? -1 : partition;
        LinkedHashMap<Row, Net> byKey = work.computeIfAbsent(t, k -> new LinkedHashMap<>()).computeIfAbsent(slot, k -> new LinkedHashMap<>());
        Net cur = byKey.get(key);
        Op op = e.op();
        if (op == Op.DELETE) {
            if (cur == null) {
                byKey.put(key, new Net(Op.DELETE, null, partition, false));
            } else {
                cur.op = Op.DELETE;
                cur.row = null;
                cur.partition = partition;
                cur.fresh = false;
            }
            return;
        }
        Row after = e.after();
        boolean partial = op == Op.UPDATE && after.hasUnchanged();
        if (!partial) {
            if (cur == null) {
                byKey.put(key, new Net(Op.INSERT, after, partition, freshInsert));
            } else {
                cur.op = Op.INSERT;
                cur.row = after;
                cur.partition = partition;
                cur.fresh = false;
            }
            return;
        }
        if (cur == null) {
            byKey.put(key, new Net(Op.UPDATE, after, partition, false));
        } else if (cur.op == Op.DELETE) {
            // an update of a row deleted earlier in this batch changes nothing
            return;
        } else {
            cur.row = merge(cur.row, after);
            cur.partition = partition;
            cur.fresh = false;
            // a full image merged with a partial one is still full; partial over partial stays partial
        }
    }

    /** {@code over} wins where it has a value; where it is UNCHANGED, {@code base} is kept. */
    static Row merge(Row base, Row over) {
        Object[] v = new Object[over.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = over.isUnchanged(i) ? base.get(i) : over.get(i);
        }
        return Row.of(v);
    }

    /** A (topic, partition) pair as the applier tracks it. */
    record TopicPartitionKey(String topic, int partition) {
    }
}
