package io.shardlift.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlift.testkit.PgBouncer;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code shardlift run} with a {@code pooler:} section killed with SIGKILL while its cutover holds PgBouncer paused,
 * then started again. Killed before the fence: the restart RESUMEs the alias, which still points at the source, and the
 * clients that waited in PgBouncer through the kill go on without an error. Killed just past the point of no return
 * (the source fenced and drained, the alias not yet switched): the restart settles the cutover as done, points the
 * alias at the cluster and RESUMEs it; source and cluster are equal row by row and a write through PgBouncer lands on
 * the cluster.
 */
class CutoverPoolerCrashIT {

    static final String TOKEN_ENV = "CUTOVER_POOLER_CRASH_IT_TOKEN";
    static PooledSensors pooled;
    static SensorsMigration env;
    static PgBouncer bouncer;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        // query_wait_timeout 0: clients wait in PgBouncer as long as it stays paused, here across a kill and a restart
        pooled = PooledSensors.start("cutpoolcrash", "0");
        env = pooled.env;
        bouncer = pooled.bouncer;
    }

    @AfterAll
    static void stop() {
        PooledSensors.close(pooled);
    }

    @Test
    void killedWhilePgBouncerIsPausedIsResumedOnRestartWithTheAliasWhereTheFenceSays() throws Exception {
        int port = env.controlPort;
        Path spec = pooled.spec(dir, port, TOKEN_ENV);
        Path log = dir.resolve("run.log");
        Map<String, String> tokenEnv = Map.of(TOKEN_ENV, CutoverCrashIT.TOKEN);
        String[] args = {"run", "--config", spec.toString(), "--status-interval", "1"};
        HttpClient http = HttpClient.newHttpClient();
        String sourceLine = Files.readString(bouncer.includeFile());

        // 1. killed right after PAUSE, before the fence: clients writing through PgBouncer wait through the kill
        PoolerClients w = new PoolerClients(bouncer.jdbcUrl("app"), 1, 20_000_000, 10);
        ShardliftProcess run = ShardliftProcess.start(log, CutoverCrashIT.withFailpoint(tokenEnv, "cutover.paused"), args);
        CutoverCrashIT.awaitReady(http, port, run);
        w.awaitMore(20, 300);
        cutoverUntilFailpoint(http, port, run, log, "cutover.paused");
        assertThat(Files.readString(log)).contains("alias(es) paused on 1 PgBouncer(s)");
        run.kill();
        int acknowledgedAtKill = w.acknowledged.size();

        ShardliftProcess again = ShardliftProcess.start(log, CutoverCrashIT.withFailpoint(tokenEnv, "cutover.released"), args);
        CutoverCrashIT.awaitReady(http, port, again);
        assertThat(meta()).startsWith("ROLLED_BACK");
        assertThat(occurrences(log, "alias app was paused: RESUMEd")).isEqualTo(1);
        assertThat(Files.readString(bouncer.includeFile())).isEqualTo(sourceLine); // still the source: it was not fenced
        w.awaitMore(50, 300);
        assertThat(w.acknowledged.size()).isGreaterThan(acknowledgedAtKill);
        w.close();
        assertThat(w.errors.get()).as("client errors across the kill (first: %s)", w.firstError.get()).isZero();
        assertThat(CutoverPoolerIT.triggersOnSource(env)).isZero();

        // 2. killed just past the point of no return, the alias paused and not yet switched
        cutoverUntilFailpoint(http, port, again, log, "cutover.released");
        assertThat(meta()).startsWith("CUTTING_OVER");
        again.kill();
        assertThat(CutoverPoolerIT.triggersOnSource(env)).isPositive();

        // the start settles the cutover (CUT_OVER), then switches the alias and RESUMEs it, before anything else
        ShardliftProcess third = ShardliftProcess.start(log, tokenEnv, args);
        long deadline = System.nanoTime() + 180_000_000_000L;
        while (occurrences(log, "alias app was paused: RESUMEd") < 2) {
            assertThat(third.isAlive()).as(third.describe()).isTrue();
            assertThat(System.nanoTime()).as(third.describe()).isLessThan(deadline);
            Thread.sleep(200);
        }
        assertThat(meta()).startsWith("CUT_OVER").contains("finished after a restart");
        assertThat(Files.readString(bouncer.includeFile())).contains("port=" + env.cluster.nodes().get(0).port())
                .doesNotContain("port=" + env.cluster.source().port());
        // every write acknowledged through PgBouncer, before and after the first kill, is on the cluster, row by row
        Migrations.assertEqual(env.cluster, SensorsMigration.DB);
        assertThat(CutoverPoolerIT.idsOn(env.cluster.nodes().get(0), 20_000_000)).containsAll(w.acknowledged);

        // a client through PgBouncer works, and writes to the cluster (the fenced source would refuse it)
        try (Connection c = DriverManager.getConnection(bouncer.jdbcUrl("app"), postgres()); Statement st = c.createStatement()) {
            st.executeUpdate("INSERT INTO public.device_notes (device_id, revision, note) VALUES (29999999, 0, 'after the restart')");
        }
        assertThat(CutoverPoolerIT.idsOn(env.cluster.nodes().get(0), 20_000_000)).contains(29_999_999);
        third.kill();
    }

    /** Asks for the cutover until the process stops at {@code failpoint} (422 from the lag gate is asked again). */
    static void cutoverUntilFailpoint(HttpClient http, int port, ShardliftProcess p, Path log, String failpoint) throws Exception {
        String line = "failpoint " + failpoint + " reached";
        int before = occurrences(log, line);
        long deadline = System.nanoTime() + 300_000_000_000L;
        CompletableFuture<HttpResponse<String>> asked = null;
        while (occurrences(log, line) == before) {
            assertThat(p.isAlive()).as(p.describe()).isTrue();
            assertThat(System.nanoTime()).as(p.describe()).isLessThan(deadline);
            if (asked == null) {
                asked = http.sendAsync(CutoverCrashIT.cutover(port), HttpResponse.BodyHandlers.ofString());
            }
            HttpResponse<String> r;
            try {
                r = asked.get(1, TimeUnit.SECONDS);
            } catch (TimeoutException stillUnanswered) {
                continue; // at the failpoint the request is never answered
            }
            assertThat(r.statusCode()).as(r.body()).isEqualTo(422);
            asked = null;
            Thread.sleep(2_000);
        }
    }

    static int occurrences(Path log, String text) throws Exception {
        String s = Files.readString(log);
        int n = 0;
        for (int i = s.indexOf(text); i >= 0; i = s.indexOf(text, i + 1)) {
            n++;
        }
        return n;
    }

    static String meta() throws Exception {
        try (Connection c = env.cluster.nodes().get(0).connect(SensorsMigration.DB); Statement st = c.createStatement();
             var rs = st.executeQuery("SELECT value FROM shardlift.meta WHERE key = 'cutover'")) {
            return rs.next() ? rs.getString(1) : "";
        }
    }

    static Properties postgres() {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        return p;
    }
}
