package io.shardlift.ops.preflight;

import io.shardlift.core.Sql;
import io.shardlift.core.TableId;
import io.shardlift.core.ledger.MetaLedger;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.plan.LayoutApplier;
import io.shardlift.core.plan.TablePlan;
import io.shardlift.core.spec.ConnInfo;
import io.shardlift.core.spec.MigrationSpec;
import io.shardlift.core.spec.TableSpec;
import io.shardlift.ops.preflight.Preflight.Domain;
import io.shardlift.ops.preflight.Preflight.Report;
import io.shardlift.ops.reverse.ReverseSlots;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;

/**
 * Every node: reachable, UTF8, free of tables shardlift did not create (or laid out for this very plan), and the
 * user allowed what the layout needs (CREATE on the database and the schemas, postgres_fdw). For {@code run}, also room
 * for the reverse stream's slot the cutover creates on every node ({@link ReverseSlots#problems}): found wanting there,
 * the cutover would fail inside its freeze.
 */
final class NodeChecks {

    private NodeChecks() {
    }

    static void check(MigrationSpec spec, Optional<ClusterPlan> plan, boolean reverseSlots, Report report) {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int i = 0; i < spec.nodes().size(); i++) {
            int index = i;
            all.add(CompletableFuture.runAsync(() -> node(spec, plan, index, reverseSlots, report)));
        }
        all.forEach(CompletableFuture::join);
    }

    private static void node(MigrationSpec spec, Optional<ClusterPlan> plan, int index, boolean reverseSlots, Report report) {
        ConnInfo conn = spec.nodes().get(index);
        String label = "node " + index + " (" + conn.label() + ")";
        List<String> problems = new ArrayList<>();
        try (Connection c = conn.connect()) {
            problems.addAll(LayoutApplier.encodingProblems(c, label));
            if (plan.isPresent()) {
                problems.addAll(LayoutApplier.conflicts(c, plan.get(), plan.get().nodes().get(index), label));
            }
            if (!MetaLedger.exists(c)) {
                privileges(c, spec, plan, label, problems);
            }
            if (reverseSlots) {
                problems.addAll(ReverseSlots.problems(spec, index, c));
            }
        } catch (SQLException e) {
            problems.add(label + ": cannot connect or read: " + e.getMessage() + " — check cluster.nodes[" + index
                    + "] and that the server accepts connections from here");
        }
        problems.forEach(p -> report.problem(Domain.NODE, p));
        if (problems.isEmpty()) {
            report.passed(label + ": reachable, UTF8, " + (plan.isPresent() ? "no conflicting table, " : "") + "privileges"
                    + (reverseSlots ? ", room for the reverse stream's slot" : ""));
        }
    }

    /** What the layout's first transaction needs; a node already laid out has shown it had it. */
    private static void privileges(Connection c, MigrationSpec spec, Optional<ClusterPlan> plan, String label,
                                   List<String> problems) throws SQLException {
        String user;
        String db;
        boolean superuser;
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT current_user, current_database(),"
                + " has_database_privilege(current_database(), 'CREATE'), (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)")) {
            rs.next();
            user = rs.getString(1);
            db = rs.getString(2);
            superuser = rs.getBoolean(4);
            if (!rs.getBoolean(3)) {
                problems.add(label + ": the user " + user + " lacks CREATE on database " + db + ", where shardlift creates its"
                        + " schema \"shardlift\" and the migrated schemas — GRANT CREATE ON DATABASE " + Sql.ident(db) + " TO "
                        + Sql.ident(user));
            }
        }
        if (!superuser) {
            // the copy and the change applier write each node in sessions with session_replication_role = replica (no
            // triggers or foreign-key checks of their own): without the right, the applier's first write fails
            boolean may = false;
            try (Statement st = c.createStatement();
                 ResultSet v = st.executeQuery("SELECT current_setting('server_version_num')::int >= 150000")) {
                if (v.next() && v.getBoolean(1)) {
                    try (ResultSet rs = st.executeQuery("SELECT has_parameter_privilege('session_replication_role', 'SET')")) {
                        may = rs.next() && rs.getBoolean(1);
                    }
                }
            }
            if (!may) {
                problems.add(label + ": the user " + user + " may not SET session_replication_role, which the change applier"
                        + " sets to write the source's changes without the nodes' triggers and foreign-key checks — GRANT SET ON"
                        + " PARAMETER session_replication_role TO " + Sql.ident(user) + ", or connect as a superuser");
            }
        }
        Set<String> schemas = new TreeSet<>();
        plan.ifPresentOrElse(p -> p.tables().forEach(t -> schemas.add(t.id().schema())),
                () -> spec.tables().stream().map(TableSpec::id).map(TableId::schema).forEach(schemas::add));
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT has_schema_privilege(n.oid, 'CREATE') FROM pg_namespace n WHERE n.nspname = ?")) {
            for (String s : schemas) {
                ps.setString(1, s);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next() && !rs.getBoolean(1)) {
                        problems.add(label + ": the user " + user + " lacks CREATE on schema " + s + ", where the migrated tables go"
                                + " — GRANT CREATE ON SCHEMA " + Sql.ident(s) + " TO " + Sql.ident(user));
                    }
                }
            }
        }
        boolean foreignPartitions = spec.nodes().size() > 1
                && plan.map(p -> p.tables().stream().anyMatch(TablePlan::sharded)).orElse(true);
        if (!foreignPartitions) {
            return;
        }
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'postgres_fdw'),"
                        + " EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'postgres_fdw'),"
                        + " COALESCE((SELECT bool_or(trusted) FROM pg_available_extension_versions WHERE name = 'postgres_fdw'), false)")) {
            rs.next();
            boolean installed = rs.getBoolean(1);
            if (installed) {
                try (ResultSet u = st.executeQuery("SELECT has_foreign_data_wrapper_privilege('postgres_fdw', 'USAGE')")) {
                    u.next();
                    if (!u.getBoolean(1)) {
                        problems.add(label + ": the user " + user + " lacks USAGE on the foreign data wrapper postgres_fdw, which the"
                                + " foreign partitions need — GRANT USAGE ON FOREIGN DATA WRAPPER postgres_fdw TO " + Sql.ident(user));
                    }
                }
            } else if (!rs.getBoolean(2)) {
                problems.add(label + ": the extension postgres_fdw is not available on this server, and the foreign partitions"
                        + " need it — install PostgreSQL's contrib package there");
            } else if (!superuser && !rs.getBoolean(3)) {
                problems.add(label + ": the user " + user + " is not a superuser, so it cannot CREATE EXTENSION postgres_fdw —"
                        + " have a superuser run CREATE EXTENSION postgres_fdw in database " + db
                        + " and GRANT USAGE ON FOREIGN DATA WRAPPER postgres_fdw TO " + Sql.ident(user));
            }
        }
    }
}
