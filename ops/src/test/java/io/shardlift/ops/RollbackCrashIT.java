package io.shardlift.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlift.embedded.PgNode;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The way back killed with SIGKILL at three moments, each recovered by the next start of the same command, while the
 * application keeps writing the cluster through every node: (a) in the rollback window, while the reverse stream
 * carries the cluster's writes to the source; (b) inside a rollback before its point of no return, the cluster fenced
 * and its markers not yet through (the restart lifts the cluster's fence: the cluster is the database again); (c) inside
 * a second rollback just past its point of no return, the source's fence lifted and the outcome not yet recorded (the
 * restart settles it as REVERTED). At the end every write the cluster acknowledged is on the source exactly once, and
 * source and cluster are equal row by row.
 */
class RollbackCrashIT {

    static final String TOKEN = "rollback-crash-it-token-0123456789";
    static final String DB = SensorsMigration.DB;
    static SensorsMigration env;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        env = SensorsMigration.start("rbcrash", 5_000, 2);
    }

    @AfterAll
    static void stop() {
        if (env != null) {
            env.close();
        }
    }

    @Test
    void killedInTheWindowAndInsideTheRollbackBeforeAndAfterItsPointOfNoReturnLosesAndDoublesNothing() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path spec = env.spec(dir, port, "ROLLBACK_CRASH_IT_TOKEN");
        // kept after the test (target/ is the build's): what each run printed, with the moments it was killed
        Path log = Path.of("target", "RollbackCrashIT-run.log").toAbsolutePath();
        Files.deleteIfExists(log);
        Map<String, String> tokenEnv = Map.of("ROLLBACK_CRASH_IT_TOKEN", TOKEN);
        String[] args = {"run", "--config", spec.toString(), "--status-interval", "1"};
        HttpClient http = HttpClient.newHttpClient();
        List<PgNode> nodes = env.cluster.nodes();

        ShardliftProcess first = ShardliftProcess.start(log, tokenEnv, args);
        awaitListening(http, port, first);
        HttpResponse<String> cut = askUntilTaken(http, port, "/cutover", first);
        assertThat(cut.statusCode()).as(cut.body()).isEqualTo(200);
        assertThat(cut.body()).contains("\"DONE\"");
        assertThat(meta("cutover")).startsWith("CUT_OVER");

        try (AckWriter acks = new AckWriter(nodes)) {
            ReverseStreamIT.ClusterWriters app = new ReverseStreamIT.ClusterWriters(nodes, 50);
            try {
                // (a) mid-stream: the reverse applier has committed batches to the source, the writers still write
                awaitTrue(first, "reverse streaming", () -> appliedOnSource() > 0 && acks.acked.size() > 50);
                long before = appliedOnSource();
                awaitTrue(first, "reverse streaming on", () -> appliedOnSource() > before + 100);
                first.kill();
                note(log, "SIGKILL (a) while the reverse stream applies, " + acks.acked.size() + " writes acknowledged so far");

                // (b) the rollback stopped after the cluster's fence, before its markers went through
                ShardliftProcess second = ShardliftProcess.start(log, withFailpoint(tokenEnv, "rollback.drain"), args);
                awaitListening(http, port, second);
                long acked = acks.acked.size();
                awaitTrue(second, "the reverse stream going on after the restart", () -> acks.acked.size() > acked + 20);
                CompletableFuture<HttpResponse<String>> pending = askAsyncUntilHanging(http, port, "/rollback", second,
                        () -> meta("cutover").startsWith("ROLLING_BACK") && logContains(log, "failpoint rollback.drain reached"));
                second.kill();
                pending.handle((r, e) -> null).join();
                note(log, "SIGKILL (b) inside the rollback before its point of no return");
            } finally {
                app.close(); // the cluster writers stopped at the cluster's fence
            }
            assertThat(app.fenced.get()).as("the rollback's fence stopped the cluster's writers").isTrue();

            // the restart lifts the cluster's fence: the application writes the cluster again
            ShardliftProcess third = ShardliftProcess.start(log, withFailpoint(tokenEnv, "rollback.released"), args);
            awaitListening(http, port, third);
            assertThat(meta("cutover")).startsWith("CUT_OVER").contains("interrupted before its point of no return");
            assertThat(Files.readString(log)).contains("was interrupted before its point of no return: the cluster is still the database");
            ReverseStreamIT.ClusterWriters again = new ReverseStreamIT.ClusterWriters(nodes, 50);
            try {
                long acked = acks.acked.size();
                awaitTrue(third, "the cluster writable again", () -> acks.acked.size() > acked + 50 && again.commits.get() > 20);
                // (c) the second rollback stopped just past its point of no return: the source's fence lifted, committed
                CompletableFuture<HttpResponse<String>> pending = askAsyncUntilHanging(http, port, "/rollback", third,
                        () -> logContains(log, "failpoint rollback.released reached"));
                assertThat(meta("cutover")).startsWith("ROLLING_BACK");
                third.kill();
                pending.handle((r, e) -> null).join();
                note(log, "SIGKILL (c) inside the rollback past its point of no return");
            } finally {
                again.close();
            }
            assertThat(again.fenced.get()).isTrue();
            acks.close();

            // the fourth start settles the rollback as done: the source is the database again
            ShardliftProcess fourth = ShardliftProcess.start(log, tokenEnv, args);
            try {
                awaitListening(http, port, fourth);
                assertThat(meta("cutover")).startsWith("REVERTED").contains("finished after a restart");
                assertThat(Files.readString(log)).contains("had passed its point of no return before the restart: the source is the database again");
                assertThat(ReverseStreamIT.slotsOnNodes(nodes)).isZero();

                // every write the cluster acknowledged is on the source exactly once, and nothing else came back
                System.out.printf("cluster writes acknowledged: %d (refused or lost with a connection: %d)%n", acks.acked.size(),
                        acks.refused.get());
                assertThat(acks.acked.size()).isGreaterThan(100);
                Map<String, Long> onSource = ackRows(env.cluster.source());
                assertThat(onSource.values()).allMatch(n -> n == 1);
                assertThat(onSource.keySet()).containsAll(acks.acked);
                assertThat(acks.acked).containsAll(onSource.keySet().stream().filter(k -> !acks.unknown.contains(k)).toList());
                Migrations.assertEqual(env.cluster, DB);
                try (Connection c = nodes.get(1).connect(DB); Statement st = c.createStatement()) {
                    assertThatThrownBy(() -> st.execute("UPDATE public.settings SET value = 'app' WHERE name = 'k1'"))
                            .hasMessageContaining("moved back to the source");
                }
                try (Connection c = env.cluster.source().connect(DB); Statement st = c.createStatement()) {
                    st.execute("UPDATE public.settings SET value = 'the source again' WHERE name = 'k1'");
                }
                assertThat(fourth.isAlive()).as(fourth.describe()).isTrue();
            } finally {
                fourth.kill();
            }
        }
    }

    /**
     * The application's writes whose acknowledgement the test counts: one row of the global table per write, through
     * the nodes in turn. A write that failed (fenced, or its connection lost) is not acknowledged; one whose commit's
     * answer was lost with the connection may or may not be there ({@link #unknown}).
     */
    static final class AckWriter implements AutoCloseable {
        final Set<String> acked = ConcurrentHashMap.newKeySet();
        final Set<String> unknown = ConcurrentHashMap.newKeySet();
        final AtomicLong refused = new AtomicLong();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;

        AckWriter(List<PgNode> nodes) {
            thread = new Thread(() -> {
                long n = 0;
                while (running.get()) {
                    PgNode node = nodes.get((int) (n % nodes.size()));
                    String key = "ack-" + n++;
                    try (Connection c = node.connect(DB);
                         PreparedStatement ps = c.prepareStatement("INSERT INTO public.settings (name, value) VALUES (?, 'acknowledged')")) {
                        ps.setString(1, key);
                        ps.executeUpdate();
                        acked.add(key);
                    } catch (SQLException e) {
                        refused.incrementAndGet();
                        if (!"25006".equals(e.getSQLState())) {
                            unknown.add(key);
                        }
                    }
                    try {
                        Thread.sleep(10);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "ack-writer");
            thread.start();
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.join();
        }
    }

    static Map<String, Long> ackRows(PgNode source) throws SQLException {
        Map<String, Long> out = new HashMap<>();
        try (Connection c = source.connect(DB); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT name, count(*) FROM public.settings WHERE name LIKE 'ack-%' GROUP BY name")) {
            while (rs.next()) {
                out.put(rs.getString(1), rs.getLong(2));
            }
        }
        return out;
    }

    /** Asks until an answer other than 422 (the gate: the stream not caught up yet after a start) comes. */
    private static HttpResponse<String> askUntilTaken(HttpClient http, int port, String path, ShardliftProcess p) throws Exception {
        long deadline = System.nanoTime() + 180_000_000_000L;
        while (true) {
            HttpResponse<String> r = http.send(post(port, path), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 422) {
                return r;
            }
            assertThat(System.nanoTime()).as(r.body() + "; " + p.describe()).isLessThan(deadline);
            Thread.sleep(500);
        }
    }

    /**
     * Asks, again while the gate refuses (422), until {@code reached} holds: the process waits at its failpoint and its
     * answer never comes. Returns the request in flight.
     */
    private static CompletableFuture<HttpResponse<String>> askAsyncUntilHanging(HttpClient http, int port, String path,
            ShardliftProcess p, BooleanSupplier reached) throws Exception {
        long deadline = System.nanoTime() + 180_000_000_000L;
        CompletableFuture<HttpResponse<String>> asked = null;
        while (!reached.getAsBoolean()) {
            assertThat(p.isAlive()).as(p.describe()).isTrue();
            assertThat(System.nanoTime()).as(path + ": " + p.describe()).isLessThan(deadline);
            if (asked == null) {
                asked = http.sendAsync(post(port, path), HttpResponse.BodyHandlers.ofString());
            }
            HttpResponse<String> r;
            try {
                r = asked.get(100, TimeUnit.MILLISECONDS);
            } catch (TimeoutException stillUnanswered) {
                continue;
            }
            assertThat(r.statusCode()).as(r.body()).isEqualTo(422);
            asked = null;
            Thread.sleep(300);
        }
        return asked;
    }

    private static HttpRequest post(int port, String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofMinutes(3))
                .header("Authorization", "Bearer " + TOKEN).POST(HttpRequest.BodyPublishers.noBody()).build();
    }

    static Map<String, String> withFailpoint(Map<String, String> env, String failpoint) {
        Map<String, String> m = new HashMap<>(env);
        m.put("SHARDLIFT_FAILPOINTS", failpoint);
        return m;
    }

    /**
     * Until the control plane answers. Not /health/ready: that means caught up for a cutover, which a process in the
     * rollback window never is (its forward stream is stopped).
     */
    private static void awaitListening(HttpClient http, int port, ShardliftProcess p) throws Exception {
        long deadline = System.nanoTime() + 180_000_000_000L;
        while (true) {
            assertThat(p.isAlive()).as(p.describe()).isTrue();
            assertThat(System.nanoTime()).as("listening: " + p.describe()).isLessThan(deadline);
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/live")).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (java.io.IOException notYet) {
                // the control plane is not up yet
            }
            Thread.sleep(200);
        }
    }

    private static void awaitTrue(ShardliftProcess p, String moment, BooleanSupplier condition) throws Exception {
        long deadline = System.nanoTime() + 180_000_000_000L;
        while (!condition.getAsBoolean()) {
            assertThat(p.isAlive()).as("shardlift ended before " + moment + ": " + p.describe()).isTrue();
            assertThat(System.nanoTime()).as("waiting for " + moment + ": " + p.describe()).isLessThan(deadline);
            Thread.sleep(25);
        }
    }

    private static boolean logContains(Path log, String text) {
        try {
            return Files.readString(log).contains(text);
        } catch (java.io.IOException e) {
            return false;
        }
    }

    private static void note(Path log, String what) throws Exception {
        Files.writeString(log, "\n==== " + java.time.LocalTime.now() + " " + what + " ====\n", StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
    }

    /** The reverse applier's committed positions on the source: how far it got. */
    private static long appliedOnSource() {
        try (Connection c = env.cluster.source().connect(DB); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT coalesce(sum(kafka_offset), 0) FROM shardlift.applied")) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException notYet) {
            return -1; // the reverse stream's ledger is not there yet
        }
    }

    private static String meta(String key) {
        try (Connection c = env.cluster.nodes().get(0).connect(DB); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT value FROM shardlift.meta WHERE key = '" + key + "'")) {
            return rs.next() ? rs.getString(1) : "";
        } catch (SQLException e) {
            return "";
        }
    }
}
