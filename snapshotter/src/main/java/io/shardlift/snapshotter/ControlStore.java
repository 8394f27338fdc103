package io.shardlift.snapshotter;

import io.shardlift.core.SqlErrors;
import io.shardlift.core.TableId;
import io.shardlift.core.TargetException;
import io.shardlift.core.ledger.CopyLedger.Chunk;
import io.shardlift.core.ledger.CopyLedger;
import io.shardlift.core.ledger.MetaLedger;
import io.shardlift.core.spec.ConnInfo;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The snapshot's access to the copy's durable state ({@link CopyLedger}, {@link MetaLedger}) on the nodes. Node 0 holds the
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

    Optional<CopyLedger.TableState> tableState(TableId table) {
        try {
            return withShared(0, c -> CopyLedger.tableState(c, table.toString()));
        } catch (SQLException e) {
            throw new TargetException(label(0) + ": cannot read the copy state of " + table + ": " + e.getMessage(), e);
        }
    }

    /** Fixes a table's chunks before its first row is copied; they never change afterwards. */
    void saveChunkPlan(TableId table, String keyColumn, List<Chunk> chunks, long estimatedRows) {
        try {
            withShared(0, c -> {
                CopyLedger.savePlan(c, table.toString(), keyColumn, chunks, estimatedRows);
                return null;
            });
        } catch (SQLException e) {
            throw new TargetException(label(0) + ": cannot record the chunks of " + table + ": " + e.getMessage(), e);
        }
    }

    /** When the table's copy (re)starts in this run. */
    void markStarted(TableId table) {
        update(0, c -> CopyLedger.markStarted(c, table.toString()));
    }

    void markCopied(TableId table) {
        update(0, c -> CopyLedger.markCopied(c, table.toString()));
    }

    /** Chunks of {@code table} whose rows {@code node} holds. */
    Set<Integer> doneChunks(int node, TableId table) {
        try {
            return withShared(node, c -> CopyLedger.doneChunks(c, table.toString()));
        } catch (SQLException e) {
            throw new TargetException(label(node) + ": cannot read the copy progress: " + e.getMessage(), e);
        }
    }

    boolean indexed(int node, TableId table) {
        try {
            return withShared(node, c -> CopyLedger.indexed(c, table.toString()));
        } catch (SQLException e) {
            throw new TargetException(label(node) + ": cannot read the index progress: " + e.getMessage(), e);
        }
    }

    void putMeta(String key, String value) {
        update(0, c -> MetaLedger.put(c, key, value));
    }

    Optional<String> meta(String key) {
        try {
            return withShared(0, c -> MetaLedger.get(c, key));
        } catch (SQLException e) {
            throw new TargetException(label(0) + ": cannot read " + key + ": " + e.getMessage(), e);
        }
    }

    @FunctionalInterface
    private interface Write {
        void on(Connection c) throws SQLException;
    }

    private void update(int node, Write write) {
        try {
            withShared(node, c -> {
                write.on(c);
                return null;
            });
        } catch (SQLException e) {
            throw new TargetException(label(node) + ": " + e.getMessage(), e);
        }
    }
}
