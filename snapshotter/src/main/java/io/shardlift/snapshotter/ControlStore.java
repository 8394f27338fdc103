package io.shardlift.snapshotter;

import io.shardlift.router.TableId;
import io.shardlift.router.TargetException;
import io.shardlift.router.plan.ControlSchema;
import io.shardlift.router.spec.ConnInfo;
import java.sql.Connection;
import java.sql.DriverManager;
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
 */
final class ControlStore {

    private final List<ConnInfo> nodes;

    ControlStore(List<ConnInfo> nodes) {
        this.nodes = List.copyOf(nodes);
    }

    Connection connect(int node) throws SQLException {
        ConnInfo c = nodes.get(node);
        return DriverManager.getConnection(c.jdbcUrl(), c.jdbcProperties());
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
        try (Connection c = connect(0)) {
            String keyColumn;
            long est;
            boolean copied;
            try (PreparedStatement ps = c.prepareStatement("SELECT key_column, chunks, estimated_rows, copied_at IS NOT NULL FROM "
                    + ControlSchema.COPY_TABLE + " WHERE table_name = ?")) {
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
            try (PreparedStatement ps = c.prepareStatement("SELECT chunk, lo, hi FROM " + ControlSchema.COPY_CHUNK
                    + " WHERE table_name = ? ORDER BY chunk")) {
                ps.setString(1, table.toString());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        chunks.add(new Chunk(rs.getInt(1), Optional.ofNullable(rs.getString(2)), Optional.ofNullable(rs.getString(3))));
                    }
                }
            }
            return Optional.of(new TableState(keyColumn, chunks, est, copied));
        } catch (SQLException e) {
            throw new TargetException(label(0) + ": cannot read the copy state of " + table + ": " + e.getMessage(), e);
        }
    }

    /** Fixes a table's chunks before its first row is copied; they never change afterwards. */
    void saveChunkPlan(TableId table, String keyColumn, List<Chunk> chunks, long estimatedRows) {
        try (Connection c = connect(0)) {
            c.setAutoCommit(false);
            try (PreparedStatement t = c.prepareStatement("INSERT INTO " + ControlSchema.COPY_TABLE
                    + " (table_name, key_column, chunks, estimated_rows) VALUES (?, ?, ?, ?)");
                 PreparedStatement ch = c.prepareStatement("INSERT INTO " + ControlSchema.COPY_CHUNK
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
        } catch (SQLException e) {
            throw new TargetException(label(0) + ": cannot record the chunks of " + table + ": " + e.getMessage(), e);
        }
    }

    /** When the table's copy (re)starts in this run. */
    void markStarted(TableId table) {
        update(0, "UPDATE " + ControlSchema.COPY_TABLE + " SET started_at = clock_timestamp() WHERE table_name = ?", table.toString());
    }

    void markCopied(TableId table) {
        update(0, "UPDATE " + ControlSchema.COPY_TABLE + " SET copied_at = clock_timestamp() WHERE table_name = ? AND copied_at IS NULL",
                table.toString());
    }

    /** Chunks of {@code table} whose rows {@code node} holds. */
    Set<Integer> doneChunks(int node, TableId table) {
        try (Connection c = connect(node); PreparedStatement ps = c.prepareStatement(
                "SELECT chunk FROM " + ControlSchema.COPY_DONE + " WHERE table_name = ?")) {
            ps.setString(1, table.toString());
            Set<Integer> done = new HashSet<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    done.add(rs.getInt(1));
                }
            }
            return done;
        } catch (SQLException e) {
            throw new TargetException(label(node) + ": cannot read the copy progress: " + e.getMessage(), e);
        }
    }

    boolean indexed(int node, TableId table) {
        try (Connection c = connect(node); PreparedStatement ps = c.prepareStatement(
                "SELECT 1 FROM " + ControlSchema.COPY_INDEX + " WHERE table_name = ?")) {
            ps.setString(1, table.toString());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        } catch (SQLException e) {
            throw new TargetException(label(node) + ": cannot read the index progress: " + e.getMessage(), e);
        }
    }

    void putMeta(String key, String value) {
        update(0, "INSERT INTO " + ControlSchema.META + " (key, value) VALUES (?, ?)"
                + " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()", key, value);
    }

    Optional<String> meta(String key) {
        try (Connection c = connect(0); PreparedStatement ps = c.prepareStatement(
                "SELECT value FROM " + ControlSchema.META + " WHERE key = ?")) {
            ps.setString(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new TargetException(label(0) + ": cannot read " + key + ": " + e.getMessage(), e);
        }
    }

    private void update(int node, String sql, String... args) {
        try (Connection c = connect(node); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setString(i + 1, args[i]);
            }
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new TargetException(label(node) + ": " + e.getMessage(), e);
        }
    }
}
