package io.shardlift.cdc.apply;

import io.shardlift.cdc.event.ChangeEvent;
import io.shardlift.cdc.event.Op;
import io.shardlift.cdc.event.Row;
import io.shardlift.core.TableId;
import io.shardlift.core.SqlErrors;
import io.shardlift.core.TargetException;
import io.shardlift.core.ledger.LedgerSchema;
import io.shardlift.core.plan.GlobalFanout;
import io.shardlift.core.spec.ConnInfo;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies batches to one node: every batch is ONE transaction holding the data changes and, for each Kafka
 * partition, the offset and source position reached. After a crash the node's positions say exactly what it
 * has, so nothing is applied twice or skipped.
 */
final class NodeWriter implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(NodeWriter.class);

    private final int node;
    private final ConnInfo conn;
    private final int nodes;
    private final RetryBudget budget;
    private final ApplyMetrics metrics;
    private Connection c;

    NodeWriter(int node, ConnInfo conn, int nodes, RetryBudget budget, ApplyMetrics metrics) {
        this.node = node;
        this.conn = conn;
        this.nodes = nodes;
        this.budget = budget;
        this.metrics = metrics;
    }

    String label() {
        return "node " + node + " (" + conn.label() + ")";
    }

    /** Applies the batch, riding out connection loss within the retry budget. */
    void apply(NodeBatch batch) throws InterruptedException {
        if (batch.isEmpty()) {
            return;
        }
        long start = System.nanoTime();
        for (int attempt = 1; ; attempt++) {
            try {
                applyOnce(batch, false);
                budget.succeeded(label());
                metrics.applied(node, batch, System.nanoTime() - start);
                return;
            } catch (SQLException e) {
                rollbackQuietly();
                if (SqlErrors.isUniqueViolation(e) && batch.hasData()) {
                    // the net effect reordered changes across keys and tripped a constraint the source never saw
                    // violated: replay this batch event by event, in source order
                    log.info("{}: {} — replaying this batch of {} events one by one", label(), SqlErrors.describe(e), batch.events);
                    try {
                        applyOnce(batch, true);
                        metrics.applied(node, batch, System.nanoTime() - start);
                        return;
                    } catch (SQLException again) {
                        rollbackQuietly();
                        throw new TargetException(label() + ": cannot apply changes: " + SqlErrors.describe(again)
                                + " — the node's data differs from the source's; run `shardlift verify` to see where");
                    }
                }
                if (!SqlErrors.classify(e).retryable()) {
                    throw new TargetException(label() + ": cannot apply changes: " + SqlErrors.describe(e));
                }
                closeQuietly();
                budget.failed(label(), e);
            }
        }
    }

    private void applyOnce(NodeBatch batch, boolean oneByOne) throws SQLException {
        Connection cx = connection();
        if (batch.hasData()) {
            if (oneByOne) {
                for (NodeBatch.Routed r : batch.ordered) {
                    applyOne(cx, r);
                }
            } else {
                for (var e : batch.work.entrySet()) {
                    applyTable(cx, e.getKey(), e.getValue());
                }
            }
        }
        try (PreparedStatement ps = cx.prepareStatement("INSERT INTO " + LedgerSchema.APPLIED
                + " (topic, kafka_partition, kafka_offset, prev_commit_lsn, lsn, seq, commit_time) VALUES (?, ?, ?, ?, ?, ?, ?)"
                + " ON CONFLICT (topic, kafka_partition) DO UPDATE SET kafka_offset = EXCLUDED.kafka_offset,"
                + " prev_commit_lsn = EXCLUDED.prev_commit_lsn, lsn = EXCLUDED.lsn, seq = EXCLUDED.seq,"
                + " commit_time = EXCLUDED.commit_time, applied_at = now()")) {
            for (var p : batch.progress.entrySet()) {
                ps.setString(1, p.getKey().topic());
                ps.setInt(2, p.getKey().partition());
                ps.setLong(3, p.getValue().offset());
                ps.setLong(4, p.getValue().position().previousCommitLsn());
                ps.setLong(5, p.getValue().position().lsn());
                ps.setInt(6, p.getValue().position().seq());
                long micros = p.getValue().commitTimeMicros();
                ps.setTimestamp(7, micros == 0 ? null : Timestamp.from(Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000),
                        Math.floorMod(micros, 1_000_000) * 1000L)));
                ps.addBatch();
            }
            ps.executeBatch();
        }
        cx.commit();
    }

    /** Net effect of one table: bulk delete, bulk upsert and partial updates per local partition table. */
    private void applyTable(Connection cx, TableApply t, Map<Integer, LinkedHashMap<Row, NodeBatch.Net>> bySlot) throws SQLException {
        Map<Integer, List<Row>> deletes = new LinkedHashMap<>();
        Map<Integer, List<Row>> upserts = new LinkedHashMap<>();
        Map<Integer, List<Row[]>> partials = new LinkedHashMap<>(); // {key, partial row}
        List<Row> widenedDeletes = new ArrayList<>();                 // source keys to remove from every local partition
        for (var slot : bySlot.values()) {
            for (var e : slot.entrySet()) {
                NodeBatch.Net n = e.getValue();
                if (t.widened) {
                    // folded by source key: a delete's partition is unknown, and a full image may have moved the
                    // row, even within one partition (two sharding keys that hash alike): remove every old copy,
                    // then write the row where it now lives (deletes run before upserts)
                    if (n.op != Op.UPDATE && !n.fresh) {
                        widenedDeletes.add(e.getKey());
                    }
                    if (n.op == Op.DELETE) {
                        continue;
                    }
                }
                if (!isLocal(t, n.partition)) {
                    continue;
                }
                switch (n.op) {
                    case DELETE -> deletes.computeIfAbsent(n.partition, k -> new ArrayList<>()).add(e.getKey());
                    case INSERT -> upserts.computeIfAbsent(n.partition, k -> new ArrayList<>()).add(n.row);
                    default -> partials.computeIfAbsent(n.partition, k -> new ArrayList<>()).add(new Row[] {e.getKey(), n.row});
                }
            }
        }
        if (!widenedDeletes.isEmpty()) {
            for (int p : t.plan.partitionsOn(node, nodes)) {
                bulkDelete(cx, t, t.plan.partition(p), widenedDeletes);
            }
        }
        for (var d : deletes.entrySet()) {
            bulkDelete(cx, t, t.plan.partition(d.getKey()), d.getValue());
        }
        for (var u : upserts.entrySet()) {
            bulkUpsert(cx, t, t.plan.partition(u.getKey()), u.getValue());
        }
        for (var p : partials.entrySet()) {
            for (Row[] kr : p.getValue()) {
                partialUpdate(cx, t, t.plan.partition(p.getKey()), kr[0], kr[1]);
            }
        }
        metrics.tableRows(t.id(), node, countRows(bySlot));
    }

    private static long countRows(Map<Integer, LinkedHashMap<Row, NodeBatch.Net>> bySlot) {
        long n = 0;
        for (var m : bySlot.values()) {
            n += m.size();
        }
        return n;
    }

    private boolean isLocal(TableApply t, int partition) {
        return !t.plan.sharded() || t.route.nodeOfPartition(partition) == node;
    }

    private void applyOne(Connection cx, NodeBatch.Routed r) throws SQLException {
        TableApply t = r.table();
        ChangeEvent e = r.event();
        Row key = e.op() == Op.DELETE ? e.key() : t.codec.keyOf(e.after());
        if (t.widened) {
            List<Row> one = List.of(key);
            for (int p : t.plan.partitionsOn(node, nodes)) {
                if (e.op() == Op.DELETE || !(e.op() == Op.UPDATE && e.after().hasUnchanged())) {
                    bulkDelete(cx, t, t.plan.partition(p), one);
                }
            }
            if (e.op() == Op.DELETE) {
                return;
            }
        }
        if (!isLocal(t, r.partition())) {
            return;
        }
        TableId part = t.plan.partition(r.partition());
        switch (e.op()) {
            case DELETE -> bulkDelete(cx, t, part, List.of(key));
            case INSERT -> bulkUpsert(cx, t, part, List.of(e.after()));
            default -> {
                if (e.after().hasUnchanged()) {
                    partialUpdate(cx, t, part, key, e.after());
                } else {
                    bulkUpsert(cx, t, part, List.of(e.after()));
                }
            }
        }
    }

    private void bulkUpsert(Connection cx, TableApply t, TableId part, List<Row> rows) throws SQLException {
        int[] cols = t.writeCols;
        String[][] arrays = new String[cols.length][rows.size()];
        for (int r = 0; r < rows.size(); r++) {
            Row row = rows.get(r);
            for (int j = 0; j < cols.length; j++) {
                arrays[j][r] = text(t, row, cols[j]);
            }
        }
        try (PreparedStatement ps = cx.prepareStatement(t.sql(part).upsert())) {
            for (int j = 0; j < cols.length; j++) {
                ps.setArray(j + 1, cx.createArrayOf("text", arrays[j]));
            }
            ps.executeUpdate();
        }
    }

    private void bulkDelete(Connection cx, TableApply t, TableId part, List<Row> keys) throws SQLException {
        int k = t.codec.keySize();
        String[][] arrays = new String[k][keys.size()];
        for (int r = 0; r < keys.size(); r++) {
            for (int j = 0; j < k; j++) {
                arrays[j][r] = t.codec.keyText(keys.get(r), j);
            }
        }
        try (PreparedStatement ps = cx.prepareStatement(t.sql(part).delete())) {
            for (int j = 0; j < k; j++) {
                ps.setArray(j + 1, cx.createArrayOf("text", arrays[j]));
            }
            ps.executeUpdate();
        }
    }

    private void partialUpdate(Connection cx, TableApply t, TableId part, Row key, Row partial) throws SQLException {
        BitSet present = new BitSet();
        for (int i : t.writeCols) {
            if (!partial.isUnchanged(i)) {
                present.set(i);
            }
        }
        try (PreparedStatement ps = cx.prepareStatement(t.partialUpdate(part, present))) {
            int at = 1;
            for (int i = present.nextSetBit(0); i >= 0; i = present.nextSetBit(i + 1)) {
                ps.setString(at++, text(t, partial, i));
            }
            for (int j = 0; j < t.codec.keySize(); j++) {
                ps.setString(at++, t.codec.keyText(key, j));
            }
            if (ps.executeUpdate() == 0) {
                metrics.missedUpdate(t.id());
                log.debug("{}: an update of {} found no row (it may have been deleted later in the stream)", label(), t.id());
            }
        }
    }

    /** PostgreSQL text of a column value; values filled from the source are already text. */
    private static String text(TableApply t, Row row, int col) {
        Object v = row.get(col);
        return v instanceof ToastFiller.SourceText st ? st.text() : t.codec.text(row, col);
    }

    /** TRUNCATE of the table's local tables on this node, in one transaction with the given positions. */
    void truncate(TableApply t) throws InterruptedException {
        for (int attempt = 1; ; attempt++) {
            try (Statement st = connection().createStatement()) {
                List<String> locals = new ArrayList<>();
                for (int p : t.plan.partitionsOn(node, nodes)) {
                    locals.add(t.plan.partition(p).quoted());
                }
                st.execute("TRUNCATE " + String.join(", ", locals));
                c.commit();
                budget.succeeded(label());
                return;
            } catch (SQLException e) {
                rollbackQuietly();
                if (!SqlErrors.classify(e).retryable()) {
                    throw new TargetException(label() + ": cannot truncate " + t.id() + ": " + SqlErrors.describe(e));
                }
                closeQuietly();
                budget.failed(label(), e);
            }
        }
    }

    private Connection connection() throws SQLException {
        if (c == null || c.isClosed()) {
            c = conn.connect();
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                // the applier's writes are the source's writes: no triggers or FK checks of their own
                st.execute("SET session_replication_role = replica");
                // and its writes to global tables already go to every copy: never fanned out again
                st.execute(GlobalFanout.MARK_SESSION);
            }
            c.commit();
        }
        return c;
    }

    private void rollbackQuietly() {
        try {
            if (c != null && !c.isClosed()) {
                c.rollback();
            }
        } catch (SQLException ignored) {
            closeQuietly();
        }
    }

    private void closeQuietly() {
        try {
            if (c != null) {
                c.close();
            }
        } catch (SQLException ignored) {
            // reconnected next time
        }
        c = null;
    }

    @Override
    public void close() {
        closeQuietly();
    }
}
