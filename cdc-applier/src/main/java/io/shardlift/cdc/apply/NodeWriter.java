package io.shardlift.cdc.apply;

import io.shardlift.cdc.apply.NodeBatch.Net;
import io.shardlift.cdc.apply.NodeBatch.Step;
import io.shardlift.cdc.event.Position;
import io.shardlift.cdc.event.Row;
import io.shardlift.core.SqlErrors;
import io.shardlift.core.TableId;
import io.shardlift.core.TargetException;
import io.shardlift.core.ledger.ApplyLedger;
import io.shardlift.core.plan.GlobalFanout;
import io.shardlift.core.spec.ConnInfo;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes what it is handed to one node: every batch is ONE transaction holding the data changes and, for each Kafka
 * partition, the offset and source position reached ({@link ApplyLedger#recordApplied}). After a crash the node's
 * positions say exactly what it has, so nothing is applied twice or skipped. Which node writes what was decided by
 * {@link ChangeRouter}; this class only carries it out, riding out connection loss within the retry budget.
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

    /** This node as the status shows it. */
    NodeApplyStatus status() {
        ApplyMetrics.NodeMeter m = metrics.node(node);
        var failing = budget.failing(label());
        return new NodeApplyStatus(node, conn.label(), m.rows.get(), m.batches.get(), m.lastBatchLagMs.get(),
                m.lastAppliedAtMillis.get(), failing.map(Map.Entry::getKey), failing.map(Map.Entry::getValue).orElse(0L));
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
                for (Step s : batch.ordered) {
                    applyStep(cx, s);
                }
            } else {
                for (var e : batch.work.entrySet()) {
                    applyTable(cx, e.getKey(), e.getValue());
                }
                for (Step s : batch.inOrder) {
                    applyStep(cx, s);
                }
            }
        }
        List<ApplyLedger.Applied> positions = new ArrayList<>(batch.progress.size());
        for (var p : batch.progress.entrySet()) {
            Position at = p.getValue().position();
            positions.add(new ApplyLedger.Applied(p.getKey().topic(), p.getKey().partition(), p.getValue().offset(),
                    at.previousCommitLsn(), at.lsn(), at.seq(), p.getValue().commitTimeMicros()));
        }
        ApplyLedger.recordApplied(cx, positions);
        cx.commit();
    }

    /** Net effect of one table: sweeps, bulk deletes, bulk upserts and partial updates per local partition table. */
    private void applyTable(Connection cx, TableApply t, Map<Integer, LinkedHashMap<Row, Net>> bySlot) throws SQLException {
        Map<Integer, List<Row>> deletes = new LinkedHashMap<>();
        Map<Integer, List<Row>> upserts = new LinkedHashMap<>();
        Map<Integer, List<Row[]>> partials = new LinkedHashMap<>(); // {key, partial row}
        List<Row> sweeps = new ArrayList<>();
        for (var slot : bySlot.values()) {
            for (var e : slot.entrySet()) {
                Net n = e.getValue();
                if (n.sweep) {
                    sweeps.add(e.getKey());
                }
                switch (n.write) {
                    case DELETE -> {
                        if (!n.sweep) {
                            deletes.computeIfAbsent(n.hashPartition, k -> new ArrayList<>()).add(e.getKey());
                        }
                    }
                    case UPSERT -> upserts.computeIfAbsent(n.hashPartition, k -> new ArrayList<>()).add(n.row);
                    case PARTIAL -> partials.computeIfAbsent(n.hashPartition, k -> new ArrayList<>()).add(new Row[] {e.getKey(), n.row});
                }
            }
        }
        // sweeps first: a row that moved is removed from where it was, then written where it now lives
        if (!sweeps.isEmpty()) {
            for (int p : t.plan.partitionsOn(node, nodes)) {
                bulkDelete(cx, t, t.plan.partition(p), sweeps);
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

    private static long countRows(Map<Integer, LinkedHashMap<Row, Net>> bySlot) {
        long n = 0;
        for (var m : bySlot.values()) {
            n += m.size();
        }
        return n;
    }

    /** One step as the router gave it, for the replay in source order. */
    private void applyStep(Connection cx, Step s) throws SQLException {
        TableApply t = s.table();
        if (s.sweep()) {
            List<Row> one = List.of(s.key());
            for (int p : t.plan.partitionsOn(node, nodes)) {
                bulkDelete(cx, t, t.plan.partition(p), one);
            }
        }
        switch (s.write()) {
            case DELETE -> {
                if (!s.sweep()) {
                    bulkDelete(cx, t, t.plan.partition(s.hashPartition()), List.of(s.key()));
                }
            }
            case UPSERT -> bulkUpsert(cx, t, t.plan.partition(s.hashPartition()), List.of(s.row()));
            case PARTIAL -> partialUpdate(cx, t, t.plan.partition(s.hashPartition()), s.key(), s.row());
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
        if (t.generatedAlways(part, cx).stream().anyMatch(i -> !t.isKeyColumn(i))) {
            // The target has a GENERATED ALWAYS identity outside the key (the reverse stream's source), which no UPDATE
            // can set: the rows go and come back whole, their value the cluster's (an INSERT may override it). The
            // applier's session_replication_role = replica keeps triggers and foreign-key actions out of it, as for its
            // other writes.
            int k = t.codec.keySize();
            String[][] keys = new String[k][rows.size()];
            for (int r = 0; r < rows.size(); r++) {
                for (int j = 0; j < k; j++) {
                    keys[j][r] = text(t, rows.get(r), t.codec.keyIndex(j));
                }
            }
            try (PreparedStatement ps = cx.prepareStatement(t.sql(part, cx).delete())) {
                for (int j = 0; j < k; j++) {
                    ps.setArray(j + 1, cx.createArrayOf("text", keys[j]));
                }
                ps.executeUpdate();
            }
        }
        try (PreparedStatement ps = cx.prepareStatement(t.sql(part, cx).upsert())) {
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
        try (PreparedStatement ps = cx.prepareStatement(t.sql(part, cx).delete())) {
            for (int j = 0; j < k; j++) {
                ps.setArray(j + 1, cx.createArrayOf("text", arrays[j]));
            }
            ps.executeUpdate();
        }
    }

    private void partialUpdate(Connection cx, TableApply t, TableId part, Row key, Row partial) throws SQLException {
        // the key columns are not set: the row is found by them and they hold the same values (a key change travels as
        // DELETE + INSERT), and setting one that is a GENERATED ALWAYS identity on the target (the reverse stream's
        // source) is refused, whatever its value; so is setting one that is not a key column: it keeps its value
        BitSet always = t.generatedAlways(part, cx);
        BitSet present = new BitSet();
        for (int i : t.writeCols) {
            if (!partial.isUnchanged(i) && !t.isKeyColumn(i) && !always.get(i)) {
                present.set(i);
            }
        }
        if (present.isEmpty()) {
            return; // only the key and unchanged TOAST: nothing to change
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
        List<String> locals = new ArrayList<>();
        for (int p : t.plan.partitionsOn(node, nodes)) {
            locals.add(t.plan.partition(p).quoted());
        }
        run(t, "TRUNCATE " + String.join(", ", locals), "cannot truncate " + t.id());
    }

    /**
     * The rows of {@code partition}, a partition of {@code t} elsewhere, removed from {@code t} on this node by
     * {@code delete} (see {@link ApplyConfig#partitionTruncates}), in one transaction.
     */
    void truncatePart(TableApply t, io.shardlift.core.TableId partition, String delete) throws InterruptedException {
        run(t, delete, "cannot remove the rows of the truncated partition " + partition + " from " + t.id());
    }

    private void run(TableApply t, String sql, String what) throws InterruptedException {
        for (int attempt = 1; ; attempt++) {
            try (Statement st = connection().createStatement()) {
                st.execute(sql);
                c.commit();
                budget.succeeded(label());
                return;
            } catch (SQLException e) {
                rollbackQuietly();
                if (!SqlErrors.classify(e).retryable()) {
                    throw new TargetException(label() + ": " + what + ": " + SqlErrors.describe(e));
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
