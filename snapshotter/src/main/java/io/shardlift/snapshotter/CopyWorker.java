package io.shardlift.snapshotter;

import io.shardlift.core.SourceException;
import io.shardlift.core.SqlErrors;
import io.shardlift.core.TargetException;
import io.shardlift.core.ledger.CopyLedger.Chunk;
import io.shardlift.core.ledger.CopyLedger;
import io.shardlift.core.plan.GlobalFanout;
import io.shardlift.core.spec.ConnInfo;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;
import org.postgresql.copy.CopyOut;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One copy job: a source connection inside the imported snapshot for its whole life, and one connection
 * per node. A chunk is one transaction per node that holds the chunk's rows for that node together with
 * its row in {@code shardlift.copy_done}: after any crash a node has all of a chunk or none of it.
 */
final class CopyWorker implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(CopyWorker.class);
    static final int NODE_RETRIES = 3;

    private final int id;
    private final ControlStore store;
    private final String snapshotName;
    private final Connection source;
    /** Outside the snapshot, for the source's catalog as it is now (the snapshot's transaction reads it as it was). */
    private final Connection catalog;
    private final CopyManager sourceCopy;
    private final Connection[] nodes;

    CopyWorker(int id, ConnInfo sourceInfo, ControlStore store, String snapshotName) {
        this.id = id;
        this.store = store;
        this.snapshotName = snapshotName;
        this.nodes = new Connection[store.nodeCount()];
        try {
            source = sourceInfo.connect();
            source.setAutoCommit(false);
            try (Statement st = source.createStatement()) {
                st.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
                st.execute("SET TRANSACTION SNAPSHOT '" + snapshotName.replace("'", "''") + "'");
                st.execute("SET LOCAL idle_in_transaction_session_timeout = 0");
                st.execute("SET LOCAL statement_timeout = 0");
            }
            sourceCopy = source.unwrap(PGConnection.class).getCopyAPI();
            catalog = sourceInfo.connect();
        } catch (SQLException e) {
            throw new SourceException("source " + sourceInfo.label() + ": copy job " + id + " cannot import snapshot "
                    + snapshotName + ": " + e.getMessage(), e);
        }
    }

    /** Copies {@code chunk} to the nodes flagged in {@code needed}, retrying a node that dropped its connection. */
    void copy(TableCopy table, Chunk chunk, boolean[] needed, CopyProgress progress) throws InterruptedException {
        for (int attempt = 1; ; attempt++) {
            try {
                copyOnce(table, chunk, needed, progress);
                return;
            } catch (NodeFailure e) {
                closeNode(e.node);
                if (!e.retryable() || attempt > NODE_RETRIES) {
                    throw new TargetException(store.label(e.node) + ": copying chunk " + chunk.index() + " of " + table.plan.id()
                            + (e.retryable() ? " failed " + attempt + " times, last: " : " failed: ") + e.getCause().getMessage(),
                            e.getCause());
                }
                long backoff = 500L << attempt;
                log.warn("{}: chunk {} of {} failed ({}); retrying in {} ms (attempt {} of {})", store.label(e.node),
                        chunk.index(), table.plan.id(), e.getCause().getMessage(), backoff, attempt + 1, NODE_RETRIES + 1);
                Thread.sleep(backoff);
            }
        }
    }

    private void copyOnce(TableCopy table, Chunk chunk, boolean[] needed, CopyProgress progress) {
        try (Statement st = source.createStatement()) {
            // a failed chunk rolls back to here, and the snapshot transaction lives on; the lock, taken before the
            // catalog is read, keeps a schema change from coming between that read and the chunk's COPY
            st.execute("SAVEPOINT chunk");
            st.execute("LOCK TABLE " + table.plan.id().quoted() + " IN ACCESS SHARE MODE");
        } catch (SQLException e) {
            abandon(new NodeCopySink[nodes.length], null);
            throw new SourceException("source: copying chunk " + chunk.index() + " of " + table.plan.id() + ": " + e.getMessage(), e);
        }
        TableCopy.Columns columns;
        NodeCopySink[] sinks = new NodeCopySink[nodes.length];
        try {
            columns = columnsNow(table);
            for (int n = 0; n < nodes.length; n++) {
                if (needed[n]) {
                    try {
                        allowNull(node(n), table, columns.dropped());
                        sinks[n] = new NodeCopySink(n, node(n).unwrap(PGConnection.class).getCopyAPI(), table.copyInSql());
                    } catch (SQLException e) {
                        throw new NodeFailure(n, e);
                    }
                }
            }
        } catch (RuntimeException e) {
            abandon(sinks, null);
            throw e;
        }
        TupleRouter router = table.router(sinks);
        CopyOut out = null;
        try {
            out = sourceCopy.copyOut(table.copyOutSql(chunk, columns));
            long reported = 0;
            byte[] msg;
            while ((msg = out.readFromCopy()) != null) {
                router.accept(msg, 0, msg.length);
                if (router.rows() - reported >= 4096) {
                    progress.add(table.plan.id(), router.rows() - reported, 0);
                    reported = router.rows();
                }
            }
            out = null;
            if (!router.complete()) {
                throw new SQLException("binary COPY of " + table.plan.id() + " ended without its trailer");
            }
            progress.add(table.plan.id(), router.rows() - reported, router.bytes());
            for (int n = 0; n < nodes.length; n++) {
                if (needed[n]) {
                    commitNode(n, sinks[n], table, chunk, router);
                }
            }
            try (Statement st = source.createStatement()) {
                // read-only, so nothing is undone: this releases the chunk's lock on the table, which RELEASE would keep
                // to the end of the copy, making a schema change of the table (and the application's queries queued
                // behind it) wait for every other table's copy
                st.execute("ROLLBACK TO SAVEPOINT chunk");
                st.execute("RELEASE SAVEPOINT chunk");
            }
        } catch (NodeCopySink.CopySinkException e) {
            abandon(sinks, out);
            throw new NodeFailure(e.node, e.getCause());
        } catch (NodeFailure e) {
            abandon(sinks, out);
            throw e;
        } catch (SQLException | RuntimeException e) {
            abandon(sinks, out);
            throw new SourceException("source: copying chunk " + chunk.index() + " of " + table.plan.id() + ": " + e.getMessage(), e);
        }
    }

    /**
     * The table's columns in the source's catalog now. A change of the table's shape after the slot's consistent point
     * reaches the nodes through the stream, after the copy; meanwhile the copy reads the snapshot's rows through the
     * catalog as it is now ({@link TableCopy#columnsNow}).
     */
    private TableCopy.Columns columnsNow(TableCopy table) {
        java.util.Map<Integer, String> current = new java.util.HashMap<>();
        try (java.sql.PreparedStatement ps = catalog.prepareStatement("SELECT attnum, attname FROM pg_attribute"
                + " WHERE attrelid = to_regclass(?) AND attnum > 0 AND NOT attisdropped")) {
            ps.setString(1, table.plan.id().quoted());
            try (java.sql.ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    current.put(rs.getInt(1), rs.getString(2));
                }
            }
        } catch (SQLException e) {
            throw new SourceException("source: reading the columns of " + table.plan.id() + ": " + e.getMessage(), e);
        }
        if (current.isEmpty()) {
            throw new SourceException("source: " + table.plan.id() + " no longer exists (dropped or renamed after the migration"
                    + " began); its copy cannot go on. Take it out of the migration's spec and run again, or recreate it");
        }
        TableCopy.Columns columns = table.columnsNow(current);
        for (var c : columns.dropped()) {
            if (table.keyColumns().contains(c.name())) {
                throw new SourceException("source: column " + c.name() + " of " + table.plan.id() + " was dropped after the"
                        + " migration began, before the table's copy; it is part of the table's sharding or primary key, so its"
                        + " rows can no longer be copied or routed. Take " + table.plan.id() + " out of the migration's spec and"
                        + " migrate it again with its new definition");
            }
        }
        if (!columns.asPlanned() && table.shapeChangeSaid.compareAndSet(false, true)) {
            // once per table, not once per chunk
            log.info("{}: its shape changed on the source after the migration began; the copy reads the snapshot's rows as"
                    + " {} (the nodes follow the change through the stream)", table.plan.id(), columns.select());
        }
        return columns;
    }

    /**
     * A column dropped on the source since the snapshot is copied as NULL, so a NOT NULL on the node's copy of it must go
     * first; the node drops the column itself at the change's place in the stream. In the chunk's transaction.
     */
    private static void allowNull(Connection node, TableCopy table, java.util.List<io.shardlift.core.catalog.ColumnInfo> dropped)
            throws SQLException {
        for (var c : dropped) {
            try (java.sql.PreparedStatement ps = node.prepareStatement("SELECT attnotnull FROM pg_attribute"
                    + " WHERE attrelid = to_regclass(?) AND attname = ? AND NOT attisdropped")) {
                ps.setString(1, table.plan.id().quoted());
                ps.setString(2, c.name());
                try (java.sql.ResultSet rs = ps.executeQuery()) {
                    if (!rs.next() || !rs.getBoolean(1)) {
                        continue;
                    }
                }
            }
            try (Statement st = node.createStatement()) {
                st.execute("ALTER TABLE " + table.plan.id().quoted() + " ALTER COLUMN " + io.shardlift.core.Sql.ident(c.name())
                        + " DROP NOT NULL");
            }
        }
    }

    private void commitNode(int n, NodeCopySink sink, TableCopy table, Chunk chunk, TupleRouter router) {
        try {
            long rows = sink.finish();
            CopyLedger.recordChunk(nodes[n], table.plan.id().toString(), chunk.index(), rows, router.bytes(), snapshotName);
            nodes[n].commit();
        } catch (SQLException e) {
            throw new NodeFailure(n, e);
        }
    }

    /** Rolls the chunk back everywhere: node transactions and the source up to the savepoint. */
    private void abandon(NodeCopySink[] sinks, CopyOut out) {
        for (int n = 0; n < sinks.length; n++) {
            if (sinks[n] != null) {
                sinks[n].abort();
                try {
                    if (nodes[n] != null) {
                        nodes[n].rollback();
                    }
                } catch (SQLException ignored) {
                    closeNode(n);
                }
            }
        }
        try {
            if (out != null && out.isActive()) {
                out.cancelCopy();
            }
        } catch (SQLException ignored) {
            // the rollback below ends it
        }
        try (Statement st = source.createStatement()) {
            st.execute("ROLLBACK TO SAVEPOINT chunk");
        } catch (SQLException e) {
            throw new SourceException("source: the copy transaction was lost (" + e.getMessage()
                    + ") — run the command again: it resumes from the chunks already copied", e);
        }
    }

    private Connection node(int n) throws SQLException {
        if (nodes[n] == null) {
            Connection c = store.connect(n);
            try (Statement st = c.createStatement()) {
                // the copy fills every node's copy of a global table itself: its rows must not fan out again
                st.execute(GlobalFanout.MARK_SESSION);
            }
            c.setAutoCommit(false);
            nodes[n] = c;
        }
        return nodes[n];
    }

    private void closeNode(int n) {
        if (nodes[n] != null) {
            ControlStore.closeQuietly(nodes[n]); // reconnected on the next attempt
            nodes[n] = null;
        }
    }

    @Override
    public void close() {
        for (int n = 0; n < nodes.length; n++) {
            closeNode(n);
        }
        ControlStore.closeQuietly(catalog);
        try {
            source.rollback();
            source.close();
        } catch (SQLException ignored) {
            // read-only transaction: nothing to lose
        }
    }

    int id() {
        return id;
    }

    /** A node's connection broke during a chunk; the chunk is retried on a fresh connection. */
    private static final class NodeFailure extends RuntimeException {
        final int node;

        NodeFailure(int node, SQLException cause) {
            super(cause.getMessage(), cause);
            this.node = node;
        }

        /** Connection loss, server shutdown, serialization failure or deadlock: worth a retry; data errors are not. */
        boolean retryable() {
            return SqlErrors.classify((SQLException) getCause()).retryable();
        }
    }
}
