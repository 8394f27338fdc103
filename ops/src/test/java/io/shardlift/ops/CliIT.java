package io.shardlift.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlift.testkit.Datasets;
import io.shardlift.embedded.PgCluster;
import io.shardlift.embedded.PgNode;
import io.shardlift.testkit.SpecWriter;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line as an operator meets it: output, exit codes per failure domain, secrets masked. */
class CliIT {

    /** A password that must never be printed; the embedded servers trust local connections and ignore it. */
    static final String SECRET = "Xy7-very-secret-Pw";

    static PgCluster cluster;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        cluster = PgCluster.start("cli", 2, "demo");
        try (Connection c = cluster.source().connect("demo")) {
            Datasets.createSensors(c);
            Datasets.loadSensors(c, 5, 50, 1_000);
        }
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    record Result(int code, String out, String err) {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), args);
        return new Result(code, out.toString(), err.toString());
    }

    Path spec(String source, List<String> nodes, String tables) throws Exception {
        return SpecWriter.from(source).nodes(nodes).tables(tables).kafka("embedded").control("127.0.0.1:" + PreflightIT.freePort())
                .write(dir.resolve("migrate.yml"));
    }

    static final String TABLES = SpecWriter.sensorTables(4);

    List<String> nodesWithPassword(String db) {
        return cluster.nodes().stream().map(n -> n.connstr(db) + " password=" + SECRET).toList();
    }

    @Test
    void planPrintsLayoutAndDdlWithSecretsMaskedAndWritesNothing() throws Exception {
        Path f = spec(cluster.source().connstr("demo") + " password=" + SECRET, nodesWithPassword("demo"), TABLES);
        Result r = run("plan", "--config", f.toString(), "--show-config");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out())
                .contains("public.events", "sharded", "device_id", "public.devices")
                .contains("node 0", "devices_0, devices_2, events_0, events_2")
                .contains("becomes (event_id, device_id)")
                .contains("PARTITION BY HASH (\"device_id\")")
                .contains("CREATE FOREIGN TABLE IF NOT EXISTS \"public\".\"events_1\"")
                // the global table's fan-out, its servers' mappings masked as well
                .contains("CREATE SERVER IF NOT EXISTS \"shardlift_fanout_1\"", "CREATE SERVER IF NOT EXISTS \"shardlift_lock_1\"",
                        "CREATE TRIGGER \"shardlift_fanout_row\" AFTER INSERT OR UPDATE OR DELETE ON \"public\".\"device_types\"")
                .contains("password '******'")
                .doesNotContain(SECRET);
        assertThat(r.err()).doesNotContain(SECRET);
        // plan writes nothing on the nodes
        for (PgNode n : cluster.nodes()) {
            try (Connection c = n.connect("demo"); var rs = c.createStatement().executeQuery(
                    "SELECT count(*) FROM pg_namespace WHERE nspname = 'shardlift'")) {
                rs.next();
                assertThat(rs.getInt(1)).isZero();
            }
        }
    }

    @Test
    void schemaTwiceIsTheSameLayout() throws Exception {
        cluster.source().createDatabase("demo");
        cluster.nodes().forEach(n -> n.createDatabase("twice"));
        Path f = spec(cluster.source().connstr("demo"), nodesWithPassword("twice"), TABLES);
        Result first = run("schema", "--config", f.toString());
        assertThat(first.code()).as(first.err()).isZero();
        assertThat(first.out()).contains("laid out").doesNotContain("already").doesNotContain(SECRET);
        Result second = run("schema", "--config", f.toString());
        assertThat(second.code()).as(second.err()).isZero();
        assertThat(second.out()).contains("already laid out, verified");
    }

    @Test
    void invalidSpecExitsWithConfigCodeNamingTheKey() throws Exception {
        Path f = dir.resolve("bad.yml");
        Files.writeString(f, "version: \"1.0\"\nmigrate:\n  connstr: \"host=x password=" + SECRET + "\"\n  jobs: many\n"
                + "  schemas:\n    - name: public\n      tables:\n        - {name: t, type: sharded}\ncluster:\n  nodes: []\n");
        Result r = run("plan", "--config", f.toString());
        assertThat(r.code()).isEqualTo(ExitCodes.CONFIG);
        assertThat(r.err()).contains("jobs").contains("distributedby").contains("cluster.nodes").doesNotContain(SECRET);
    }

    @Test
    void refusedPlanExitsWithConfigCode() throws Exception {
        Path f = spec(cluster.source().connstr("demo"), nodesWithPassword("demo"),
                "        - {name: events, type: sharded, distributedby: device_id, partitions: 4}\n");
        Result r = run("plan", "--config", f.toString());
        assertThat(r.code()).isEqualTo(ExitCodes.CONFIG);
        assertThat(r.err()).contains("public.events: PRIMARY KEY events_pkey (event_id) does not include the sharding key device_id")
                .contains("references public.devices, which is not in the spec");
    }

    @Test
    void unreachableSourceExitsWithSourceCode() throws Exception {
        Path f = spec("host=127.0.0.1 port=1 dbname=demo user=postgres password=" + SECRET, nodesWithPassword("demo"), TABLES);
        Result r = run("plan", "--config", f.toString());
        assertThat(r.code()).isEqualTo(ExitCodes.SOURCE);
        assertThat(r.err()).contains("source 127.0.0.1:1/demo").contains("migrate.connstr").doesNotContain(SECRET);
    }

    @Test
    void unreachableNodeExitsWithTargetCode() throws Exception {
        List<String> nodes = List.of(cluster.nodes().get(0).connstr("demo"), "host=127.0.0.1 port=1 dbname=demo user=postgres password=" + SECRET);
        Path f = spec(cluster.source().connstr("demo"), nodes, TABLES);
        Result r = run("schema", "--config", f.toString());
        assertThat(r.code()).isEqualTo(ExitCodes.TARGET);
        assertThat(r.err()).contains("node 1 (127.0.0.1:1/demo)").doesNotContain(SECRET);
    }

    @Test
    void helpEverywhere() {
        for (String cmd : List.of("plan", "schema", "demo")) {
            Result r = run(cmd, "--help");
            assertThat(r.code()).isZero();
            assertThat(r.out()).contains("Usage: shardlift " + cmd);
        }
        Result top = run("--help");
        assertThat(top.out()).contains("Exit codes:", "plan", "schema", "demo");
    }
}
