package io.shardlift.snapshotter;

import io.shardlift.core.Lsn;
import io.shardlift.core.Sql;
import io.shardlift.core.SourceException;
import io.shardlift.core.TableId;
import io.shardlift.core.spec.ConnInfo;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import io.shardlift.core.ddl.SourceDdlLog;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.ReplicationSlotInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The source side of a consistent copy: the publication, then the logical slot whose exported snapshot
 * the copy workers import, so that everything committed before the slot's consistent point is in the
 * copy and everything after it is in the change stream.
 *
 * <p>When the slot already exists (a resumed copy), it cannot export its snapshot again; a fresh snapshot
 * of "now" is exported instead. That still converges: chunks are key ranges, so every key's row is copied
 * from exactly one snapshot at or after the consistent point, and the change stream, which starts at the
 * consistent point, replays every later change over it (see README, "Resuming a copy").
 *
 * <p>The connection that exported the snapshot is held open, idle, until {@link #close()}: the snapshot
 * dies as soon as it runs anything else.
 */
public final class SourceSnapshot implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SourceSnapshot.class);

    private final Connection holder;
    private final String snapshotName;
    private final Optional<Lsn> consistentPoint;
    private final boolean slotCreated;

    private SourceSnapshot(Connection holder, String snapshotName, Optional<Lsn> consistentPoint, boolean slotCreated) {
        this.holder = holder;
        this.snapshotName = snapshotName;
        this.consistentPoint = consistentPoint;
        this.slotCreated = slotCreated;
    }

    /** Snapshot identifier for {@code SET TRANSACTION SNAPSHOT}. */
    public String snapshotName() {
        return snapshotName;
    }

    /** The slot's consistent point when this call created the slot; empty on a resumed copy. */
    public Optional<Lsn> consistentPoint() {
        return consistentPoint;
    }

    public boolean slotCreated() {
        return slotCreated;
    }

    /**
     * Checks the source, makes sure the publication covers exactly {@code tables}, creates the slot if it
     * does not exist, and exports a snapshot.
     */
    public static SourceSnapshot open(ConnInfo source, String slot, String publication, List<TableId> tables,
                                      List<TableId> partitions) {
        return open(source, slot, publication, tables, partitions, false);
    }

    /**
     * As {@link #open(ConnInfo, String, String, List, List)}; with {@code carryDdl} the DDL capture
     * ({@link SourceDdlLog}) is installed first and its log is published with the tables, before the slot exists, so
     * that every schema change from the slot's consistent point on is in the stream.
     */
    public static SourceSnapshot open(ConnInfo source, String slot, String publication, List<TableId> tables,
                                      List<TableId> partitions, boolean carryDdl) {
        return open(source, slot, publication, tables, partitions, carryDdl, List.of());
    }

    /**
     * As {@link #open(ConnInfo, String, String, List, List, boolean)}; a table created during the migration in one of
     * {@code wholeSchemas} (listed with {@code all: true}) is recorded as not carried (see {@link SourceDdlLog}).
     */
    public static SourceSnapshot open(ConnInfo source, String slot, String publication, List<TableId> tables,
                                      List<TableId> partitions, boolean carryDdl, List<String> wholeSchemas) {
        String label = "source " + source.label();
        try (Connection c = source.connect()) {
            preflight(c, slot, label);
            boolean slotExists = slotExists(c, slot, label);
            List<TableId> published = tables;
            java.util.Set<TableId> created = new java.util.HashSet<>();
            if (carryDdl && slotExists) {
                // read before install records their shapes: tables created during the migration, which a restart takes on
                SourceDdlLog.created(c, true).stream().filter(SourceDdlLog.Created::hasPrimaryKey)
                        .forEach(t -> created.add(t.table()));
            }
            if (carryDdl) {
                SourceDdlLog.install(c, tables, !slotExists, wholeSchemas);
                published = new ArrayList<>(tables);
                published.add(SourceDdlLog.LOG_TABLE);
            }
            ensurePublication(c, publication, published, !partitions.isEmpty(), slotExists, label, created);
            guardPartitionTruncate(c, partitions, label);
            if (!slotExists) {
                return createSlot(source, slot, label);
            }
        } catch (SQLException e) {
            throw new SourceException(label + ": " + e.getMessage(), e);
        }
        return freshSnapshot(source, label);
    }

    static void preflight(Connection c, String slot, String label) throws SQLException {
        List<String> problems = problems(c, slot);
        if (!problems.isEmpty()) {
            throw new SourceException(label + ": " + String.join("; ", problems));
        }
    }

    /**
     * What keeps the source from streaming through {@code slot}, each quoting what it saw: read-only, so
     * {@code plan} and every command's preflight ask it before anything is written.
     */
    public static List<String> problems(Connection c, String slot) throws SQLException {
        List<String> problems = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT current_setting('wal_level'), current_setting('max_replication_slots')::int,"
                        + " (SELECT count(*) FROM pg_replication_slots)::int,"
                        + " (SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user),"
                        + " EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = ?), current_user")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (!"logical".equals(rs.getString(1))) {
                    problems.add("wal_level must be 'logical' but is '" + rs.getString(1)
                            + "' — set wal_level = logical in postgresql.conf and restart the source");
                }
                // an existing slot (a resumed migration) needs no free one
                if (!rs.getBoolean(5) && rs.getInt(2) <= rs.getInt(3)) {
                    problems.add("max_replication_slots is " + rs.getInt(2) + " and " + rs.getInt(3)
                            + " slots exist — raise max_replication_slots (needs a restart) or drop an unused slot");
                }
                if (!rs.getBoolean(4)) {
                    problems.add("the user " + rs.getString(6) + " has neither REPLICATION nor SUPERUSER — ALTER ROLE "
                            + Sql.ident(rs.getString(6)) + " WITH REPLICATION");
                }
            }
        }
        return problems;
    }

    private static boolean slotExists(Connection c, String slot, String label) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT plugin, slot_type, database = current_database() FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return false;
                }
                if (!"logical".equals(rs.getString(2)) || !"pgoutput".equals(rs.getString(1)) || !rs.getBoolean(3)) {
                    throw new SourceException(label + ": replication slot " + slot + " exists but is not a pgoutput logical slot"
                            + " of this database (plugin " + rs.getString(1) + ") — choose another replication.slot or drop it");
                }
                return true;
            }
        }
    }

    /**
     * A publication FOR TABLE the migrated tables, publishing a partitioned table's changes as its own
     * ({@code publish_via_partition_root}): the stream then names the table shardlift migrates, whichever partition
     * a row is in, and a row that moves between partitions arrives as a delete and an insert of that table.
     */
    private static void ensurePublication(Connection c, String publication, List<TableId> tables, boolean anyPartitioned,
                                          boolean slotExists, String label, java.util.Set<TableId> created) throws SQLException {
        Set<TableId> want = new TreeSet<>(tables);
        Set<TableId> have = new TreeSet<>();
        boolean exists;
        boolean viaRoot = false;
        try (PreparedStatement ps = c.prepareStatement("SELECT pubviaroot FROM pg_publication WHERE pubname = ?")) {
            ps.setString(1, publication);
            try (ResultSet rs = ps.executeQuery()) {
                exists = rs.next();
                viaRoot = exists && rs.getBoolean(1);
            }
        }
        if (exists && anyPartitioned && !viaRoot) {
            if (slotExists) {
                throw new SourceException(label + ": publication " + publication + " publishes partitioned tables as their"
                        + " partitions (publish_via_partition_root = false) and the slot already exists, so changes were"
                        + " decoded that way — drop the slot and the publication and start the migration over");
            }
            try (Statement st = c.createStatement()) {
                st.execute("ALTER PUBLICATION " + Sql.ident(publication) + " SET (publish_via_partition_root = true)");
            }
        }
        if (exists) {
            have.addAll(publishedTables(c, publication));
        }
        if (exists && have.equals(want)) {
            return;
        }
        String list = tables.stream().map(TableId::quoted).reduce((a, b) -> a + ", " + b).orElseThrow();
        Set<TableId> added = new TreeSet<>(want);
        added.removeAll(have);
        if (slotExists && exists && want.containsAll(have) && created.containsAll(added)) {
            // tables created during the migration: published from now on; what they hold now is copied under a snapshot
            // taken after this commit, and a change in between is in both, which the idempotent apply makes no difference
            try (Statement st = c.createStatement()) {
                st.execute("ALTER PUBLICATION " + Sql.ident(publication) + " ADD TABLE "
                        + added.stream().map(TableId::quoted).reduce((a, b) -> a + ", " + b).orElseThrow());
            }
            log.info("{}: publication {}: added {}, created during the migration", label, publication, added);
            return;
        }
        if (slotExists) {
            // changes before the slot's consistent point were decoded with the old membership: too late
            throw new SourceException(label + ": publication " + publication + " covers " + have + " but the spec migrates "
                    + want + ", and the slot already exists — restore the spec, or drop the slot and start the migration over");
        }
        try (Statement st = c.createStatement()) {
            st.execute(exists ? "ALTER PUBLICATION " + Sql.ident(publication) + " SET TABLE " + list
                    : "CREATE PUBLICATION " + Sql.ident(publication) + " FOR TABLE " + list
                            + " WITH (publish_via_partition_root = true)");
        }
        log.info("{}: publication {} {} for {} tables", label, publication, exists ? "reset" : "created", tables.size());
    }

    /** The tables {@code publication} publishes (a partitioned table's own name when it publishes via the root). */
    public static Set<TableId> publishedTables(Connection c, String publication) throws SQLException {
        Set<TableId> have = new TreeSet<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = ?")) {
            ps.setString(1, publication);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    have.add(new TableId(rs.getString(1), rs.getString(2)));
                }
            }
        }
        return have;
    }

    static final String PARTITION_TRUNCATE_GUARD = "shardlift_partition_truncate";

    /**
     * Logical replication does not publish a TRUNCATE of one partition when the publication publishes via the root:
     * its rows would silently stay on the cluster. While the migration runs, such a TRUNCATE is refused with a message
     * saying what to do instead (TRUNCATE of the partitioned table itself is carried).
     */
    private static void guardPartitionTruncate(Connection c, List<TableId> partitions, String label) throws SQLException {
        if (partitions.isEmpty()) {
            return;
        }
        StringBuilder sql = new StringBuilder("CREATE SCHEMA IF NOT EXISTS \"shardlift\";\n"
                + "CREATE OR REPLACE FUNCTION \"shardlift\".\"refuse_partition_truncate\"() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN"
                + " RAISE EXCEPTION 'TRUNCATE of partition %.% is not carried to the sharded cluster while shardlift migrates its table',"
                + " TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'feature_not_supported',"
                + " HINT = 'DELETE its rows instead (carried row by row), or TRUNCATE the partitioned table itself';"
                + " END $f$;\n");
        for (TableId p : partitions) {
            sql.append("DROP TRIGGER IF EXISTS ").append(Sql.ident(PARTITION_TRUNCATE_GUARD)).append(" ON ").append(p.quoted()).append(";\n");
            sql.append("CREATE TRIGGER ").append(Sql.ident(PARTITION_TRUNCATE_GUARD)).append(" BEFORE TRUNCATE ON ")
                    .append(p.quoted()).append(" FOR EACH STATEMENT EXECUTE FUNCTION \"shardlift\".\"refuse_partition_truncate\"();\n");
        }
        try (Statement st = c.createStatement()) {
            st.execute(sql.toString());
        }
        log.info("{}: TRUNCATE of any of {} partitions of migrated tables is refused while the migration runs", label, partitions.size());
    }

    private static SourceSnapshot createSlot(ConnInfo source, String slot, String label) throws SQLException {
        Properties props = source.jdbcProperties();
        PGProperty.REPLICATION.set(props, "database");
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(props, "10");
        PGProperty.PREFER_QUERY_MODE.set(props, "simple");
        Connection repl = source.connect(props);
        try {
            ReplicationSlotInfo info = repl.unwrap(PGConnection.class).getReplicationAPI().createReplicationSlot().logical()
                    .withSlotName(slot).withOutputPlugin("pgoutput").make();
            Lsn point = new Lsn(info.getConsistentPoint().asLong());
            log.info("{}: slot {} created at consistent point {}, snapshot {}", label, slot, point, info.getSnapshotName());
            return new SourceSnapshot(repl, info.getSnapshotName(), Optional.of(point), true);
        } catch (SQLException | RuntimeException e) {
            repl.close();
            throw e;
        }
    }

    private static SourceSnapshot freshSnapshot(ConnInfo source, String label) {
        try {
            Connection c = source.connect();
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
                try (ResultSet rs = st.executeQuery("SELECT pg_export_snapshot()")) {
                    rs.next();
                    String name = rs.getString(1);
                    log.info("{}: slot exists (resumed copy); exported a fresh snapshot {}", label, name);
                    return new SourceSnapshot(c, name, Optional.empty(), false);
                }
            }
        } catch (SQLException e) {
            throw new SourceException(label + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            holder.close();
        } catch (SQLException ignored) {
            // the snapshot is no longer needed
        }
    }
}
