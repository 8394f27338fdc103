package io.shardlift.ops.preflight;

import io.shardlift.ops.preflight.Preflight.Domain;
import io.shardlift.ops.preflight.Preflight.Report;
import io.shardlift.ops.preflight.Preflight.Scope;
import io.shardlift.core.Sql;
import io.shardlift.core.TableId;
import io.shardlift.core.catalog.SequenceInfo;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.plan.TablePlan;
import io.shardlift.core.spec.ConnInfo;
import io.shardlift.core.spec.MigrationSpec;
import io.shardlift.core.spec.SchemaSpec;
import io.shardlift.core.spec.TableSpec;
import io.shardlift.snapshotter.SourceSnapshot;
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
import org.postgresql.PGProperty;

/** The source: reachable; for replication its settings, the role, the slot, the publication and the privileges. */
public final class SourceChecks {

    private SourceChecks() {
    }

    static void check(MigrationSpec spec, Optional<ClusterPlan> plan, Scope scope, Report report) {
        ConnInfo source = spec.source();
        String label = "source " + source.label();
        List<String> problems = new ArrayList<>();
        Connection c;
        try {
            c = source.connect();
        } catch (SQLException e) {
            report.sourceUnreachable();
            report.problem(Domain.SOURCE, label + ": cannot connect: " + e.getMessage() + " — check migrate.connstr and that the"
                    + " server accepts connections from here");
            return;
        }
        try (c) {
            if (scope.replication) {
                List<String> basics = SourceSnapshot.problems(c, spec.replication().slot());
                problems.addAll(basics);
                boolean slotExists = slot(c, spec.replication().slot(), problems);
                List<TableId> tables = plan.map(p -> p.tables().stream().map(TablePlan::id).toList())
                        .orElseGet(() -> spec.tables().stream().map(TableSpec::id).toList());
                List<TableId> published = tables;
                Set<TableId> takenOn = new TreeSet<>();
                if (scope.streaming) {
                    reverseApplier(c, problems);
                }
                if (spec.replication().replicateDdl()) {
                    problems.addAll(SourceDdlLog.problems(c));
                    if (slotExists) {
                        // a restart plans `all: true` schemas from the catalog, which now has the tables created since the
                        // start: it takes on those it can stream (SourceSnapshot adds them to the publication)
                        // (one without a primary key is refused by the plan, with the fix)
                        SourceDdlLog.created(c, true).stream().filter(SourceDdlLog.Created::hasPrimaryKey)
                                .forEach(t -> takenOn.add(t.table()));
                    }
                    published = new ArrayList<>(tables);
                    published.add(SourceDdlLog.LOG_TABLE); // the DDL log travels with the tables (SourceDdlLog)
                }
                // without a plan, an `all: true` schema's tables are not known: the listed ones are only some of them
                boolean allKnown = plan.isPresent() || spec.schemas().stream().noneMatch(SchemaSpec::all);
                publication(c, spec.replication().publication(), published, allKnown, slotExists, problems, takenOn);
                tables(c, tables, problems);
                plan.ifPresent(p -> sequences(c, p.sequences(), problems));
                enumCategoryWithoutLabels(c, problems);
                if (basics.stream().noneMatch(p -> p.contains("REPLICATION"))) {
                    replicationConnection(source, problems);
                }
            }
        } catch (SQLException e) {
            problems.add("cannot read what the preflight needs: " + e.getMessage());
        }
        problems.forEach(p -> report.problem(Domain.SOURCE, label + ": " + p));
        if (problems.isEmpty()) {
            report.passed(label + (scope.replication ? ": wal_level logical, replication role and connection, slot "
                    + spec.replication().slot() + " free, publication, privileges on the migrated tables and sequences" : ": reachable"));
        }
    }

