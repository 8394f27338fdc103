package io.shardlift.snapshotter;

import io.shardlift.core.SqlErrors;
import io.shardlift.core.TableId;
import io.shardlift.core.TargetException;
import io.shardlift.core.ledger.LedgerSchema;
import io.shardlift.core.spec.ConnInfo;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Reads and writes the copy's durable state in the nodes' {@code shardlift} schema. Node 0 holds the
 * cluster-wide facts (chunk plans, per-table copy state, the consistent point); every node holds which
 * chunks and indexes it has, written in the transaction that wrote them.
 *
 * <p>One connection per node serves every read and write of the store, for the store's life: a PostgreSQL
 * backend costs a fork and a catalog cache warm-up (40 ms of node CPU each on the benchmark machine), and a
 * snapshot used to open some 50 of them for control statements alone. A connection lost between two calls
 * (a node restarted) is replaced once, transparently; a second failure is the caller's.
 */
final class ControlStore implements AutoCloseable {

    private final List<ConnInfo> nodes;
    private final Connection[] shared;
    private final Object[] locks;

    ControlStore(List<ConnInfo> nodes) {
        this.nodes = List.copyOf(nodes);
        this.shared = new Connection[nodes.size()];
        this.locks = new Object[nodes.size()];
        for (int n = 0; n < locks.length; n++) {
            locks[n] = new Object();
        }
    }

    /** A new connection of the caller's own, for work that needs its own transaction or session (copy, indexes). */
    Connection connect(int node) throws SQLException {
        ConnInfo c = nodes.get(node);
        return c.connect();
    }

    @FunctionalInterface
    private interface Work<T> {
        T on(Connection c) throws SQLException;
    }

    /** Runs {@code work} on the node's shared connection (autocommit), again on a fresh one if the connection was lost. */
    private <T> T withShared(int node, Work<T> work) throws SQLException {
        synchronized (locks[node]) {
            for (int attempt = 1; ; attempt++) {
                boolean fresh = shared[node] == null;
                if (fresh) {
                    shared[node] = connect(node);
                }
                try {
                    return work.on(shared[node]);
                } catch (SQLException e) {
                    boolean lost = connectionLost(e);
                    if (!lost) {
                        try {
                            if (!shared[node].getAutoCommit()) {
                                shared[node].rollback();
                                shared[node].setAutoCommit(true);
                            }
                        } catch (SQLException unusable) {
                            lost = true;
                        }
                    }
                    if (lost) {
                        // never reuse a connection in doubt: the next call opens a fresh one
                        closeQuietly(shared[node]);
                        shared[node] = null;
                    }
                    if (fresh || attempt > 1 || !lost) {
                        throw e;
                    }
                }
            }
        }
    }

    private static boolean connectionLost(SQLException e) {
        return SqlErrors.classify(e) == SqlErrors.Kind.CONNECTION_LOST;
    }

