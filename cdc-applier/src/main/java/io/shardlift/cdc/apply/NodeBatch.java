package io.shardlift.cdc.apply;

import io.shardlift.cdc.event.ChangeEvent;
import io.shardlift.cdc.event.Position;
import io.shardlift.cdc.event.Row;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/**
 * What one node must apply from one poll: the net effect per key of the steps {@link ChangeRouter} gave this node (a
 * row changed five times is written once), the steps in source order (for the one-by-one replay), and the Kafka
 * offset each Kafka partition reaches.
 */
final class NodeBatch {

    /** What a step does with its hash partition's row. */
    enum Write {
        /** Remove the key (with a sweep: nothing more, the sweep removed it). */
        DELETE,
        /** Write the full row, inserting or replacing. */
        UPSERT,
        /** Update only the columns the change carried; unchanged TOAST columns keep what the node has. */
        PARTIAL
    }

    /**
     * One change as this node applies it.
     *
     * @param event         the change (counted once however many nodes apply it)
     * @param key           the source primary key
     * @param row           the full or partial row; null for DELETE
     * @param hashPartition where the row lives; -1 for a sweep-only DELETE of a widened table
     * @param sweep         remove the key from every local partition of the table first (widened tables)
     */
    record Step(TableApply table, ChangeEvent event, Write write, Row key, Row row, int hashPartition, boolean sweep) {
    }

    /** Net effect on one key of one table on this node. */
    static final class Net {
        Write write;
        Row row;
        int hashPartition;
        boolean sweep;

        Net(Write write, Row row, int hashPartition, boolean sweep) {
            this.write = write;
            this.row = row;
            this.hashPartition = hashPartition;
            this.sweep = sweep;
        }
    }

    /** A Kafka partition's progress within this batch. */
    record Progress(long offset, Position position, long commitTimeMicros) {
    }

    final int node;
    /** table -> hash partition -> key -> net effect; widened tables fold by source key across partitions (slot -1). */
    final Map<TableApply, Map<Integer, LinkedHashMap<Row, Net>>> work = new LinkedHashMap<>();
    final List<Step> ordered = new ArrayList<>();
    /** Steps of tables keyed wider than their target ({@link TableApply#keyedWider}): applied in order, never folded. */
    final List<Step> inOrder = new ArrayList<>();
    final Map<TopicPartition, Progress> progress = new LinkedHashMap<>();
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

    void advance(TopicPartition kafkaPartition, long offset, Position position, long commitTimeMicros) {
        progress.put(kafkaPartition, new Progress(offset, position, commitTimeMicros));
    }

    /** Folds a step into the net effect of its key. */
    void add(Step s) {
        events++;
        ordered.add(s);
        if (s.table().keyedWider) {
            // a row read anew carries its key as text and its deletes as typed values: they do not fold, order decides
            inOrder.add(s);
            return;
        }
        // a widened table's row may move between hash partitions: its changes fold by source key
        int slot = s.table().widened ? -1 : s.hashPartition();
        LinkedHashMap<Row, Net> byKey = work.computeIfAbsent(s.table(), k -> new LinkedHashMap<>())
                .computeIfAbsent(slot, k -> new LinkedHashMap<>());
        Net cur = byKey.get(s.key());
        if (cur == null) {
            byKey.put(s.key(), new Net(s.write(), s.row(), s.hashPartition(), s.sweep()));
            return;
        }
        switch (s.write()) {
            case DELETE, UPSERT -> {
                cur.write = s.write();
                cur.row = s.row();
            }
            case PARTIAL -> {
                if (cur.write == Write.DELETE) {
                    return; // an update of a row deleted earlier in this batch changes nothing
                }
                // a full image merged with a partial one is still full; partial over partial stays partial
                cur.row = merge(cur.row, s.row());
            }
        }
        cur.hashPartition = s.hashPartition();
        // sweeps run before the writes: one folded in earlier still has to remove the old copies
        cur.sweep |= s.sweep();
    }

    /** {@code over} wins where it has a value; where it is UNCHANGED, {@code base} is kept. */
    static Row merge(Row base, Row over) {
        Object[] v = new Object[over.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = over.isUnchanged(i) ? base.get(i) : over.get(i);
        }
        return Row.of(v);
    }
}
