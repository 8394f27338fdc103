package io.shardlift.ops;

import static io.shardlift.ops.RunWaits.awaitTrue;
import static io.shardlift.ops.RunWaits.check;
import static io.shardlift.ops.RunWaits.note;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shardlift.core.ledger.Markers;
import io.shardlift.embedded.PgNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A restart of {@code shardlift run}, as its own process, of a migration under way whose source got two tables while no
 * run ran, in a schema listed with {@code all: true}: {@code a} without a primary key, which the planner refuses, and
 * {@code b} with one, a writer writing to both (and to the migrated tables) the whole time. The restart does not refuse
 * to start over {@code a}: it takes {@code b} on, names {@code a} with the planner's reason exactly as the running
 * take-on does (its log, {@code apply.notCarried} of /status) and the cutover is refused, naming {@code a}. Once
 * {@code a} has a primary key the running process takes it on, and the cutover goes through. Source and cluster are
 * equal row by row at each step. A first start over a table without a primary key is still refused before anything is
 * written.
 */
class DdlRestartRefusedIT {

    static final String DB = "restartrefused";
    static final String TOKEN = "ddl-restart-refused-it-token-0123456789";
    static final String TOKEN_ENV = "DDL_RESTART_REFUSED_IT_TOKEN";
    static final String SCHEMAS = "    - name: public\n      all: true\n      tables:\n"
            + "        - {name: items, type: sharded, distributedby: id, partitions: 4}\n";
    /** Kafka partitions per table topic. */
    static final int TOPIC_PARTITIONS = 2;
    static final String REFUSAL = "cannot take on [public.a], created on the source during the migration: public.a: has no"
            + " primary key — shardlift applies changes by key and needs one; add it on the source (ALTER TABLE"
            + " \"public\".\"a\" ADD PRIMARY KEY (...)) — planned again every 30 s and taken on once the planner"
            + " accepts it; the other tables created on the source are not held by it";
    static SchemaFixture env;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        env = SchemaFixture.start("restartrefused", DB,
                "CREATE TABLE public.items (id bigint PRIMARY KEY, v int NOT NULL DEFAULT 0)",
                "INSERT INTO public.items SELECT g, g % 7 FROM generate_series(1, 2000) g",
                "CREATE TABLE public.kinds (k int PRIMARY KEY, name text)",
                "INSERT INTO public.kinds SELECT g, 'k' || g FROM generate_series(1, 50) g");
    }

    @AfterAll
    static void stop() {
        if (env != null) {
            env.close();
        }
    }

    @Test
    void aRestartLeavesOutANewTableThePlannerRefusesAndTakesItOnOnceFixed() throws Exception {
        Path spec = env.spec(TOPIC_PARTITIONS).schemas(SCHEMAS).control("127.0.0.1:" + env.controlPort, TOKEN_ENV)
                .write(dir.resolve("migrate.yml"));
        // kept after the test (target/ is the build's): what each run printed, with the test's steps
        Path log = Path.of("target", "DdlRestartRefusedIT-run.log").toAbsolutePath();
        Files.deleteIfExists(log);
        Map<String, String> tokenEnv = Map.of(TOKEN_ENV, TOKEN);
        String[] args = {"run", "--config", spec.toString(), "--data-dir", dir.resolve("data").toString(), "--status-interval", "1"};

        // a first start is refused over a table without a primary key, before anything is written: no slot
        source("CREATE TABLE public.early (id bigint, v text)");
        ShardliftProcess refused = ShardliftProcess.start(log, tokenEnv, args);
        assertThat(refused.waitFor(180)).as(refused.describe()).isNotZero();
        assertThat(Files.readString(log)).contains("public.early: has no primary key", "nothing was written");
        assertThat(count(env.cluster.source(), "SELECT count(*) FROM pg_replication_slots")).isZero();
        source("DROP TABLE public.early");
        note(log, "the first start refused public.early; dropped");

        AtomicLong next = new AtomicLong(100_000);
        AtomicBoolean newTables = new AtomicBoolean();
        AtomicBoolean aHasKey = new AtomicBoolean();
        // held by the test to compare row by row while the writer waits between two writes
        Object writes = new Object();
        SchemaFixture.Write write = st -> {
            synchronized (writes) {
                long id = next.incrementAndGet();
                st.execute("INSERT INTO public.items (id, v) VALUES (" + id + ", 1)");
                st.execute("UPDATE public.kinds SET name = 'w" + id + "' WHERE k = " + (id % 50 + 1));
                if (newTables.get()) {
                    st.execute("INSERT INTO public.b VALUES (" + id + ", 'w')");
                    st.execute("UPDATE public.b SET v = 'u" + id + "' WHERE id = " + (id % 300 + 1));
                    st.execute("DELETE FROM public.b WHERE id = " + (id - 40));
                    st.execute("INSERT INTO public.a VALUES (" + id + ", 'w')");
                }
                if (aHasKey.get()) {
                    st.execute("UPDATE public.a SET v = 'u" + id + "' WHERE id = " + (id % 200 + 1));
                    st.execute("DELETE FROM public.a WHERE id = " + (id - 60));
                }
                return 0;
            }
        };
        try (SchemaFixture.Writer w = env.writer(write)) {
            ShardliftProcess first = ShardliftProcess.start(log, tokenEnv, args);
            marker(log, first, w, writes, "warm", 2);
            first.kill();
            note(log, "SIGKILL of the first run, caught up");

            // created during the migration while no run runs: the restart plans them at its start
            source("CREATE TABLE public.a (id bigint NOT NULL, v text)",
                    "INSERT INTO public.a SELECT g, 'a' || g FROM generate_series(1, 200) g",
                    "CREATE TABLE public.b (id bigint PRIMARY KEY, v text)",
                    "INSERT INTO public.b SELECT g, 'b' || g FROM generate_series(1, 300) g",
                    "UPDATE public.b SET v = 'changed' WHERE id <= 20");
            newTables.set(true);

            // plan, run's dry twin, says what the restart leaves out, and finds nothing in the way
            Path planned = dir.resolve("plan.out");
            ShardliftProcess plan = ShardliftProcess.start(planned, tokenEnv, "plan", "--config", spec.toString(), "--data-dir",
                    dir.resolve("data").toString(), "--no-ddl");
            assertThat(plan.waitFor(180)).as(plan.describe()).isZero();
            assertThat(Files.readString(planned)).contains("left out, created on the source during the migration and refused by"
                    + " the planner (1)", "  ! public.a: has no primary key", "preflight: every check passed");
            assertThat(Files.readString(planned)).contains("public.b ").doesNotContain("public.a  ");

            // the restart starts without a, takes b on, and names a as the take-on does
            ShardliftProcess second = ShardliftProcess.start(log, tokenEnv, args);
            awaitTrue(second, w, "the restart names public.a", () -> Files.readString(log).contains("shardlift: " + REFUSAL));
            marker(log, second, w, writes, "restarted", 3);
            synchronized (writes) {
                marker(log, second, w, null, "restarted-still", 3);
                env.assertEqual("public.b", List.of("id"));
                env.assertEqual("public.items", List.of("id"));
                env.assertEqual("public.kinds", List.of("k"));
            }
            assertThat(count(env.cluster.nodes().get(0), "SELECT count(*) FROM pg_class WHERE oid = to_regclass('public.a')"))
                    .as("public.a is not laid out").isZero();
            JsonNode status = status();
            JsonNode notCarried = status.path("apply").path("notCarried");
            assertThat(notCarried.size()).as(status.toString()).isEqualTo(2);
            assertThat(notCarried.get(0).asText()).isEqualTo(REFUSAL);
            assertThat(notCarried.get(1).asText()).startsWith("CREATE TABLE public.a during the migration").contains(
                    "It has no primary key, so its changes cannot be streamed: give it one (ALTER TABLE \"public\".\"a\""
                            + " ADD PRIMARY KEY (...))");

            // a's rows would be left behind: the cutover is refused, naming it, and changes nothing
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> no = cutover(http, second, "CREATE TABLE public.a during the migration");
            assertThat(no.statusCode()).as(no.body()).isEqualTo(422);
            assertThat(no.body()).contains("the cutover is refused while it is not", "ADD PRIMARY KEY").doesNotContain("public.b ");
            assertThat(w.fenced.get()).isNull();

            // fixed on the source: the running process plans it again and takes it on
            source("ALTER TABLE public.a ADD PRIMARY KEY (id)");
            aHasKey.set(true);
            awaitTrue(second, w, "public.a taken on", () -> Files.readString(log).contains("shardlift: took on [public.a] in "));
            marker(log, second, w, writes, "a-taken-on", 4);
            synchronized (writes) {
                marker(log, second, w, null, "a-taken-on-still", 4);
                env.assertEqual("public.a", List.of("id"));
                env.assertEqual("public.b", List.of("id"));
            }
            assertThat(Files.readString(log).indexOf("shardlift: " + REFUSAL)).as("said once")
                    .isEqualTo(Files.readString(log).lastIndexOf("shardlift: " + REFUSAL));

            HttpResponse<String> done = cutover(http, second, null);
            assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
            assertThat(new ObjectMapper().readTree(done.body()).path("outcome").asText()).as(done.body()).isEqualTo("DONE");
            w.awaitFenced();
            env.assertEqual("public.a", List.of("id"));
            env.assertEqual("public.b", List.of("id"));
            env.assertEqual("public.items", List.of("id"));
            env.assertEqual("public.kinds", List.of("k"));
            assertThat(second.isAlive()).as(second.describe()).isTrue();
            second.kill();
        }
    }

    /**
     * POST /cutover with the token, asked again while it is refused (422) for another reason than {@code until} (the
     * stream a moment behind); {@code until} null: asked again while refused at all.
     */
    private static HttpResponse<String> cutover(HttpClient http, ShardliftProcess p, String until) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + env.controlPort + "/cutover"))
                .timeout(Duration.ofMinutes(3)).header("Authorization", "Bearer " + TOKEN)
                .POST(HttpRequest.BodyPublishers.noBody()).build();
        HttpResponse<String> r = null;
        for (int i = 0; i < 30 && (r == null || r.statusCode() == 422 && (until == null || !r.body().contains(until))); i++) {
            if (r != null) {
                Thread.sleep(2_000);
            }
            assertThat(p.isAlive()).as(p.describe()).isTrue();
            r = http.send(request, HttpResponse.BodyHandlers.ofString());
        }
        return r;
    }

    private static JsonNode status() throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + env.controlPort + "/status")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return new ObjectMapper().readTree(r.body());
    }

    private static void source(String... sql) throws SQLException {
        try (Connection c = env.cluster.source().connect(DB); Statement st = c.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        }
    }

    /**
     * Emits marker {@code name} until every partition of {@code tables} tables applied past it; with {@code writes}, each
     * emission waits for the writer to be between two writes (null: the caller holds it).
     */
    private static void marker(Path log, ShardliftProcess p, SchemaFixture.Writer w, Object writes, String name, int tables)
            throws Exception {
        long deadline = System.nanoTime() + 240_000_000_000L;
        String applied = "SELECT count(*) FROM shardlift.marker WHERE marker = '" + name + "'";
        while (count0(applied) < (long) tables * TOPIC_PARTITIONS) {
            try (Connection c = env.cluster.source().connect(DB)) {
                if (writes != null) {
                    synchronized (writes) {
                        Markers.emit(c, name);
                    }
                } else {
                    Markers.emit(c, name);
                }
            }
            long next = System.nanoTime() + 3_000_000_000L;
            while (System.nanoTime() < next && count0(applied) < (long) tables * TOPIC_PARTITIONS) {
                check(p, w, "marker " + name, deadline);
                Thread.sleep(50);
            }
        }
        note(log, "marker " + name + " applied");
    }

    private static long count(PgNode n, String sql) throws SQLException {
        try (Connection c = n.connect(DB); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** On node 0; -1 while the control schema does not exist yet. */
    private static long count0(String sql) {
        try {
            return count(env.cluster.nodes().get(0), sql);
        } catch (SQLException notYet) {
            return -1;
        }
    }
}
