package io.shardlift.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlift.testkit.Datasets;
import io.shardlift.embedded.PgCluster;
import io.shardlift.embedded.PgNode;
import io.shardlift.testkit.SpecWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.PGReplicationStream;

/**
 * The preflight against real servers: each precondition broken on its own is reported by {@code plan} (quoting
 * what it saw, with the exit code of its domain) and refuses {@code snapshot} / {@code run} before anything is
 * written: no shardlift schema on any node, no slot, no publication on the source.
 */
class PreflightIT {

    static PgCluster cluster;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        cluster = PgCluster.start("preflight", 2, "demo");
        try (Connection c = cluster.source().connect("demo")) {
            Datasets.createSensors(c);
            Datasets.loadSensors(c, 3, 20, 200);
        }
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** The command line in this JVM, as CliIT runs it. */
    static CliIT.Result run(String... args) {
        return CliIT.run(args);
    }

    /** A node no server listens on. */
    static final String NO_NODE = "host=127.0.0.1 port=1 dbname=demo user=postgres";

    /** What a spec may vary; everything else is a working migration of the sensors database. */
    final class Spec {
        final String db;
        String source = cluster.source().connstr("demo");
        List<String> nodes;
        String tables = SpecWriter.sensorTables(4);
        String slot;
        String kafka = "embedded";
        String listen = "127.0.0.1:" + freePort();
        String pooler = "";

        Spec(String name) {
            slot = "pf_" + name;
            db = "pf_" + name;
            cluster.nodes().forEach(n -> n.createDatabase(db));
            nodes = cluster.nodes().stream().map(n -> n.connstr(db)).collect(Collectors.toCollection(ArrayList::new));
        }

        /** The source as {@code role} instead of postgres (the role exists). */
        Spec sourceAs(String role) {
            source = source.replace("user=postgres", "user=" + role);
            return this;
        }

        /** Node {@code node} as {@code role} instead of postgres (the role exists). */
        Spec nodeAs(int node, String role) {
            nodes.set(node, nodes.get(node).replace("user=postgres", "user=" + role));
            return this;
        }

        /** Runs {@code sql} in this spec's database on node {@code node}. */
        Spec onNode(int node, String... sql) {
            cluster.nodes().get(node).execute(db, sql);
            return this;
        }

        Path write() throws Exception {
            return SpecWriter.from(source).nodes(nodes).tables(tables).kafka(kafka).replication(slot, slot).control(listen)
                    .with(pooler).write(dir.resolve(slot + ".yml"));
        }
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** plan reports it (exit code, message); the writing command is refused with the same; nothing is written. */
    CliIT.Result refused(Spec spec, String command, int code, String... messages) throws Exception {
        Path f = spec.write();
        CliIT.Result plan = run("plan", "--config", f.toString(), "--no-ddl", "--data-dir", dir.resolve("data").toString());
        assertThat(plan.code()).as(plan.out() + plan.err()).isEqualTo(code);
        assertThat(plan.out()).contains("preflight: ").contains(messages);
        assertThat(plan.err()).contains(messages).doesNotContain("\tat ");
        CliIT.Result r = command.equals("run")
                ? run("run", "--config", f.toString(), "--data-dir", dir.resolve("data").toString(), "--exit-when-caught-up")
                : run(command, "--config", f.toString());
        assertThat(r.code()).as(r.out() + r.err()).isEqualTo(code);
        assertThat(r.err()).contains("nothing was written").contains(messages).doesNotContain("\tat ");
        assertNothingWritten(spec);
        return plan;
    }

