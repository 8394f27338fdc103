package io.shardlift.core.ledger;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;

/**
 * Key/value facts about the migration in {@link LedgerSchema#META}: the layout a node carries (every node), and on
 * node 0 the slot, the consistent point, when the snapshot finished and the migration's id. Each write runs in the
 * caller's transaction when it has one, so a fact commits with the work it describes.
 */
public final class MetaLedger {

    /** Every node: the fingerprint of the layout it was given, written in the layout's transaction. */
    public static final String LAYOUT_FINGERPRINT = "layout_fingerprint";
    /**
     * Every node: the fingerprint of the layout's structure only (tables, kinds, sharding keys, partitions, keys), not
     * of the tables' columns, checks and indexes, which schema changes carried during the migration change.
     */
    public static final String LAYOUT_STRUCTURE = "layout_structure";
    /** Node 0: the replication slot the snapshot was taken from. */
    public static final String SLOT = "slot";
    /** Node 0: the slot's consistent point: everything committed before it is in the copy, the rest in the stream. */
    public static final String CONSISTENT_POINT = "consistent_point";
    /** Node 0: when the last snapshot run finished copying and indexing every table. */
    public static final String SNAPSHOT_DONE = "snapshot_done_at";
    /** Node 0: the migration's id, created with its stream start ({@link StreamLedger}). */
    public static final String MIGRATION_ID = LedgerSchema.META_MIGRATION_ID;

    private MetaLedger() {
    }

    /** Whether this node carries the control schema at all (a node never laid out has no ledger to read). */
    public static boolean exists(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
            ps.setString(1, LedgerSchema.META);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    public static Optional<String> get(Connection c, String key) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT value FROM " + LedgerSchema.META + " WHERE key = ?")) {
            ps.setString(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
            }
        }
    }

    /** Sets {@code key}, replacing what it held. */
    public static void put(Connection c, String key, String value) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + LedgerSchema.META + " (key, value) VALUES (?, ?)"
                + " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()")) {
            ps.setString(1, key);
            ps.setString(2, value);
            ps.executeUpdate();
        }
    }

    /** Creates {@code key}; a key that already exists is a unique violation (for facts set once, never replaced). */
    public static void create(Connection c, String key, String value) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + LedgerSchema.META + " (key, value) VALUES (?, ?)")) {
            ps.setString(1, key);
            ps.setString(2, value);
            ps.executeUpdate();
        }
    }
}
