package io.shardlift.ops.workflow;

import io.shardlift.core.TargetException;
import io.shardlift.core.ledger.CopyLedger;
import io.shardlift.core.ledger.MetaLedger;
import io.shardlift.core.ledger.StreamLedger;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.plan.TablePlan;
import io.shardlift.core.spec.ConnInfo;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/**
 * How far the copy and the stream have come, as node 0's ledgers record it: what the phase is derived from, read
 * afresh on every call (a restarted process, or one that lost its memory of a stage, sees the same). One connection
 * to node 0 serves every read, reopened once when it was lost: a status request should not cost a new backend.
 */
final class ProgressLedgers implements AutoCloseable {

    /**
     * @param copyStarted the copy began: the slot's consistent point, the stream binding or a chunk plan is recorded
     * @param copyDone    every table copied and indexed on every node (the snapshot recorded its end)
     */
    record Progress(boolean copyStarted, boolean copyDone) {
        static final Progress NOTHING = new Progress(false, false);
    }

    private final ConnInfo node0;
    private final List<String> tables;
    private Connection connection;

    ProgressLedgers(ClusterPlan plan) {
        this.node0 = plan.spec().nodes().get(0);
        this.tables = plan.tables().stream().map(TablePlan::id).map(Object::toString).toList();
    }

    synchronized Progress read() {
        for (int attempt = 1; ; attempt++) {
            boolean fresh = connection == null;
            try {
                if (fresh) {
                    connection = node0.connect();
                }
                return read(connection);
            } catch (SQLException e) {
                closeQuietly();
                if (fresh || attempt > 1) {
                    throw new TargetException("node 0 (" + node0.label() + "): cannot read the copy and stream ledgers: "
                            + e.getMessage() + " — check that node 0 is up", e);
                }
            }
        }
    }

    private Progress read(Connection c) throws SQLException {
        if (!MetaLedger.exists(c)) {
            return Progress.NOTHING; // not laid out yet
        }
        boolean bound = StreamLedger.read(c).isPresent();
        boolean done = MetaLedger.get(c, MetaLedger.SNAPSHOT_DONE).isPresent() && CopyLedger.copiedTables(c).containsAll(tables);
        boolean started = done || bound || MetaLedger.get(c, MetaLedger.CONSISTENT_POINT).isPresent()
                || !CopyLedger.plannedTables(c).isEmpty();
        return new Progress(started, done);
    }

    private void closeQuietly() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // reopened on the next read
            }
            connection = null;
        }
    }

    @Override
    public synchronized void close() {
        closeQuietly();
    }
}
