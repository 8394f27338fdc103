package io.shardlift.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code shardlift run} killed with SIGKILL at the two worst moments of its cutover. In the drain, with the write
 * fence held on the source: on restart the cutover is settled as rolled back and the source takes writes again.
 * Just past the point of no return, before the outcome was recorded: on restart the cutover is settled as done,
 * the foreign keys validated, the source refuses writes, and source and cluster are equal row by row.
 */
class CutoverCrashIT {

    static final String TOKEN = "cutover-crash-it-token-0123456789";
    static SensorsMigration env;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        env = SensorsMigration.start("cutcrash", 50_000);
    }

    @AfterAll
    static void stop() {
        if (env != null) {
            env.close();
        }
    }

    @Test
    void killedMidCutoverRollsBackCleanlyAndTheNextCutoverCompletes() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path spec = env.spec(dir, port, "CUTOVER_CRASH_IT_TOKEN");
        Path log = dir.resolve("run.log");
        Map<String, String> tokenEnv = Map.of("CUTOVER_CRASH_IT_TOKEN", TOKEN);
        String[] args = {"run", "--config", spec.toString(), "--status-interval", "1"};
        HttpClient http = HttpClient.newHttpClient();

        // the first run stops inside the drain: marker emitted, the source's tables fenced, nothing committed
        ShardliftProcess run = ShardliftProcess.start(log, withFailpoint(tokenEnv, "cutover.drain"), args);
        awaitReady(http, port, run);
        // schema changes carried before the cutover: its recovery must follow them, not the plan the migration began with
        // (a dropped foreign key is not created, an added one is, and validated; the columns are compared as they are)
        try (Connection c = env.cluster.source().connect(SensorsMigration.DB); Statement st = c.createStatement()) {
            st.execute("ALTER TABLE public.events DROP CONSTRAINT events_device_id_fkey");
            st.execute("ALTER TABLE public.events ADD COLUMN note text DEFAULT 'n'");
            st.execute("ALTER TABLE public.devices ADD COLUMN serial_no bigint GENERATED ALWAYS AS IDENTITY");
            st.execute("ALTER TABLE public.devices ADD CONSTRAINT devices_type_again FOREIGN KEY (device_type_id)"
                    + " REFERENCES public.device_types");
        }
        long carried = System.nanoTime() + 120_000_000_000L;
        while (carriedSoFar() < 4) {
            assertThat(run.isAlive()).as(run.describe()).isTrue();
            assertThat(System.nanoTime()).as("the schema changes carried: " + run.describe()).isLessThan(carried);
            Thread.sleep(200);
        }
        CompletableFuture<HttpResponse<String>> pending = http.sendAsync(cutover(port), HttpResponse.BodyHandlers.ofString());
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (count(env.cluster.source(), "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
                + " WHERE c.relname = 'events' AND l.mode = 'ExclusiveLock' AND l.granted") == 0) {
            assertThat(System.nanoTime()).as(run.describe()).isLessThan(deadline);
            Thread.sleep(20);
        }
        assertThat(meta("cutover")).startsWith("CUTTING_OVER");
        run.kill(); // in the middle of the cutover, the source's tables fenced
        pending.handle((r, e) -> null).join();

        // the lock died with the process: the source takes writes again, no write fence was left behind
        try (Connection c = env.cluster.source().connect(SensorsMigration.DB); Statement st = c.createStatement()) {
            st.execute("INSERT INTO public.events (device_id, payload) VALUES (7, '{\"after\": \"crash\"}')");
        }
        assertThat(count(env.cluster.source(), "SELECT count(*) FROM pg_trigger WHERE tgname = 'shardlift_moved'")).isZero();

        // the second run settles the first as rolled back, then stops just past the point of no return:
        // the fence committed, its state on node 0 not yet recorded
        ShardliftProcess again = ShardliftProcess.start(log, withFailpoint(tokenEnv, "cutover.released"), args);
        awaitReady(http, port, again);
        assertThat(meta("cutover")).startsWith("ROLLED_BACK");
        assertThat(Files.readString(log)).contains("rolled back, the source is writable");
        deadline = System.nanoTime() + 120_000_000_000L;
        CompletableFuture<HttpResponse<String>> asked = null;
        while (count(env.cluster.source(), "SELECT count(*) FROM pg_trigger WHERE tgname = 'shardlift_moved'") < 3) {
            assertThat(System.nanoTime()).as(again.describe()).isLessThan(deadline);
            if (asked == null) {
                asked = http.sendAsync(cutover(port), HttpResponse.BodyHandlers.ofString());
            }
            // 422: the lag gate refused while the restarted pipeline caught up; ask again. Past the point of no
            // return the request never answers: the process waits at its failpoint. A request still unanswered
            // after 5 s is waited for further (on a loaded machine a cutover that will be refused can take longer;
            // asking again meanwhile was answered 409, "a cutover is already running")
            HttpResponse<String> r;
            try {
                r = asked.get(5, java.util.concurrent.TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException stillUnanswered) {
                continue;
            }
            assertThat(r.statusCode()).as(r.body()).isEqualTo(422);
            asked = null;
            Thread.sleep(2_000);
        }
        assertThat(meta("cutover")).startsWith("CUTTING_OVER");
        again.kill();

        // the third run finds the source fenced for good: the cutover is settled as done, foreign keys validated
        ShardliftProcess third = ShardliftProcess.start(log, tokenEnv, args);
        deadline = System.nanoTime() + 120_000_000_000L;
        while (!meta("cutover").startsWith("CUT_OVER")) {
            assertThat(third.isAlive()).as(third.describe()).isTrue();
            assertThat(System.nanoTime()).as(third.describe()).isLessThan(deadline);
            Thread.sleep(200);
        }
        assertThat(meta("cutover")).contains("finished after a restart");
        assertThat(count(env.cluster.nodes().get(0), "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND NOT convalidated"))
                .isZero();
        assertThat(count(env.cluster.nodes().get(0), "SELECT count(*) FROM pg_constraint WHERE contype = 'f'")).isPositive();
        assertThat(count(env.cluster.nodes().get(0), "SELECT count(*) FROM pg_constraint WHERE contype = 'f'"
                + " AND conname LIKE 'events_device_id_fkey%'")).as("the dropped key is not created").isZero();
        assertThat(count(env.cluster.nodes().get(0), "SELECT count(*) FROM pg_constraint WHERE contype = 'f'"
                + " AND conname LIKE 'devices_type_again%' AND convalidated")).as("the added key is").isPositive();
        assertThatThrownBy(() -> {
            try (Connection c = env.cluster.source().connect(SensorsMigration.DB); Statement st = c.createStatement()) {
                st.execute("INSERT INTO public.events (device_id, payload) VALUES (7, '{}')");
            }
        }).hasMessageContaining("moved to the sharded cluster");
        Migrations.assertEqual(env.cluster, SensorsMigration.DB);
        // the identity column added during the migration draws on the cluster from a sequence past the source's
        try (Connection c = env.cluster.nodes().get(1).connect(SensorsMigration.DB); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("INSERT INTO public.devices (device_id, device_type_id, name)"
                     + " SELECT 900001, device_type_id, 'after' FROM public.device_types LIMIT 1 RETURNING serial_no")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getLong(1)).isGreaterThan(count(env.cluster.source(), "SELECT max(serial_no) FROM public.devices"));
        }
        assertThat(Files.readString(log)).contains("had passed its point of no return before the restart");
        third.kill();
    }

    static Map<String, String> withFailpoint(Map<String, String> env, String failpoint) {
        Map<String, String> m = new java.util.HashMap<>(env);
        m.put("SHARDLIFT_FAILPOINTS", failpoint);
        return m;
    }

    static HttpRequest cutover(int port) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/cutover")).timeout(Duration.ofMinutes(2))
                .header("Authorization", "Bearer " + TOKEN).POST(HttpRequest.BodyPublishers.noBody()).build();
    }

    static void awaitReady(HttpClient http, int port, ShardliftProcess p) throws Exception {
        long deadline = System.nanoTime() + 180_000_000_000L;
        while (true) {
            assertThat(p.isAlive()).as(p.describe()).isTrue();
            assertThat(System.nanoTime()).as("ready: " + p.describe()).isLessThan(deadline);
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/ready")).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (java.io.IOException notYet) {
                // the control plane is not up yet
            }
            Thread.sleep(300);
        }
    }

    /** Schema changes carried out on node 0 so far; its ledger table comes with the first one. */
    static long carriedSoFar() throws Exception {
        try {
            return count(env.cluster.nodes().get(0), "SELECT count(*) FROM shardlift.ddl_applied");
        } catch (java.sql.SQLException none) {
            if (!"42P01".equals(none.getSQLState())) {
                throw none;
            }
            return 0;
        }
    }

    static String meta(String key) throws Exception {
        try (Connection c = env.cluster.nodes().get(0).connect(SensorsMigration.DB); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT value FROM shardlift.meta WHERE key = '" + key + "'")) {
            return rs.next() ? rs.getString(1) : "";
        }
    }

    static long count(io.shardlift.embedded.PgNode n, String sql) throws Exception {
        try (Connection c = n.connect(SensorsMigration.DB); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
