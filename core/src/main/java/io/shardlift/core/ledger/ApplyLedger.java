package io.shardlift.core.ledger;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The apply's ledger: per node and Kafka partition, the offset and source position the node applied (written in the
 * transaction of the data it describes, so after a crash it says exactly what the node holds); on node 0, where the
 * migration's stream begins in each partition, and the TRUNCATE barriers. Every method runs in the caller's
 * transaction on the connection it is given.
 */
public final class ApplyLedger {

    /** The barrier row that says a TRUNCATE was carried out on every node (arrivals carry their Kafka partition). */
    private static final int CARRIED_OUT = -1;

    /** A Kafka partition's offset: applied on a node, or where the migration's stream begins. */
    public record Offset(String topic, int kafkaPartition, long offset) {
    }

    /**
     * How far a node applied one Kafka partition: the record's offset, its source position (see
     * {@code cdc.event.Position}) and source commit time (0 when unknown).
     */
    public record Applied(String topic, int kafkaPartition, long offset, long previousCommitLsn, long lsn, int seq,
                          long commitTimeMicros) {
    }

    /** A TRUNCATE barrier on node 0: how many Kafka partitions arrived at it, and whether it was carried out. */
    public record BarrierState(int arrived, boolean carriedOut) {
    }

    private ApplyLedger() {
    }

    /** Records, in the caller's transaction (the one holding the data), how far this node applied each partition. */
    public static void recordApplied(Connection node, List<Applied> positions) throws SQLException {
        if (positions.isEmpty()) {
            return;
        }
        try (PreparedStatement ps = node.prepareStatement("INSERT INTO " + LedgerSchema.APPLIED
                + " (topic, kafka_partition, kafka_offset, prev_commit_lsn, lsn, seq, commit_time) VALUES (?, ?, ?, ?, ?, ?, ?)"
                + " ON CONFLICT (topic, kafka_partition) DO UPDATE SET kafka_offset = EXCLUDED.kafka_offset,"
                + " prev_commit_lsn = EXCLUDED.prev_commit_lsn, lsn = EXCLUDED.lsn, seq = EXCLUDED.seq,"
                + " commit_time = EXCLUDED.commit_time, applied_at = now()")) {
            for (Applied a : positions) {
                ps.setString(1, a.topic());
                ps.setInt(2, a.kafkaPartition());
                ps.setLong(3, a.offset());
                ps.setLong(4, a.previousCommitLsn());
                ps.setLong(5, a.lsn());
                ps.setInt(6, a.seq());
                long micros = a.commitTimeMicros();
                ps.setTimestamp(7, micros == 0 ? null : Timestamp.from(Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000),
                        Math.floorMod(micros, 1_000_000) * 1000L)));
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /** The last offset this node applied, per Kafka partition it applied anything of. */
    public static List<Offset> appliedOffsets(Connection node) throws SQLException {
        List<Offset> out = new ArrayList<>();
        try (PreparedStatement ps = node.prepareStatement("SELECT topic, kafka_partition, kafka_offset FROM " + LedgerSchema.APPLIED);
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new Offset(rs.getString(1), rs.getInt(2), rs.getLong(3)));
            }
        }
        return out;
    }

    /**
     * Where the migration's stream begins in each Kafka partition, on node 0's record; empty when node 0 records no
     * migration id (an applier used on its own, on topics it owns from their first record).
     */
    public static Optional<List<Offset>> streamStarts(Connection node0) throws SQLException {
        try (PreparedStatement ps = node0.prepareStatement("SELECT s.topic, s.kafka_partition, s.start_offset, m.value FROM "
                + LedgerSchema.META + " m LEFT JOIN " + LedgerSchema.STREAM_START + " s ON s.migration_id = m.value WHERE m.key = ?")) {
            ps.setString(1, LedgerSchema.META_MIGRATION_ID);
            List<Offset> out = null;
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (out == null) {
                        out = new ArrayList<>();
                    }
                    if (rs.getString(1) != null) {
                        out.add(new Offset(rs.getString(1), rs.getInt(2), rs.getLong(3)));
                    }
                }
            }
            return Optional.ofNullable(out);
        }
    }

    /** Records on node 0 that {@code kafkaPartition} applied everything before the TRUNCATE at {@code position}. */
    public static void arriveAtBarrier(Connection node0, String topic, String position, int kafkaPartition) throws SQLException {
        try (PreparedStatement ps = node0.prepareStatement("INSERT INTO " + LedgerSchema.BARRIER
                + " (topic, position, kafka_partition) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")) {
            ps.setString(1, topic);
            ps.setString(2, position);
            ps.setInt(3, kafkaPartition);
            ps.executeUpdate();
        }
    }

    /** Whether the TRUNCATE at {@code position} of {@code topic} was carried out on every node. */
    public static boolean barrierCarriedOut(Connection node0, String topic, String position) throws SQLException {
        try (PreparedStatement ps = node0.prepareStatement("SELECT 1 FROM " + LedgerSchema.BARRIER
                + " WHERE topic = ? AND position = ? AND kafka_partition = " + CARRIED_OUT)) {
            ps.setString(1, topic);
            ps.setString(2, position);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /**
     * Locks {@code topic}'s barriers until the caller's transaction ends (appliers of several processes share a
     * topic's partitions: one of them carries the TRUNCATE out) and reads the barrier's state.
     */
    public static BarrierState lockBarrier(Connection node0, String topic, String position) throws SQLException {
        try (PreparedStatement lock = node0.prepareStatement("SELECT pg_advisory_xact_lock(hashtext(?))")) {
            lock.setString(1, "shardlift.barrier." + topic);
            lock.execute();
        }
        try (PreparedStatement ps = node0.prepareStatement("SELECT count(*) FILTER (WHERE kafka_partition >= 0),"
                + " count(*) FILTER (WHERE kafka_partition = " + CARRIED_OUT + ") FROM " + LedgerSchema.BARRIER
                + " WHERE topic = ? AND position = ?")) {
            ps.setString(1, topic);
            ps.setString(2, position);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new BarrierState(rs.getInt(1), rs.getInt(2) > 0);
            }
        }
    }

    /** Records on node 0 that the TRUNCATE at {@code position} was carried out on every node. */
    public static void recordBarrierCarriedOut(Connection node0, String topic, String position) throws SQLException {
        try (PreparedStatement ps = node0.prepareStatement("INSERT INTO " + LedgerSchema.BARRIER
                + " (topic, position, kafka_partition) VALUES (?, ?, " + CARRIED_OUT + ")")) {
            ps.setString(1, topic);
            ps.setString(2, position);
            ps.executeUpdate();
        }
    }
}
