package io.shardlift.ops.verify;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardlift.ops.ExitCodes;
import io.shardlift.ops.Main;
import io.shardlift.ops.workflow.Planning;
import io.shardlift.ops.verify.VerifyReport.ChunkReport;
import io.shardlift.ops.verify.VerifyReport.DiffKind;
import io.shardlift.ops.verify.VerifyReport.KeyDiff;
import io.shardlift.ops.verify.VerifyReport.TableReport;
import io.shardlift.core.TableId;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.plan.GlobalFanout;
import io.shardlift.core.plan.LayoutApplier;
import io.shardlift.core.plan.TablePlan;
import io.shardlift.core.spec.SpecLoader;
import io.shardlift.snapshotter.CopyProgress;
import io.shardlift.snapshotter.SnapshotOptions;
import io.shardlift.snapshotter.Snapshotter;
import io.shardlift.testkit.Datasets;
import io.shardlift.embedded.PgCluster;
import io.shardlift.embedded.PgNode;
import io.shardlift.testkit.SpecWriter;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code verify} on a real source and four real nodes after a real layout and copy: equal right after the copy,
 * then exactly the differences made by hand on the nodes and on the source, each with its kind, table, key range
 * and node.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class VerifyIT {

    static final String DB = "demo";
    static final int EVENTS = 50_000;
    static final TableId TYPES = new TableId("public", "device_types");
    static final TableId DEVICES = new TableId("public", "devices");
    static final TableId EVENTS_TABLE = new TableId("public", "events");
    static final TableId SETTINGS = new TableId("public", "settings");
    static final int SETTINGS_ROWS = 12_000;

    @TempDir
    static Path dir;
    static PgCluster cluster;
    static Path specFile;
    static ClusterPlan plan;

    @BeforeAll
    static void migrate() throws Exception {
        cluster = PgCluster.start("verify", 4, DB);
        try (Connection c = cluster.source().connect(DB)) {
            Datasets.createSensors(c);
            Datasets.loadSensors(c, 10, 1000, EVENTS);
            // a text key, in mixed case so that "C" order and a linguistic collation's order differ
            try (Statement st = c.createStatement()) {
                st.execute("CREATE TABLE public.settings (name text PRIMARY KEY, value text NOT NULL)");
                st.execute("INSERT INTO public.settings SELECT CASE WHEN i % 2 = 0 THEN 'Key-' ELSE 'key-' END || md5(i::text),"
                        + " i::text FROM generate_series(1, " + SETTINGS_ROWS + ") i");
                st.execute("ANALYZE public.settings");
            }
        }
        specFile = spec("migrate.yml", cluster.nodes().stream().map(n -> n.connstr(DB)).toList());
        plan = Planning.plan(new SpecLoader().load(specFile));
        LayoutApplier.apply(plan, EnumSet.of(LayoutApplier.Stage.TABLES));
        new Snapshotter(plan, new SnapshotOptions(2, 10_000),
                new CopyProgress(new SimpleMeterRegistry(), plan.tables().stream().map(TablePlan::id).toList())).run();
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    static Path spec(String name, List<String> nodes) throws Exception {
        Path f = SpecWriter.from(cluster.source().connstr(DB)).nodes(nodes).jobs(2)
                .tables(SpecWriter.sensorTables(8) + "        - {name: settings, type: sharded, distributedby: name, partitions: 4}\n")
                .write(dir.resolve(name));
        return f;
    }

    record Result(int code, String out, String err) {
    }

    static Result verify(String... options) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] args = new String[options.length + 5];
        args[0] = "verify";
        args[1] = "--config";
        args[2] = specFile.toString();
        args[3] = "--chunk-rows";
        args[4] = "5000";
        System.arraycopy(options, 0, args, 5, options.length);
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), args);
        System.out.println(out);
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    @Order(1)
    void theCopyComparesEqualWithEitherRowHash() throws Exception {
        long t0 = System.nanoTime();
        Result r = verify();
        System.out.printf("verify (equal) took %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        assertThat(r.code()).as(r.err()).isEqualTo(ExitCodes.OK);
        assertThat(r.out()).contains("equal: 4 tables, 63,010 rows on the source")
                .doesNotContain("DIFFERENT", "note:");

        // the PostgreSQL 10 hash gives the same verdict; one job compares everything in turn
        VerifyReport md5 = new Verifier(plan, new VerifyOptions(1, 5000, 20), Optional.of(RowHash.MD5)).run();
        assertThat(md5.equal()).isTrue();
        TableReport events = md5.table(EVENTS_TABLE).orElseThrow();
        assertThat(events.chunks()).as("50,000 events in ranges of about 5,000").isBetween(8, 14);
        assertThat(events.sourceRows()).isEqualTo(EVENTS);
        assertThat(events.clusterRows()).hasValue(EVENTS);
        assertThat(events.nodeRows()).allMatch(n -> n > 0).hasSize(4);
        TableReport types = md5.table(TYPES).orElseThrow();
        assertThat(types.nodeRows()).containsExactly(10L, 10L, 10L, 10L);
        assertThat(types.clusterRows()).hasValue(10);
        TableReport settings = md5.table(SETTINGS).orElseThrow();
        assertThat(settings.chunks()).as("a text key split by a sample too").isBetween(2, 4);
        assertThat(settings.clusterRows()).hasValue(SETTINGS_ROWS);
    }

    @Test
    @Order(2)
    void findsExactlyTheKeysChangedOnTheNodesAndOnTheSource() throws Exception {
        // a row deleted from node 1's local partition: missing
        long missing = queryLong(cluster.nodes().get(1), "DELETE FROM ONLY public.events_1 WHERE event_id = "
                + "(SELECT min(event_id) FROM ONLY public.events_1 WHERE event_id > 20000) RETURNING event_id");
        // a row only node 2's local partition holds: extra
        long device = queryLong(cluster.nodes().get(2), "SELECT device_id FROM ONLY public.events_2 LIMIT 1");
        execute(cluster.nodes().get(2), "INSERT INTO public.events_2 (event_id, device_id, payload, created_at)"
                + " VALUES (1000000, " + device + ", '{\"temperature\": 99}', '2025-01-01')");
        // a row changed on the source after the copy (no change stream runs here): different
        long changed = 30_000;
        try (Connection c = cluster.source().connect(DB); Statement st = c.createStatement()) {
            st.executeUpdate("UPDATE public.events SET payload = payload || '{\"recalibrated\": true}' WHERE event_id = " + changed);
        }
        String changedPartition = "public." + queryString(cluster.nodes().get(0),
                "SELECT tableoid::regclass::text FROM public.events WHERE event_id = " + changed);
        int changedNode = Integer.parseInt(changedPartition.substring(changedPartition.lastIndexOf('_') + 1)) % 4;
        // a text key deleted from node 3's local partition: missing
        String setting = queryString(cluster.nodes().get(3), "DELETE FROM ONLY public.settings_3 WHERE name = "
                + "(SELECT max(name COLLATE \"C\") FROM ONLY public.settings_3 WHERE name < 'a') RETURNING name");
        // a reference table changed on node 3 only (a session that does not fan out, as if node 3 alone had committed)
        try (Connection c = cluster.nodes().get(3).connect(DB); Statement st = c.createStatement()) {
            st.execute(GlobalFanout.MARK_SESSION);
            assertThat(st.executeUpdate("UPDATE public.device_types SET name = name || ' (moved)' WHERE device_type_id = 7")).isEqualTo(1);
        }

        Result r = verify();
        assertThat(r.code()).as(r.err()).isEqualTo(ExitCodes.DIFFERENCES);
        assertThat(r.out())
                .contains("    missing    event_id=" + missing + "\n")
                .contains("    extra      event_id=1000000  on node 2 (public.events_2)\n")
                .contains("    different  event_id=30000  on node " + changedNode + " (" + changedPartition + ")\n")
                .contains("    different  device_type_id=7  on node 3 (public.device_types)\n")
                .contains("    missing    name=" + setting + "\n")
                .contains("DIFFERENCES: 3 of 4 tables")
                .contains("keys listed: 2 missing, 1 extra, 2 different\n")
                .contains("note: Compared at ");

        VerifyReport report = new Verifier(plan, new VerifyOptions(2, 5000, 20)).run();
        assertThat(report.equal()).isFalse();
        assertThat(report.table(DEVICES).orElseThrow().equal()).isTrue();

        TableReport events = report.table(EVENTS_TABLE).orElseThrow();
        assertThat(events.sourceRows()).isEqualTo(EVENTS);
        assertThat(events.clusterRows()).as("one row missing, one extra").hasValue(EVENTS);
        assertThat(events.keys()).containsExactly(
                new KeyDiff(DiffKind.MISSING, List.of(Long.toString(missing)), chunkOf(events, missing), OptionalInt.empty(), Optional.empty()),
                new KeyDiff(DiffKind.DIFFERENT, List.of("30000"), chunkOf(events, changed), OptionalInt.of(changedNode), Optional.of(changedPartition)),
                new KeyDiff(DiffKind.EXTRA, List.of("1000000"), chunkOf(events, 1_000_000), OptionalInt.of(2), Optional.of("public.events_2")));
        assertThat(events.keysTruncated()).isFalse();
        // exactly the ranges holding those keys differ, and each holds its key
        assertThat(events.differingChunks()).extracting(ChunkReport::index)
                .containsExactlyElementsOf(events.keys().stream().map(KeyDiff::chunk).distinct().sorted().toList());
        for (KeyDiff k : events.keys()) {
            ChunkReport c = events.differingChunks().stream().filter(ch -> ch.index() == k.chunk()).findFirst().orElseThrow();
            long key = Long.parseLong(k.key().get(0));
            assertThat(c.lo().map(Long::parseLong).orElse(Long.MIN_VALUE)).as(k.toString()).isLessThanOrEqualTo(key);
            assertThat(c.hi().map(Long::parseLong).orElse(Long.MAX_VALUE)).as(k.toString()).isGreaterThan(key);
            assertThat(c.drilled()).isTrue();
        }
        assertThat(events.differingChunks().get(events.differingChunks().size() - 1).hi()).as("1000000 is past every bound").isEmpty();

        TableReport settings = report.table(SETTINGS).orElseThrow();
        assertThat(settings.keys()).singleElement().satisfies(k -> {
            assertThat(k.kind()).isEqualTo(DiffKind.MISSING);
            assertThat(k.key()).containsExactly(setting);
            assertThat(settings.differingChunks()).extracting(ChunkReport::index).containsExactly(k.chunk());
        });
        assertThat(settings.clusterRows()).hasValue(SETTINGS_ROWS - 1);

        TableReport types = report.table(TYPES).orElseThrow();
        assertThat(types.keys()).containsExactly(
                new KeyDiff(DiffKind.DIFFERENT, List.of("7"), 0, OptionalInt.of(3), Optional.of("public.device_types")));
        assertThat(types.differingChunks()).singleElement().satisfies(c -> {
            assertThat(c.differingNodes()).containsExactly(3);
            assertThat(c.nodeRows()).containsExactly(10L, 10L, 10L, 10L);
        });

        // the copies of the global tables compared with node 0's: node 3's differs, and only there
        VerifyReport copies = Verifier.globalCopies(plan, new VerifyOptions(2, 5000, 20)).run();
        assertThat(copies.equal()).isFalse();
        assertThat(copies.tables()).extracting(TableReport::table).containsExactly(TYPES);
        assertThat(copies.table(TYPES).orElseThrow().keys()).containsExactly(
                new KeyDiff(DiffKind.DIFFERENT, List.of("7"), 0, OptionalInt.of(3), Optional.of("public.device_types")));

        // a key limit of 0 lists nothing, and says there is more
        VerifyReport unlisted = new Verifier(plan, new VerifyOptions(2, 5000, 0)).run();
        assertThat(unlisted.table(EVENTS_TABLE).orElseThrow().keys()).isEmpty();
        assertThat(unlisted.table(EVENTS_TABLE).orElseThrow().keysTruncated()).isTrue();
        assertThat(unlisted.table(EVENTS_TABLE).orElseThrow().differingChunks()).hasSameSizeAs(events.differingChunks());

        Result json = verify("--json");
        assertThat(json.code()).isEqualTo(ExitCodes.DIFFERENCES);
        JsonNode j = new ObjectMapper().readTree(json.out());
        assertThat(j.get("equal").asBoolean()).isFalse();
        assertThat(j.get("summary").get("missing").asInt()).isEqualTo(2);
        assertThat(j.get("summary").get("extra").asInt()).isEqualTo(1);
        assertThat(j.get("summary").get("different").asInt()).isEqualTo(2);
        JsonNode ev = j.get("tables").get(2);
        assertThat(ev.get("table").asText()).isEqualTo("public.events");
        assertThat(ev.get("keys").get(2).get("key").get("event_id").asText()).isEqualTo("1000000");
        assertThat(ev.get("keys").get(2).get("node").asInt()).isEqualTo(2);
    }

    @Test
    @Order(3)
    void aSourceWrittenDuringTheComparisonIsNotedWithTheDifferences() throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger written = new AtomicInteger();
        Thread writer = new Thread(() -> {
            try (Connection c = cluster.source().connect(DB); Statement st = c.createStatement()) {
                while (!stop.get()) {
                    st.execute("CALL public.generate_reading(1)");
                    written.incrementAndGet();
                }
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        }, "writer");
        writer.start();
        VerifyReport report;
        try {
            while (written.get() == 0) {
                Thread.sleep(10);
            }
            report = new Verifier(plan, new VerifyOptions(2, 5000, 20)).run();
        } finally {
            stop.set(true);
            writer.join();
        }
        assertThat(report.equal()).isFalse();
        assertThat(report.sourceLsnAfter().orElseThrow()).isGreaterThan(report.sourceLsnBefore().orElseThrow());
        assertThat(report.notes()).singleElement().asString()
                .contains("The source was written while it ran (WAL " + report.sourceLsnBefore().get() + " to ")
                .contains("a difference can be a change not applied yet");
        // the rows written meanwhile are on the source only, with no change stream to carry them: missing
        assertThat(report.table(EVENTS_TABLE).orElseThrow().keys(DiffKind.MISSING)).hasSizeGreaterThan(1);
    }

    @Test
    @Order(4)
    void nodesThatWereNeverLaidOutFailWithTheTargetCodeNamingTheNode() throws Exception {
        cluster.nodes().forEach(n -> n.createDatabase("empty"));
        Path f = spec("empty.yml", cluster.nodes().stream().map(n -> n.connstr("empty")).toList());
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), "verify", "--config", f.toString());
        assertThat(code).isEqualTo(ExitCodes.TARGET);
        assertThat(err.toString()).contains("node 0 (127.0.0.1:" + cluster.nodes().get(0).port() + "/empty)")
                .contains("\"public\".\"device_types\", \"public\".\"devices_0\", \"public\".\"devices_4\", "
                        + "\"public\".\"events_0\", \"public\".\"events_4\", \"public\".\"settings_0\" do not exist: the node is not laid out for this spec");
    }

    @Test
    @Order(5)
    void badOptionsAreUsageErrorsNamingTheRule() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), "verify", "--config", specFile.toString(), "--max-keys", "-1");
        assertThat(code).isEqualTo(ExitCodes.USAGE);
        // checked where the option is read, as every numeric option is (ops/Numbers), naming the option and the rule
        assertThat(err.toString()).contains("Invalid value for option '--max-keys': '-1' is out of range; it must be at least 0");
    }

    @Test
    @Order(6)
    void aListedTableTheSourceNoLongerHasIsNamedAndTheOthersCompared() throws Exception {
        // found walking by hand: after a RENAME TO on the source (its stream stopped), verify refused to compare anything
        Path f = SpecWriter.from(cluster.source().connstr(DB)).nodes(cluster.nodes().stream().map(n -> n.connstr(DB)).toList())
                .jobs(2).tables(SpecWriter.sensorTables(8) + "        - {name: settings, type: sharded, distributedby: name, partitions: 4}\n"
                        + "        - {name: gone, type: global}\n")
                .write(dir.resolve("gone.yml"));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), "verify", "--config", f.toString(), "--chunk-rows", "5000");
        assertThat(code).as(err.toString()).isEqualTo(ExitCodes.DIFFERENCES);
        assertThat(out.toString()).contains("public.gone: not compared: public.gone: the spec lists this table but the source has no table")
                .contains("public.device_types").contains("public.settings").doesNotContain("\tat ");
    }

    static int chunkOf(TableReport t, long key) {
        return t.differingChunks().stream()
                .filter(c -> c.lo().map(Long::parseLong).orElse(Long.MIN_VALUE) <= key
                        && key < c.hi().map(Long::parseLong).orElse(Long.MAX_VALUE))
                .mapToInt(ChunkReport::index).findFirst().orElse(-1);
    }

    static long queryLong(PgNode n, String sql) throws SQLException {
        try (Connection c = n.connect(DB); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            assertThat(rs.next()).as(sql).isTrue();
            return rs.getLong(1);
        }
    }

    static String queryString(PgNode n, String sql) throws SQLException {
        try (Connection c = n.connect(DB); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            assertThat(rs.next()).as(sql).isTrue();
            return rs.getString(1);
        }
    }

    static void execute(PgNode n, String sql) throws SQLException {
        try (Connection c = n.connect(DB); Statement st = c.createStatement()) {
            assertThat(st.executeUpdate(sql)).as(sql).isEqualTo(1);
        }
    }
}