    /**
     * Debezium 3.6.1 reads every type of the source database when it starts and fails with a NullPointerException on
     * a type of the enum category that has no labels: a domain over an enum, or an enum declared without labels
     * (debezium/dbz#2525, fixed in a later Debezium). Whether a migrated column uses it or not, the capture could
     * never start: say so before anything is written.
     */
    private static void enumCategoryWithoutLabels(Connection c, List<String> problems) throws SQLException {
        List<String> found = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT format_type(t.oid, NULL), t.typtype"
                + " FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace"
                + " WHERE t.typcategory = 'E' AND n.nspname <> 'pg_toast'"
                + " AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid) ORDER BY 1 LIMIT 20")) {
            while (rs.next()) {
                found.add(rs.getString(1) + ("d".equals(rs.getString(2)) ? " (a domain over an enum)" : " (an enum without labels)"));
            }
        }
        if (!found.isEmpty()) {
            problems.add("the database holds " + String.join(", ", found) + ": Debezium 3.6.1, which captures the changes, fails"
                    + " to start on any database with such a type, used by a migrated column or not (debezium/dbz#2525) — use"
                    + " the enum itself for the column (with a CHECK constraint for the domain's rule), or give the enum a label,"
                    + " then run plan again");
        }
    }

    /**
     * A slot whose holder just died (a killed run restarted at once) is released as soon as its walsender sees the
     * closed socket: a moment, never longer than this.
     */
    static final long RELEASE_GRACE_MS = 3_000;

    /** Whether the slot exists; a slot of the wrong kind, or one some process holds, is a problem. */
    private static boolean slot(Connection c, String slot, List<String> problems) throws SQLException {
        long deadline = System.nanoTime() + RELEASE_GRACE_MS * 1_000_000L;
        while (true) {
            List<String> found = new ArrayList<>();
            boolean exists = slotOnce(c, slot, found);
            if (found.stream().noneMatch(p -> p.contains("is in use by process")) || System.nanoTime() > deadline) {
                problems.addAll(found);
                return exists;
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                problems.addAll(found);
                return exists;
            }
        }
    }

    private static boolean slotOnce(Connection c, String slot, List<String> problems) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT s.plugin, s.slot_type, s.database = current_database(), s.active_pid,"
                + " r.application_name, r.client_addr::text, r.backend_start::text"
                + " FROM pg_replication_slots s LEFT JOIN pg_stat_replication r ON r.pid = s.active_pid WHERE s.slot_name = ?")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return false;
                }
                if (!"logical".equals(rs.getString(2)) || !"pgoutput".equals(rs.getString(1)) || !rs.getBoolean(3)) {
                    problems.add("replication slot '" + slot + "' exists but is not a pgoutput logical slot of this database"
                            + " (it is a " + rs.getString(2) + " slot, plugin " + rs.getString(1) + ") — choose another replication.slot"
                            + " or drop it: SELECT pg_drop_replication_slot(" + Sql.literal(slot) + ")");
                }
                int pid = rs.getInt(4);
                if (!rs.wasNull()) {
                    String app = rs.getString(5);
                    String client = rs.getString(6);
                    problems.add("replication slot '" + slot + "' is in use by process " + pid
                            + (app != null ? " (application_name '" + app + "'" : " (application_name unknown")
                            + ", client " + (client != null ? client : "local socket or unknown")
                            + (rs.getString(7) != null ? ", since " + rs.getString(7) : "") + ")"
                            + " — another shardlift run (or a consumer) streams from it; stop that one first, or end it:"
                            + " SELECT pg_terminate_backend(" + pid + ")");
                }
                return true;
            }
        }
    }

    /**
     * From the cutover on, the reverse stream's applier writes the fenced source as this user, in sessions with
     * {@code session_replication_role = replica} (so the fence's triggers let it through): without the right to set
     * it, the cutover passed its point of no return and the reverse applier then failed at its first change, ending
     * {@code run} with the rollback window broken (a non-superuser source is allowed with {@code replication.ddl: stop}).
     */
    private static void reverseApplier(Connection c, List<String> problems) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT r.rolsuper, current_user,"
                + " current_setting('server_version_num')::int >= 150000 FROM pg_roles r WHERE r.rolname = current_user")) {
            if (!rs.next() || rs.getBoolean(1)) {
                return;
            }
            String user = rs.getString(2);
            boolean grantable = rs.getBoolean(3);
            if (grantable) {
                try (Statement q = c.createStatement(); ResultSet p = q.executeQuery(
                        "SELECT has_parameter_privilege('session_replication_role', 'SET')")) {
                    if (p.next() && p.getBoolean(1)) {
                        return;
                    }
                }
            }
            problems.add("the user " + user + " may not SET session_replication_role, which the reverse stream needs after the"
                    + " cutover (its applier writes the fenced source in sessions with session_replication_role = replica,"
                    + " which the fence's triggers let through; without it the rollback window cannot carry the cluster's"
                    + " writes back) — " + (grantable ? "GRANT SET ON PARAMETER session_replication_role TO " + Sql.ident(user)
                    + ", or connect as a superuser" : "connect as a superuser (PostgreSQL before 15 has no GRANT for it)"));
        }
    }

    /**
     * The publication is created (or reset) before the slot: that needs CREATE on the database and ownership of
     * every migrated table, unless it already covers exactly those tables. Once the slot exists it can no longer change.
     */
    private static void publication(Connection c, String publication, List<TableId> tables, boolean allKnown,
                                    boolean slotExists, List<String> problems, Set<TableId> takenOn) throws SQLException {
        Set<TableId> want = new TreeSet<>(tables);
        Set<TableId> have = new TreeSet<>();
        boolean exists;
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM pg_publication WHERE pubname = ?")) {
            ps.setString(1, publication);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                exists = rs.getInt(1) > 0;
            }
        }
        if (exists) {
            have.addAll(SourceSnapshot.publishedTables(c, publication));
            if (have.equals(want)) {
                return;
            }
            Set<TableId> added = new TreeSet<>(want);
            added.removeAll(have);
            if (slotExists && want.containsAll(have) && takenOn.containsAll(added)) {
                return; // tables created during the migration, added when run starts
            }
            if (slotExists) {
                if (!allKnown) {
                    // the planner's refusal is reported; comparing the publication with the listed tables alone would
                    // also blame a publication that is right, and tell the operator to drop the slot for nothing
                    return;
                }
                problems.add("publication '" + publication + "' covers " + have + " but the spec migrates " + want
                        + ", and the slot already exists — restore the spec, or drop the slot and start the migration over");
                return;
            }
        }
        String user = currentUser(c);
        if (!exists) {
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                    "SELECT has_database_privilege(current_database(), 'CREATE'), current_database()")) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    problems.add("the user " + user + " lacks CREATE on database " + rs.getString(2) + ", which CREATE PUBLICATION "
                            + Sql.ident(publication) + " needs — GRANT CREATE ON DATABASE " + Sql.ident(rs.getString(2)) + " TO "
                            + Sql.ident(user) + ", or create the publication FOR TABLE the migrated tables beforehand");
                }
            }
        }
        List<String> notOwned = new ArrayList<>();
        // every owner at once: naming only the last one found made the user fix it twice (a new user's report)
        java.util.Set<String> owners = new java.util.LinkedHashSet<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT pg_has_role(c.relowner, 'USAGE'), pg_get_userbyid(c.relowner) FROM pg_class c WHERE c.oid = to_regclass(?)")) {
            for (TableId t : tables) {
                ps.setString(1, t.quoted());
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next() && !rs.getBoolean(1)) {
                        notOwned.add(t + " (owner " + rs.getString(2) + ")");
                        owners.add(rs.getString(2));
                    }
                }
            }
        }
        if (!notOwned.isEmpty()) {
            problems.add("the user " + user + " does not own " + String.join(", ", notOwned) + ", and only an owner may add a table"
                    + " to publication '" + publication + "' — GRANT " + owners.stream().map(Sql::ident).collect(java.util.stream.Collectors.joining(", "))
                    + " TO " + Sql.ident(user)
                    + ", or have the owner run CREATE PUBLICATION " + Sql.ident(publication) + " FOR TABLE "
                    + String.join(", ", tables.stream().map(TableId::quoted).toList()));
        }
    }

    /** The copy reads every migrated table. */
    private static void tables(Connection c, List<TableId> tables, List<String> problems) throws SQLException {
        List<String> denied = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT has_table_privilege(c.oid, 'SELECT') FROM pg_class c WHERE c.oid = to_regclass(?)")) {
            for (TableId t : tables) {
                ps.setString(1, t.quoted());
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next() && !rs.getBoolean(1)) {
                        denied.add(t.quoted());
                    }
                }
            }
        }
        if (!denied.isEmpty()) {
            problems.add("the user " + currentUser(c) + " lacks SELECT on " + String.join(", ", denied) + ", which the copy reads"
                    + " — GRANT SELECT ON " + String.join(", ", denied) + " TO " + Sql.ident(currentUser(c)));
        }
    }

    /**
     * The cutover reads every sequence the tables draw from, to move the nodes' past it: also one a column added during
     * the migration brought (its gate asks before anything is fenced).
     */
    public static void sequences(Connection c, List<SequenceInfo> sequences, List<String> problems) {
        List<String> denied = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT has_sequence_privilege(c.oid, 'SELECT') FROM pg_class c WHERE c.oid = to_regclass(?)")) {
            for (SequenceInfo s : sequences) {
                ps.setString(1, s.id().quoted());
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next() && !rs.getBoolean(1)) {
                        denied.add(s.id().quoted());
                    }
                }
            }
            if (!denied.isEmpty()) {
                problems.add("the user " + currentUser(c) + " lacks SELECT on the sequence" + (denied.size() == 1 ? " " : "s ")
                        + String.join(", ", denied) + ", which the cutover reads to move the nodes' sequences past the source's"
                        + " — GRANT SELECT ON SEQUENCE " + String.join(", ", denied) + " TO " + Sql.ident(currentUser(c)));
            }
        } catch (SQLException e) {
            problems.add("cannot read the privileges on the sequences: " + e.getMessage());
        }
    }

    /** REPLICATION in the role is not enough: pg_hba.conf must also let a replication connection in. */
    private static void replicationConnection(ConnInfo source, List<String> problems) {
        Properties props = source.jdbcProperties();
        PGProperty.REPLICATION.set(props, "database");
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(props, "10");
        PGProperty.PREFER_QUERY_MODE.set(props, "simple");
        try (Connection repl = source.connect(props);
             Statement st = repl.createStatement(); ResultSet rs = st.executeQuery("IDENTIFY_SYSTEM")) {
            rs.next();
        } catch (SQLException e) {
            problems.add("a replication connection is refused: " + e.getMessage() + " — allow it in pg_hba.conf (a line for"
                    + " database 'replication' or the database itself with this user) and reload");
        }
    }

    private static String currentUser(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT current_user")) {
            rs.next();
            return rs.getString(1);
        }
    }
}
