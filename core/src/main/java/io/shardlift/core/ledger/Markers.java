package io.shardlift.core.ledger;

import io.shardlift.core.Sql;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import org.postgresql.PGConnection;

/**
 * The marker protocol, written once. A marker is a transactional logical message in the source's WAL
 * ({@code pg_logical_emit_message(true, 'shardlift', name)}); the capture copies it into every partition of every
 * table topic; the applier records, on node 0 and in one statement per batch, each partition that applied
 * everything before it on every node ({@link #record}); a marker is through once {@link #count} reaches the
 * number of partitions. The cutover drains with it, the lag probe measures with it, tests wait with it.
 */
public final class Markers {

    /** The logical-decoding message prefix that makes a marker; other prefixes are not carried. */
    public static final String PREFIX = "shardlift";
    /** The channel node 0 NOTIFYs, with the recorded rows, when marker rows were recorded. */
    public static final String CHANNEL = "shardlift_marker";

    /** One partition's arrival at a marker: the topic and Kafka partition, and the marker's source LSN. */
    public record Arrival(String marker, String topic, int kafkaPartition, long lsn) {
    }

    /** Thrown by {@link #await} when the partitions did not all apply past the marker in time. */
    public static final class NotThrough extends Exception {
        private final long seen;

        NotThrough(String marker, long seen, int partitions, Duration timeout) {
            super("only " + seen + " of " + partitions + " partitions applied past marker " + marker + " in "
                    + timeout.toSeconds() + " s");
            this.seen = seen;
        }

        public long seen() {
            return seen;
        }
    }

    private Markers() {
    }

    /** Writes marker {@code name} into the source's WAL (in the caller's transaction); returns its LSN as text. */
    public static String emit(Connection source, String name) throws SQLException {
        try (PreparedStatement ps = source.prepareStatement("SELECT pg_logical_emit_message(true, "
                + Sql.literal(PREFIX) + ", ?)::text")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    /** Records arrivals on node 0 in one statement (the caller's transaction); a NOTIFY wakes {@link #await}. */
    public static void record(Connection node0, List<Arrival> arrivals) throws SQLException {
        if (arrivals.isEmpty()) {
            return;
        }
        try (PreparedStatement ps = node0.prepareStatement("WITH ins AS (INSERT INTO " + LedgerSchema.MARKER
                + " (marker, topic, kafka_partition, lsn) SELECT * FROM unnest(?::text[], ?::text[], ?::int[], ?::bigint[])"
                + " ON CONFLICT DO NOTHING RETURNING 1) SELECT pg_notify(" + Sql.literal(CHANNEL) + ", count(*)::text) FROM ins")) {
            ps.setArray(1, array(node0, "text", arrivals.stream().map(Arrival::marker).toArray()));
            ps.setArray(2, array(node0, "text", arrivals.stream().map(Arrival::topic).toArray()));
            ps.setArray(3, array(node0, "int4", arrivals.stream().map(Arrival::kafkaPartition).toArray()));
            ps.setArray(4, array(node0, "int8", arrivals.stream().map(Arrival::lsn).toArray()));
            ps.execute();
        }
    }

    /** How many partitions applied past marker {@code name} on every node. */
    public static long count(Connection node0, String name) throws SQLException {
        try (PreparedStatement ps = node0.prepareStatement("SELECT count(*) FROM " + LedgerSchema.MARKER + " WHERE marker = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /**
     * Waits until {@code partitions} partitions applied past marker {@code name}: woken by the applier's NOTIFY when
     * the connection LISTENs on {@link #CHANNEL} (see {@link #listen}), and every 50 ms in any case.
     */
    public static void await(Connection node0, String name, int partitions, Duration timeout)
            throws SQLException, InterruptedException, NotThrough {
        long deadline = System.nanoTime() + timeout.toNanos();
        PGConnection pg = node0.unwrap(PGConnection.class);
        while (true) {
            long seen = count(node0, name);
            if (seen >= partitions) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new NotThrough(name, seen, partitions, timeout);
            }
            pg.getNotifications(50);
            if (Thread.interrupted()) {
                throw new InterruptedException("interrupted while waiting for marker " + name);
            }
        }
    }

    /** Subscribes {@code node0} to the applier's marker notifications (autocommit connections only). */
    public static void listen(Connection node0) throws SQLException {
        try (var st = node0.createStatement()) {
            st.execute("LISTEN " + Sql.ident(CHANNEL));
        }
    }

    /** Deletes markers named {@code prefix}… recorded more than {@code age} ago (probes leave one per round). */
    public static int forget(Connection node0, String prefix, Duration age) throws SQLException {
        try (PreparedStatement ps = node0.prepareStatement("DELETE FROM " + LedgerSchema.MARKER
                + " WHERE starts_with(marker, ?) AND applied_at < now() - make_interval(secs => ?)")) {
            ps.setString(1, prefix);
            ps.setLong(2, age.toSeconds());
            return ps.executeUpdate();
        }
    }

    private static Array array(Connection c, String type, Object[] values) throws SQLException {
        return c.createArrayOf(type, values);
    }
}