    void assertNothingWritten(Spec spec) throws Exception {
        for (String node : spec.nodes) {
            if (node.contains("port=1 ")) {
                continue;
            }
            try (Connection c = connect(node); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_namespace WHERE nspname = 'shardlift'")) {
                rs.next();
                assertThat(rs.getInt(1)).as("shardlift schema on " + node).isZero();
            }
        }
        try (Connection c = cluster.source().connect("postgres"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + spec.slot + "'")) {
            rs.next();
            assertThat(rs.getInt(1)).as("slot").isZero();
        }
        try (Connection c = cluster.source().connect("demo"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_publication WHERE pubname = '" + spec.slot + "'")) {
            rs.next();
            assertThat(rs.getInt(1)).as("publication").isZero();
        }
    }

    static Connection connect(String libpq) throws Exception {
        Map<String, String> kv = new java.util.HashMap<>();
        for (String part : libpq.split(" ")) {
            String[] p = part.split("=", 2);
            kv.put(p[0], p[1]);
        }
        return DriverManager.getConnection("jdbc:postgresql://" + kv.get("host") + ":" + kv.get("port") + "/" + kv.get("dbname"),
                kv.get("user"), "");
    }

    @Test
    void aPgBouncerWhosePauseWouldBecomeClientErrorsRefusesRun() throws Exception {
        io.shardlift.testkit.PgBouncer.unavailable().ifPresent(why -> {
            if ("true".equals(System.getenv("CI"))) {
                throw new IllegalStateException("CI=true but " + why);
            }
            org.junit.jupiter.api.Assumptions.abort(why);
        });
        try (io.shardlift.testkit.PgBouncer bouncer = io.shardlift.testkit.PgBouncer.start("preflight",
                List.of(io.shardlift.testkit.PgBouncer.databaseLine("app", cluster.source(), "demo", "pool_size=5")),
                Map.of("pool_mode", "session", "query_wait_timeout", "3"))) {
            Spec spec = new Spec("pooler");
            spec.pooler = "pooler:\n  pgbouncer:\n    - admin: \"" + bouncer.adminConnstr() + "\"\n      include_file: "
                    + bouncer.includeFile() + "\n      databases: [app]\n  pause_timeout: 2s\n";
            String key = "pooler.pgbouncer[0] (127.0.0.1:" + bouncer.port() + "): ";
            CliIT.Result plan = refused(spec, "run", ExitCodes.SOURCE,
                    key + "alias app uses pool_mode session: PAUSE waits until every client disconnects",
                    key + "query_wait_timeout is 3 s, not longer than the pause budget of 12 s");
            assertThat(plan.out()).contains("ok " + key + "alias app points at the source 127.0.0.1:"
                    + cluster.source().port() + "/demo");
            assertThat(java.nio.file.Files.exists(java.nio.file.Path.of(bouncer.includeFile() + ".shardlift-prev"))).isFalse();
        }
    }

    @Test
    void everythingInOrderPassesThePlan() throws Exception {
        Spec spec = new Spec("ok");
        CliIT.Result r = run("plan", "--config", spec.write().toString(), "--no-ddl", "--data-dir", dir.resolve("data").toString());
        assertThat(r.code()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).contains("preflight: every check passed")
                .contains("ok source 127.0.0.1:" + cluster.source().port() + "/demo: wal_level logical")
                .contains("ok node 0 (").contains("ok node 1 (").contains("ok kafka: embedded broker")
                .contains("ok control.listen " + spec.listen + ": free")
                .containsOnlyOnce("preflight:");
        CliIT.Result ddl = run("plan", "--config", spec.write().toString());
        assertThat(ddl.out().split("\n")).filteredOn(l -> l.startsWith("CREATE SCHEMA IF NOT EXISTS \"shardlift\""))
                .hasSize(2); // once per node
        assertNothingWritten(spec);
    }

    @Test
    void walLevelReplica() throws Exception {
        try (PgNode replica = PgNode.start("pf-replica", Map.of("wal_level", "replica")).createDatabase("demo")) {
            try (Connection c = replica.connect("demo")) {
                Datasets.createSensors(c);
                Datasets.loadSensors(c, 2, 4, 10);
            }
            Spec spec = new Spec("walrep");
            spec.source = replica.connstr("demo");
            Path f = spec.write();
            CliIT.Result plan = run("plan", "--config", f.toString(), "--no-ddl", "--data-dir", dir.resolve("data").toString());
            assertThat(plan.code()).as(plan.err()).isEqualTo(ExitCodes.SOURCE);
            assertThat(plan.out()).contains("source 127.0.0.1:" + replica.port() + "/demo: wal_level must be 'logical' but is 'replica'");
            CliIT.Result snap = run("snapshot", "--config", f.toString());
            assertThat(snap.code()).isEqualTo(ExitCodes.SOURCE);
            assertThat(snap.err()).contains("wal_level must be 'logical' but is 'replica'").contains("nothing was written")
                    .doesNotContain("\tat ");
            assertNothingWrittenOnNodes(spec);
            try (Connection c = replica.connect("demo"); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT (SELECT count(*) FROM pg_replication_slots) + (SELECT count(*) FROM pg_publication)")) {
                rs.next();
                assertThat(rs.getInt(1)).isZero();
            }
        }
    }

    void assertNothingWrittenOnNodes(Spec spec) throws Exception {
        for (String node : spec.nodes) {
            try (Connection c = connect(node); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_namespace WHERE nspname = 'shardlift'")) {
                rs.next();
                assertThat(rs.getInt(1)).isZero();
            }
        }
    }

    @Test
    void userWithoutReplication() throws Exception {
        cluster.source().execute("demo", "CREATE ROLE pf_norepl LOGIN", "GRANT SELECT ON ALL TABLES IN SCHEMA public TO pf_norepl",
                "GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO pf_norepl");
        Spec spec = new Spec("norepl").sourceAs("pf_norepl");
        refused(spec, "snapshot", ExitCodes.SOURCE, "the user pf_norepl has neither REPLICATION nor SUPERUSER",
                "ALTER ROLE \"pf_norepl\" WITH REPLICATION");
    }

    @Test
    void userNotOwningTheTables() throws Exception {
        cluster.source().execute("demo", "CREATE ROLE pf_notowner LOGIN REPLICATION",
                "GRANT SELECT ON ALL TABLES IN SCHEMA public TO pf_notowner",
                "GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO pf_notowner", "GRANT CREATE ON DATABASE demo TO pf_notowner");
        Spec spec = new Spec("notowner").sourceAs("pf_notowner");
        // two owners: the advice names both at once (it named only the last one found, so the user had to fix it twice)
        cluster.source().execute("demo", "CREATE ROLE pf_owner2", "ALTER TABLE public.devices OWNER TO pf_owner2");
        try {
            CliIT.Result plan = refused(spec, "snapshot", ExitCodes.SOURCE, "the user pf_notowner does not own public.device_types (owner postgres)",
                    "only an owner may add a table to publication 'pf_notowner'", "public.devices (owner pf_owner2)");
            assertThat(plan.out()).doesNotContain("lacks SELECT").doesNotContain("REPLICATION nor")
                    .containsAnyOf("GRANT \"postgres\", \"pf_owner2\" TO \"pf_notowner\"", "GRANT \"pf_owner2\", \"postgres\" TO \"pf_notowner\"");
        } finally {
            cluster.source().execute("demo", "ALTER TABLE public.devices OWNER TO postgres");
        }
    }

    @Test
    void userWithoutSelectOnASequence() throws Exception {
        cluster.source().createDatabase("pf_seq");
        cluster.source().execute("pf_seq", "CREATE ROLE pf_noseq LOGIN REPLICATION", "CREATE SEQUENCE ids",
                "CREATE TABLE items (id bigint PRIMARY KEY DEFAULT nextval('ids'), v text)",
                "ALTER TABLE items OWNER TO pf_noseq", "GRANT CREATE ON DATABASE pf_seq TO pf_noseq");
        Spec spec = new Spec("noseq");
        spec.source = cluster.source().connstr("pf_seq").replace("user=postgres", "user=pf_noseq");
        spec.tables = "        - {name: items, type: global}\n";
        Path f = spec.write();
        CliIT.Result plan = run("plan", "--config", f.toString(), "--no-ddl", "--data-dir", dir.resolve("data").toString());
        assertThat(plan.code()).as(plan.out() + plan.err()).isEqualTo(ExitCodes.SOURCE);
        assertThat(plan.out()).contains("the user pf_noseq lacks SELECT on the sequence \"public\".\"ids\"")
                .contains("GRANT SELECT ON SEQUENCE \"public\".\"ids\" TO \"pf_noseq\"");
        CliIT.Result snap = run("snapshot", "--config", f.toString());
        assertThat(snap.code()).isEqualTo(ExitCodes.SOURCE);
        assertThat(snap.err()).contains("lacks SELECT on the sequence \"public\".\"ids\"").doesNotContain("\tat ");
        assertNothingWrittenOnNodes(spec);
        try (Connection c = cluster.source().connect("pf_seq"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT (SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'pf_noseq')"
                     + " + (SELECT count(*) FROM pg_publication)")) {
            rs.next();
            assertThat(rs.getInt(1)).isZero();
        }
    }

    /**
     * A source user that is not a superuser (allowed with replication.ddl: stop) must be able to SET
     * session_replication_role, or the reverse stream's applier fails at its first change after the cutover's point of
     * no return and ends run (walked by hand: "permission denied to set parameter session_replication_role").
     */
    @Test
    void userWhoMayNotSetSessionReplicationRoleIsRefusedBeforeTheCutoverNeedsIt() throws Exception {
        cluster.source().createDatabase("pf_srr");
        cluster.source().execute("pf_srr", "CREATE ROLE pf_nosrr LOGIN REPLICATION",
                "CREATE TABLE items (id bigint PRIMARY KEY, v text)", "ALTER TABLE items OWNER TO pf_nosrr",
                "GRANT CREATE ON DATABASE pf_srr TO pf_nosrr");
        Spec spec = new Spec("nosrr");
        Path f = SpecWriter.from(cluster.source().connstr("pf_srr").replace("user=postgres", "user=pf_nosrr")).nodes(spec.nodes)
                .tables("        - {name: items, type: global}\n").kafka("embedded").replication(spec.slot, spec.slot).ddl("stop")
                .control(spec.listen).write(dir.resolve("nosrr.yml"));
        CliIT.Result plan = run("plan", "--config", f.toString(), "--no-ddl", "--data-dir", dir.resolve("data").toString());
        assertThat(plan.code()).as(plan.out() + plan.err()).isEqualTo(ExitCodes.SOURCE);
        assertThat(plan.out()).contains("the user pf_nosrr may not SET session_replication_role")
                .contains("GRANT SET ON PARAMETER session_replication_role TO \"pf_nosrr\"");
        CliIT.Result r = run("run", "--config", f.toString(), "--data-dir", dir.resolve("data").toString(), "--exit-when-caught-up");
        assertThat(r.code()).as(r.out() + r.err()).isEqualTo(ExitCodes.SOURCE);
        assertThat(r.err()).contains("may not SET session_replication_role").contains("nothing was written").doesNotContain("\tat ");
        assertNothingWrittenOnNodes(spec);
        // granted, the plan passes
        cluster.source().execute("pf_srr", "GRANT SET ON PARAMETER session_replication_role TO pf_nosrr");
        CliIT.Result ok = run("plan", "--config", f.toString(), "--no-ddl", "--data-dir", dir.resolve("data").toString());
        assertThat(ok.out()).as(ok.out() + ok.err()).doesNotContain("session_replication_role");
    }

    @Test
    void slotActiveInAnotherProcessIsRefusedNamingTheProcess() throws Exception {
        Spec spec = new Spec("held");
        cluster.source().execute("demo", "CREATE PUBLICATION pf_held FOR TABLE public.device_types, public.devices, public.events");
        Properties p = new Properties();
        PGProperty.USER.set(p, "postgres");
        PGProperty.REPLICATION.set(p, "database");
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(p, "10");
        PGProperty.PREFER_QUERY_MODE.set(p, "simple");
        PGProperty.APPLICATION_NAME.set(p, "pf-holder");
        try (Connection repl = DriverManager.getConnection(cluster.source().jdbcUrl("demo"), p)) {
            PGConnection pg = repl.unwrap(PGConnection.class);
            pg.getReplicationAPI().createReplicationSlot().logical().withSlotName("pf_held").withOutputPlugin("pgoutput").make();
            int pid;
            try (PGReplicationStream stream = pg.getReplicationAPI().replicationStream().logical().withSlotName("pf_held")
                    .withSlotOption("proto_version", "1").withSlotOption("publication_names", "pf_held").start()) {
                pid = activePid("pf_held");
                Path f = spec.write();
                CliIT.Result plan = run("plan", "--config", f.toString(), "--no-ddl", "--data-dir", dir.resolve("data").toString());
                assertThat(plan.code()).as(plan.out() + plan.err()).isEqualTo(ExitCodes.SOURCE);
                String seen = "replication slot 'pf_held' is in use by process " + pid + " (application_name 'pf-holder', client 127.0.0.1";
                assertThat(plan.out()).contains(seen).contains("SELECT pg_terminate_backend(" + pid + ")");
                CliIT.Result r = run("run", "--config", f.toString(), "--data-dir", dir.resolve("data").toString(), "--exit-when-caught-up");
                assertThat(r.code()).isEqualTo(ExitCodes.SOURCE);
                assertThat(r.err()).contains(seen).contains("nothing was written").doesNotContain("\tat ");
                assertNothingWrittenOnNodes(spec);
                assertThat(activePid("pf_held")).isEqualTo(pid);
                // what run and snapshot print when they fail once the slot exists
                assertThat(io.shardlift.ops.preflight.Preflight.slotLeftBehind(new io.shardlift.core.spec.SpecLoader().load(f)))
                        .hasValueSatisfying(note -> assertThat(note).contains("the replication slot 'pf_held' stays on the source")
                                .contains("retains its WAL").contains("SELECT pg_drop_replication_slot('pf_held')"));
            }
        } finally {
            cluster.source().execute("demo", "SELECT pg_drop_replication_slot('pf_held') FROM pg_replication_slots"
                    + " WHERE slot_name = 'pf_held' AND NOT active", "DROP PUBLICATION IF EXISTS pf_held");
        }
    }

    /**
     * A restart whose plan the planner refuses (here a sharding column that no longer exists) must say that, and not
     * also blame the publication of an {@code all: true} schema: without the plan only the listed tables are known,
     * and the preflight told a new user to drop the slot (start over) for a publication that was right.
     */
    @Test
    void aRefusedPlanOfAnAllTrueSchemaDoesNotBlameThePublication() throws Exception {
        Spec spec = new Spec("allpub");
        cluster.source().execute("demo", "CREATE PUBLICATION pf_allpub FOR TABLES IN SCHEMA public",
                "SELECT pg_create_logical_replication_slot('pf_allpub', 'pgoutput')");
        try {
            Path f = SpecWriter.from(spec.source).nodes(spec.nodes)
                    .schemas("    - name: public\n      all: true\n      tables:\n"
                            + "        - {name: devices, type: sharded, distributedby: no_such_column, partitions: 4}\n")
                    .kafka("embedded").replication(spec.slot, spec.slot).control(spec.listen).write(dir.resolve("allpub.yml"));
            CliIT.Result plan = run("plan", "--config", f.toString(), "--no-ddl", "--data-dir", dir.resolve("data").toString());
            assertThat(plan.code()).as(plan.out() + plan.err()).isEqualTo(ExitCodes.CONFIG);
            assertThat(plan.out()).contains("no_such_column").doesNotContain("publication 'pf_allpub' covers");
            assertThat(plan.err()).doesNotContain("drop the slot").doesNotContain("\tat ");
        } finally {
            cluster.source().execute("demo", "SELECT pg_drop_replication_slot('pf_allpub')", "DROP PUBLICATION IF EXISTS pf_allpub");
        }
    }

    static int activePid(String slot) throws Exception {
        for (int i = 0; i < 600; i++) {
            try (Connection c = cluster.source().connect("demo"); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT active_pid FROM pg_replication_slots WHERE slot_name = '" + slot + "'")) {
                if (rs.next() && rs.getObject(1) != null) {
                    return rs.getInt(1);
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("slot " + slot + " never became active");
    }

    @Test
    void nodeDown() throws Exception {
        Spec spec = new Spec("down");
        spec.nodes.set(1, NO_NODE);
        refused(spec, "snapshot", ExitCodes.TARGET, "node 1 (127.0.0.1:1/demo): cannot connect or read",
                "check cluster.nodes[1]");
    }

    @Test
    void nodeNotUtf8() throws Exception {
        Spec spec = new Spec("ascii");
        cluster.nodes().get(1).execute("postgres", "CREATE DATABASE pf_sqlascii ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C'"
                + " TEMPLATE template0");
        spec.nodes.set(1, cluster.nodes().get(1).connstr("pf_sqlascii"));
        refused(spec, "snapshot", ExitCodes.TARGET, "uses encoding SQL_ASCII but shardlift routes text keys as UTF-8",
                "WITH ENCODING 'UTF8'");
    }

    @Test
    void nodeUserWithoutCreate() throws Exception {
        Spec spec = new Spec("nocreate");
        cluster.nodes().get(0).execute("postgres", "CREATE ROLE pf_nocreate LOGIN");
        spec.nodeAs(0, "pf_nocreate");
        refused(spec, "schema", ExitCodes.TARGET, "the user pf_nocreate lacks CREATE on database pf_nocreate",
                "GRANT CREATE ON DATABASE \"pf_nocreate\" TO \"pf_nocreate\"",
                "the user pf_nocreate lacks CREATE on schema public",
                "it cannot CREATE EXTENSION postgres_fdw",
                "the user pf_nocreate may not SET session_replication_role, which the change applier sets",
                "GRANT SET ON PARAMETER session_replication_role TO \"pf_nocreate\"");
    }

    /** The cutover makes the reverse stream's slot on every node, inside its freeze: run checks the room for it first. */
    @Test
    void nodeWithoutAFreeSlotForTheReverseStream() throws Exception {
        Spec spec = new Spec("noslot");
        PgNode n1 = cluster.nodes().get(1);
        n1.execute("postgres", "SELECT pg_create_physical_replication_slot('pf_full_' || g) FROM generate_series(1,"
                + " current_setting('max_replication_slots')::int - (SELECT count(*) FROM pg_replication_slots)::int) g");
        try {
            CliIT.Result plan = refused(spec, "run", ExitCodes.TARGET, "node 1 (127.0.0.1:" + n1.port() + "/pf_noslot): max_replication_slots is 16"
                    + " and 16 slots exist, none free (the cutover creates the reverse stream's slot pf_noslot_rev_1 on every node",
                    "raise max_replication_slots on that node (needs a restart) or drop an unused slot there");
            assertThat(plan.out()).contains("node 0 (127.0.0.1:" + cluster.nodes().get(0).port() + "/pf_noslot): reachable")
                    .contains("room for the reverse stream's slot");
        } finally {
            n1.execute("postgres", "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name LIKE 'pf\\_full\\_%'");
        }
    }

    @Test
    void nodeHoldingAConflictingTable() throws Exception {
        Spec spec = new Spec("conflict").onNode(1, "CREATE TABLE public.devices (id int)");
        refused(spec, "run", ExitCodes.TARGET, "already has a table public.devices that shardlift did not create");
    }

    @Test
    void listenPortTaken() throws Exception {
        Spec spec = new Spec("port");
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            spec.listen = "127.0.0.1:" + taken.getLocalPort();
            refused(spec, "run", ExitCodes.CONFIG, "control.listen 127.0.0.1:" + taken.getLocalPort() + ": cannot listen there",
                    "choose a free address:port for control.listen");
        }
    }

    @Test
    void unreachableExternalBroker() throws Exception {
        Spec spec = new Spec("broker");
        spec.kafka = "127.0.0.1:1";
        refused(spec, "run", ExitCodes.BROKER, "kafka: no broker at 127.0.0.1:1 answered within 10 s",
                "check kafka.bootstrap");
    }

    @Test
    void everyProblemAtOnce() throws Exception {
        Spec spec = new Spec("many").onNode(0, "CREATE TABLE public.events_1 (id int)");
        spec.nodes.add(NO_NODE);
        spec.tables = SpecWriter.sensorTables(6);
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            spec.listen = "127.0.0.1:" + taken.getLocalPort();
            cluster.source().execute("postgres", "CREATE ROLE pf_many LOGIN");
            spec.sourceAs("pf_many");
            CliIT.Result plan = refused(spec, "run", ExitCodes.CONFIG,
                    "control.listen 127.0.0.1:" + taken.getLocalPort() + ": cannot listen there",
                    "the user pf_many has neither REPLICATION nor SUPERUSER",
                    "the user pf_many does not own public.device_types",
                    "the user pf_many lacks SELECT on \"public\".\"device_types\"",
                    "node 2 (127.0.0.1:1/demo): cannot connect or read",
                    "already has a table public.events_1 that shardlift did not create",
                    "replication.ddl is 'replicate' but the user pf_many is not a superuser, which CREATE EVENT TRIGGER needs",
                    "the user pf_many may not SET session_replication_role");
            assertThat(plan.out()).contains("preflight: 10 problems").contains("lacks SELECT on the sequence \"public\".\"events_event_id_seq\"");
        }
    }
}
