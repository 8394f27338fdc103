package io.shardlift.cdc.apply;

import io.shardlift.cdc.apply.NodeBatch.Step;
import io.shardlift.cdc.apply.NodeBatch.Write;
import io.shardlift.cdc.event.ChangeEvent;
import io.shardlift.cdc.event.Op;
import io.shardlift.cdc.event.Row;

/**
 * Decides, once per change, what every node does with it: which node writes the row into which hash partition, and
 * which nodes first remove the key from all their local partitions (a sweep). Nothing downstream decides again:
 * {@link NodeBatch} folds the steps it is handed and {@link NodeWriter} writes them.
 *
 * <ul>
 *   <li>sharded: the owner of the row's hash partition writes it (a DELETE: of the key's hash partition);
 *   <li>reference: every node writes it into its copy;
 *   <li>widened (the source key lacks part of the sharding key): a DELETE carries no sharding key, and an UPDATE's
 *       full image may have moved the row, so every node sweeps the key and the owner writes the row; a source
 *       INSERT goes to its owner alone (see {@link #route}).
 * </ul>
 */
final class ChangeRouter {

    /** Fills the columns a change did not carry (unchanged TOAST) from the source; null when the row is gone. */
    interface RowFiller {
        Row fill(TableApply t, Row after);
    }

    /** The row with the target key of {@code after} as it is now where the changes come from; null when gone. */
    interface RowReader {
        Row current(TableApply t, Row after);
    }

    /**
     * One change with its destinations decided: {@code atOwner} for node {@code owner}, {@code elsewhere} for every
     * other node (null: nothing to write there). Reference tables and widened deletes have no owner (-1).
     */
    record Routed(int owner, Step atOwner, Step elsewhere) {
        Step on(int node) {
            return node == owner ? atOwner : elsewhere;
        }
    }

    private final RowFiller filler;
    private final RowReader reader;
    private final ChangeJournal journal;

    ChangeRouter(RowFiller filler, RowReader reader, ChangeJournal journal) {
        this.filler = filler;
        this.reader = reader;
        this.journal = journal;
    }

    /** The destinations of a row change (INSERT, UPDATE, DELETE); null when the row is gone from the source. */
    Routed route(TableApply t, ChangeEvent e) {
        // A source INSERT of a widened table goes to the owner alone, with no sweep of the other partitions: the key
        // did not exist on the source just before it, so the cluster holds no old copy of it. Where a copy taken later
        // (a resumed snapshot) holds the key elsewhere, the key changed after this INSERT, and that change, an UPDATE or
        // DELETE, comes later in the stream and sweeps every node. A key the cluster held from an earlier life was
        // deleted before the INSERT, and that DELETE swept it. So inserts, most of a write load, cost one node, not all.
        boolean freshInsert = t.widened && e.op() == Op.INSERT;
        if (e.op() == Op.DELETE) {
            Row key = e.key();
            journal.record(t, key);
            if (!t.plan.sharded()) {
                return everyNode(new Step(t, e, Write.DELETE, key, null, 0, false));
            }
            if (t.widened) {
                return everyNode(sweep(t, e, key));
            }
            int hashPartition = t.hashPartitionOfKey(key);
            return new Routed(t.nodeOf(hashPartition), new Step(t, e, Write.DELETE, key, null, hashPartition, false), null);
        }
        Row after = e.after();
        Write write = e.op() == Op.UPDATE && after.hasUnchanged() ? Write.PARTIAL : Write.UPSERT;
        if (t.keyedWider) {
            // the row as it is now: a change from a node the row has left since must not bring its old image back. A row
            // gone meanwhile is skipped: the DELETE of each place it lived follows in that place's stream
            after = reader.current(t, after);
            if (after == null) {
                return null;
            }
            write = Write.UPSERT;
        }
        // a key change's new row, or a widened table's update that may have moved the row, cannot keep
        // TOAST values from an old row on the target: take them from the source
        if (!t.keyedWider && after.hasUnchanged() && (e.op() == Op.INSERT || t.widened)) {
            after = filler.fill(t, after);
            if (after == null) {
                return null; // gone from the source: its DELETE follows in the stream
            }
            write = Write.UPSERT;
        }
        Row key = t.codec.keyOf(after);
        journal.record(t, key);
        int hashPartition = t.hashPartitionOfRow(after);
        if (!t.plan.sharded()) {
            return everyNode(new Step(t, e, write, key, after, hashPartition, false));
        }
        int owner = t.nodeOf(hashPartition);
        if (t.widened && !freshInsert) {
            // the full image may have moved the row: every node drops its old copy, the owner writes it
            return new Routed(owner, new Step(t, e, write, key, after, hashPartition, true), sweep(t, e, key));
        }
        return new Routed(owner, new Step(t, e, write, key, after, hashPartition, false), null);
    }

    private static Routed everyNode(Step step) {
        return new Routed(-1, null, step);
    }

    /** Removes the source key from every local partition of a widened table; its hash partition is unknown (-1). */
    private static Step sweep(TableApply t, ChangeEvent e, Row key) {
        return new Step(t, e, Write.DELETE, key, null, -1, true);
    }
}
