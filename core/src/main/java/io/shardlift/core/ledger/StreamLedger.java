package io.shardlift.core.ledger;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Node 0's record of where this migration's change stream begins in each Kafka topic partition
 * ({@link LedgerSchema#STREAM_START}), written once with the migration's id ({@link MetaLedger#MIGRATION_ID}) before
 * the capture sends anything. Records before a partition's start belong to an earlier attempt.
 */
public final class StreamLedger {

    /** The first offset of {@code topic}'s partition {@code partition} that belongs to this migration. */
    public record Start(String topic, int partition, long offset) {
    }

    /** The migration's id and its starts. */
    public record Binding(String migrationId, List<Start> starts) {
        public Binding {
            starts = List.copyOf(starts);
        }
    }

    private StreamLedger() {
    }

    /**
     * Serializes the binding between processes until the caller's transaction ends: the second of two racing
     * processes waits, then reads the first one's binding.
     */
    public static void lock(Connection node0) throws SQLException {
        if (node0.getAutoCommit()) {
            throw new IllegalStateException("StreamLedger.lock needs a transaction: it holds until the transaction ends");
        }
        try (PreparedStatement ps = node0.prepareStatement("SELECT pg_advisory_xact_lock(hashtext('shardlift.stream_start'))")) {
            ps.execute();
        }
    }

    /**
     * The id of the migration whose stream node 0 records as bound, if any; read-only and safe on a node never laid
     * out (no shardlift schema yet): for the preflight, which must not fail on a fresh node.
     */
    public static Optional<String> boundMigration(Connection node0) throws SQLException {
        try (PreparedStatement ps = node0.prepareStatement("SELECT to_regclass(?) IS NOT NULL AND to_regclass(?) IS NOT NULL")) {
            ps.setString(1, LedgerSchema.STREAM_START);
            ps.setString(2, LedgerSchema.META);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next() || !rs.getBoolean(1)) {
                    return Optional.empty();
                }
            }
        }
        Optional<Binding> b = read(node0);
        return b.filter(x -> !x.starts().isEmpty()).map(Binding::migrationId);
    }

    /** The binding node 0 holds, if the stream was ever bound. */
    public static Optional<Binding> read(Connection node0) throws SQLException {
        Optional<String> id = MetaLedger.get(node0, MetaLedger.MIGRATION_ID);
        if (id.isEmpty()) {
            return Optional.empty();
        }
        List<Start> starts = new ArrayList<>();
        try (PreparedStatement ps = node0.prepareStatement("SELECT topic, kafka_partition, start_offset FROM "
                + LedgerSchema.STREAM_START + " WHERE migration_id = ? ORDER BY topic, kafka_partition")) {
            ps.setString(1, id.get());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    starts.add(new Start(rs.getString(1), rs.getInt(2), rs.getLong(3)));
                }
            }
        }
        return Optional.of(new Binding(id.get(), starts));
    }

    /** Adds starts to the recorded binding {@code migrationId}: the topics of tables a restart took on. */
    public static void addStarts(Connection node0, String migrationId, List<Start> starts) throws SQLException {
        try (PreparedStatement ps = node0.prepareStatement("INSERT INTO " + LedgerSchema.STREAM_START
                + " (topic, kafka_partition, start_offset, migration_id) VALUES (?, ?, ?, ?)")) {
            for (Start s : starts) {
                ps.setString(1, s.topic());
                ps.setInt(2, s.partition());
                ps.setLong(3, s.offset());
                ps.setString(4, migrationId);
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /** Records the binding, starts and id together; a second binding fails (the id is created once). */
    public static void record(Connection node0, Binding binding) throws SQLException {
        Tx.atomically(node0, c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + LedgerSchema.STREAM_START
                    + " (topic, kafka_partition, start_offset, migration_id) VALUES (?, ?, ?, ?)")) {
                for (Start s : binding.starts()) {
                    ps.setString(1, s.topic());
                    ps.setInt(2, s.partition());
                    ps.setLong(3, s.offset());
                    ps.setString(4, binding.migrationId());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            MetaLedger.create(c, MetaLedger.MIGRATION_ID, binding.migrationId());
            return null;
        });
    }
}
