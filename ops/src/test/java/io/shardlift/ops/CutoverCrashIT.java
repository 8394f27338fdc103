package io.shardlift.ops;

import static org.assertj.core.api.Assertions.assertThat;

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
 * {@code shardlift run} killed with SIGKILL in the middle of its cutover, with the write fence held on the
 * source: on restart the cutover is settled as rolled back, the source takes writes again, and a second
 * cutover over HTTP completes with source and cluster equal row by row.
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

        ShardliftProcess run = ShardliftProcess.start(log, tokenEnv, args);
        awaitReady(http, port, run);
        // the broker goes away: the cutover's marker cannot get through, so the drain waits with the fence held
        env.kafka.stop();
        CompletableFuture<HttpResponse<String>> pending = http.sendAsync(cutover(port), HttpResponse.BodyHandlers.ofString());
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (count(env.cluster.source(), "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
                + " WHERE c.relname = 'events' AND l.mode = 'ExclusiveLock' AND l.granted") == 0) {
            assertThat(System.nanoTime()).as(run.describe()).isLessThan(deadline);
            Thread.sleep(20);
        }
        assertThat(meta("cutover")).startsWith("CUTTING_OVER");
        run.kill(); // in the middle of the cutover, the source's tables fenced
        pending.handle((r, e) -> null).join();
        env.kafka.restart();

        // the lock died with the process: the source takes writes again, no write fence was left behind
        try (Connection c = env.cluster.source().connect(SensorsMigration.DB); Statement st = c.createStatement()) {
            st.execute("INSERT INTO public.events (device_id, payload) VALUES (7, '{\"after\": \"crash\"}')");
        }
        assertThat(count(env.cluster.source(), "SELECT count(*) FROM pg_trigger WHERE tgname = 'shardlift_moved'")).isZero();

        ShardliftProcess again = ShardliftProcess.start(log, tokenEnv, args);
        awaitReady(http, port, again);
        assertThat(meta("cutover")).startsWith("ROLLED_BACK");
        HttpResponse<String> done = null;
        for (int attempt = 0; attempt < 10; attempt++) {
            done = http.send(cutover(port), HttpResponse.BodyHandlers.ofString());
            if (done.statusCode() != 422) {
                break; // 422: the lag gate refused while the restarted pipeline caught up; ask again
            }
            Thread.sleep(2_000);
        }
        assertThat(done.statusCode()).as(done.body() + "\n" + again.describe()).isEqualTo(200);
        assertThat(meta("cutover")).startsWith("CUT_OVER");
        Migrations.assertEqual(env.cluster, SensorsMigration.DB);
        assertThat(Files.readString(log)).contains("rolled back, the source is writable");
        again.kill();
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

    static String meta(String key) throws Exception {
        try (Connection c = env.cluster.nodes().get(0).connect(SensorsMigration.DB); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT value FROM shardlift.meta WHERE key = '" + key + "'")) {
            return rs.next() ? rs.getString(1) : "";
        }
    }

    static long count(io.shardlift.testkit.PgNode n, String sql) throws Exception {
        try (Connection c = n.connect(SensorsMigration.DB); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
