package io.shardlift.core.ledger;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The copy's ledger. Node 0 holds each table's chunk plan, fixed before its first row is copied, and its state across
 * the cluster ({@link LedgerSchema#COPY_TABLE}, {@link LedgerSchema#COPY_CHUNK}); every node holds the chunks whose
 * rows it has ({@link LedgerSchema#COPY_DONE}), written in the transaction that wrote those rows, and the tables it
 * has built keys and indexes for. The applier starts applying a table's changes only once both say it is ready.
 * Tables are named {@code schema.table}, as {@code TableId.toString()} prints them.
 */
public final class CopyLedger {

    /**
     * A key range of one table: {@code lo <= key < hi} on the first primary-key column, unbounded where empty.
     * Key ranges, not ctid ranges: a row's key does not change between snapshots, so a chunk recopied under a fresh
     * snapshot holds exactly the rows it would have held, and no row can move into a chunk already done.
     */
    public record Chunk(int index, Optional<String> lo, Optional<String> hi) {

        public static Chunk whole() {
            return new Chunk(0, Optional.empty(), Optional.empty());
        }
    }

    /** A table's copy as node 0 records it. */
    public record TableState(String keyColumn, List<Chunk> chunks, long estimatedRows, boolean copied) {
        public TableState {
            chunks = List.copyOf(chunks);
        }
    }

    private CopyLedger() {
    }

    /** The table's chunk plan and whether its copy is complete, from node 0; empty before its plan was saved. */
    public static Optional<TableState> tableState(Connection node0, String table) throws SQLException {
        String keyColumn;
        long estimated;
        boolean copied;
        try (PreparedStatement ps = node0.prepareStatement("SELECT key_column, estimated_rows, copied_at IS NOT NULL FROM "
                + LedgerSchema.COPY_TABLE + " WHERE table_name = ?")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                keyColumn = rs.getString(1);
                estimated = rs.getLong(2);
                copied = rs.getBoolean(3);
            }
        }
        List<Chunk> chunks = new ArrayList<>();
        try (PreparedStatement ps = node0.prepareStatement("SELECT chunk, lo, hi FROM " + LedgerSchema.COPY_CHUNK
                + " WHERE table_name = ? ORDER BY chunk")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    chunks.add(new Chunk(rs.getInt(1), Optional.ofNullable(rs.getString(2)), Optional.ofNullable(rs.getString(3))));
                }
            }
        }
        return Optional.of(new TableState(keyColumn, chunks, estimated, copied));
    }

    /** Fixes a table's chunks on node 0 before its first row is copied, in one transaction; they never change afterwards. */
    public static void savePlan(Connection node0, String table, String keyColumn, List<Chunk> chunks, long estimatedRows)
            throws SQLException {
        Tx.atomically(node0, c -> {
            try (PreparedStatement t = c.prepareStatement("INSERT INTO " + LedgerSchema.COPY_TABLE
                    + " (table_name, key_column, chunks, estimated_rows) VALUES (?, ?, ?, ?)");
                 PreparedStatement ch = c.prepareStatement("INSERT INTO " + LedgerSchema.COPY_CHUNK
                         + " (table_name, chunk, lo, hi) VALUES (?, ?, ?, ?)")) {
                t.setString(1, table);
                t.setString(2, keyColumn);
                t.setInt(3, chunks.size());
                t.setLong(4, estimatedRows);
                t.executeUpdate();
                for (Chunk k : chunks) {
                    ch.setString(1, table);
                    ch.setInt(2, k.index());
                    ch.setString(3, k.lo().orElse(null));
                    ch.setString(4, k.hi().orElse(null));
                    ch.addBatch();
                }
                ch.executeBatch();
            }
            return null;
        });
    }

    /** When the table's copy (re)starts in this run. */
    public static void markStarted(Connection node0, String table) throws SQLException {
        update(node0, "UPDATE " + LedgerSchema.COPY_TABLE + " SET started_at = clock_timestamp() WHERE table_name = ?", table);
    }

    /** Every node holds every chunk of the table; the first time counts. */
    public static void markCopied(Connection node0, String table) throws SQLException {
        update(node0, "UPDATE " + LedgerSchema.COPY_TABLE + " SET copied_at = clock_timestamp() WHERE table_name = ?"
                + " AND copied_at IS NULL", table);
    }

    /**
     * Records that this node holds chunk {@code chunk} of {@code table}: call it in the transaction that wrote the
     * chunk's rows, so after any crash the node has all of a chunk and its row, or neither. A chunk recorded twice is
     * a unique violation: its rows would be there twice.
     */
    public static void recordChunk(Connection node, String table, int chunk, long rows, long bytes, String snapshot)
            throws SQLException {
        try (PreparedStatement ps = node.prepareStatement("INSERT INTO " + LedgerSchema.COPY_DONE
                + " (table_name, chunk, rows, bytes, snapshot) VALUES (?, ?, ?, ?, ?)")) {
            ps.setString(1, table);
            ps.setInt(2, chunk);
            ps.setLong(3, rows);
            ps.setLong(4, bytes);
            ps.setString(5, snapshot);
            ps.executeUpdate();
        }
    }

    /** Chunks of {@code table} whose rows this node holds. */
    public static Set<Integer> doneChunks(Connection node, String table) throws SQLException {
        Set<Integer> done = new HashSet<>();
        try (PreparedStatement ps = node.prepareStatement("SELECT chunk FROM " + LedgerSchema.COPY_DONE + " WHERE table_name = ?")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    done.add(rs.getInt(1));
                }
            }
        }
        return done;
    }

    /** Records that this node built the table's keys and indexes (in the transaction that built them, if any). */
    public static void recordIndexed(Connection node, String table) throws SQLException {
        update(node, "INSERT INTO " + LedgerSchema.COPY_INDEX + " (table_name) VALUES (?) ON CONFLICT DO NOTHING", table);
    }

    public static boolean indexed(Connection node, String table) throws SQLException {
        try (PreparedStatement ps = node.prepareStatement("SELECT 1 FROM " + LedgerSchema.COPY_INDEX + " WHERE table_name = ?")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** Tables whose copy is complete across the cluster, on node 0's record. */
    public static Set<String> copiedTables(Connection node0) throws SQLException {
        return strings(node0, "SELECT table_name FROM " + LedgerSchema.COPY_TABLE + " WHERE copied_at IS NOT NULL");
    }

    /** Tables whose chunk plan node 0 holds: their copy has begun (or is done). */
    public static Set<String> plannedTables(Connection node0) throws SQLException {
        return strings(node0, "SELECT table_name FROM " + LedgerSchema.COPY_TABLE);
    }

    /** Tables whose keys and indexes this node has built. */
    public static Set<String> indexedTables(Connection node) throws SQLException {
        return strings(node, "SELECT table_name FROM " + LedgerSchema.COPY_INDEX);
    }

    private static void update(Connection c, String sql, String table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, table);
            ps.executeUpdate();
        }
    }

    private static Set<String> strings(Connection c, String sql) throws SQLException {
        Set<String> out = new LinkedHashSet<>();
        try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }
}