    /** Closes a connection that is done with or broken; nothing of it is worth an error any more. */
    static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // already gone
        }
    }

    @Override
    public void close() {
        for (int n = 0; n < shared.length; n++) {
            synchronized (locks[n]) {
                if (shared[n] != null) {
                    closeQuietly(shared[n]);
                    shared[n] = null;
                }
            }
        }
    }

    String label(int node) {
        return "node " + node + " (" + nodes.get(node).label() + ")";
    }

    int nodeCount() {
        return nodes.size();
    }

    record TableState(String keyColumn, List<Chunk> chunks, long estimatedRows, boolean copied) {
    }

    Optional<TableState> tableState(TableId table) {
        try {
            return withShared(0, c -> {
                String keyColumn;
                long est;
                boolean copied;
                try (PreparedStatement ps = c.prepareStatement("SELECT key_column, chunks, estimated_rows, copied_at IS NOT NULL FROM "
                        + LedgerSchema.COPY_TABLE + " WHERE table_name = ?")) {
                    ps.setString(1, table.toString());
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next()) {
                            return Optional.empty();
                        }
                        keyColumn = rs.getString(1);
                        est = rs.getLong(3);
                        copied = rs.getBoolean(4);
                    }
                }
                List<Chunk> chunks = new ArrayList<>();
                try (PreparedStatement ps = c.prepareStatement("SELECT chunk, lo, hi FROM " + LedgerSchema.COPY_CHUNK
                        + " WHERE table_name = ? ORDER BY chunk")) {
                    ps.setString(1, table.toString());
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            chunks.add(new Chunk(rs.getInt(1), Optional.ofNullable(rs.getString(2)), Optional.ofNullable(rs.getString(3))));
                        }
                    }
                }
                return Optional.of(new TableState(keyColumn, chunks, est, copied));
            });
        } catch (SQLException e) {
            throw new TargetException(label(0) + ": cannot read the copy state of " + table + ": " + e.getMessage(), e);
        }
    }

    /** Fixes a table's chunks before its first row is copied; they never change afterwards. */
    void saveChunkPlan(TableId table, String keyColumn, List<Chunk> chunks, long estimatedRows) {
        try {
            withShared(0, c -> {
                c.setAutoCommit(false);
                try (PreparedStatement t = c.prepareStatement("INSERT INTO " + LedgerSchema.COPY_TABLE
                        + " (table_name, key_column, chunks, estimated_rows) VALUES (?, ?, ?, ?)");
                     PreparedStatement ch = c.prepareStatement("INSERT INTO " + LedgerSchema.COPY_CHUNK
                             + " (table_name, chunk, lo, hi) VALUES (?, ?, ?, ?)")) {
                    t.setString(1, table.toString());
                    t.setString(2, keyColumn);
                    t.setInt(3, chunks.size());
                    t.setLong(4, estimatedRows);
                    t.executeUpdate();
                    for (Chunk k : chunks) {
                        ch.setString(1, table.toString());
                        ch.setInt(2, k.index());
                        ch.setString(3, k.lo().orElse(null));
                        ch.setString(4, k.hi().orElse(null));
                        ch.addBatch();
                    }
                    ch.executeBatch();
                }
                c.commit();
                c.setAutoCommit(true);
                return null;
            });
        } catch (SQLException e) {
            throw new TargetException(label(0) + ": cannot record the chunks of " + table + ": " + e.getMessage(), e);
        }
    }

    /** When the table's copy (re)starts in this run. */
    void markStarted(TableId table) {
        update(0, "UPDATE " + LedgerSchema.COPY_TABLE + " SET started_at = clock_timestamp() WHERE table_name = ?", table.toString());
    }

    void markCopied(TableId table) {
        update(0, "UPDATE " + LedgerSchema.COPY_TABLE + " SET copied_at = clock_timestamp() WHERE table_name = ? AND copied_at IS NULL",
                table.toString());
    }

    /** Chunks of {@code table} whose rows {@code node} holds. */
    Set<Integer> doneChunks(int node, TableId table) {
        try {
            return withShared(node, c -> {
                try (PreparedStatement ps = c.prepareStatement("SELECT chunk FROM " + LedgerSchema.COPY_DONE + " WHERE table_name = ?")) {
                    ps.setString(1, table.toString());
                    Set<Integer> done = new HashSet<>();
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            done.add(rs.getInt(1));
                        }
                    }
                    return done;
                }
            });
        } catch (SQLException e) {
            throw new TargetException(label(node) + ": cannot read the copy progress: " + e.getMessage(), e);
        }
    }

    boolean indexed(int node, TableId table) {
        try {
            return withShared(node, c -> {
                try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM " + LedgerSchema.COPY_INDEX + " WHERE table_name = ?")) {
                    ps.setString(1, table.toString());
                    try (ResultSet rs = ps.executeQuery()) {
                        return rs.next();
                    }
                }
            });
        } catch (SQLException e) {
            throw new TargetException(label(node) + ": cannot read the index progress: " + e.getMessage(), e);
        }
    }

    void putMeta(String key, String value) {
        update(0, "INSERT INTO " + LedgerSchema.META + " (key, value) VALUES (?, ?)"
                + " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()", key, value);
    }

    Optional<String> meta(String key) {
        try {
            return withShared(0, c -> {
                try (PreparedStatement ps = c.prepareStatement("SELECT value FROM " + LedgerSchema.META + " WHERE key = ?")) {
                    ps.setString(1, key);
                    try (ResultSet rs = ps.executeQuery()) {
                        return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
                    }
                }
            });
        } catch (SQLException e) {
            throw new TargetException(label(0) + ": cannot read " + key + ": " + e.getMessage(), e);
        }
    }

    private void update(int node, String sql, String... args) {
        try {
            withShared(node, c -> {
                try (PreparedStatement ps = c.prepareStatement(sql)) {
                    for (int i = 0; i < args.length; i++) {
                        ps.setString(i + 1, args[i]);
                    }
                    return ps.executeUpdate();
                }
            });
        } catch (SQLException e) {
            throw new TargetException(label(node) + ": " + e.getMessage(), e);
        }
    }
}
