package io.shardlift.ops;

import static io.shardlift.ops.RunWaits.awaitTrue;
import static io.shardlift.ops.RunWaits.check;
import static io.shardlift.ops.RunWaits.note;
import static org.assertj.core.api.Assertions.assertThat;

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
 * {@code shardlift run}, as its own process, killed with SIGKILL while it takes on a table created on the source during
 * the migration (a schema listed with {@code all: true}), with a writer writing to every table the whole time, the new
 * one included (inserts, updates that leave its TOASTed text unchanged or replace it, deletes). Once just after the take-on
 * laid the new table out on node 0, before its copy was complete; once in the middle of its copy under the restarted
 * process. Each restart runs the same command; the third process also takes on a second new table in-process, unkilled,
 * while an application transaction that wrote to it before it was published commits only after its copy.
 * Source and cluster end equal row by row, every table, with every acknowledged write counted in; then a real cutover
 * through the control plane fences the writer, and they are equal again.
 */
class DdlTakeOnCrashIT {

    static final String DB = "takeon";
    static final String TOKEN = "ddl-take-on-crash-it-token-0123456789";
    static final String TOKEN_ENV = "DDL_TAKE_ON_CRASH_IT_TOKEN";
    static final String SCHEMAS = "    - name: public\n      all: true\n      tables:\n"
            + "        - {name: items, type: sharded, distributedby: id, partitions: 4}\n";
    /** Kafka partitions per table topic (SchemaFixture's spec). */
    static final int TOPIC_PARTITIONS = 2;
    static final int BIG_ROWS = 20_000;
    /** Rows of public.late; the writer updates those up to 500. */
    static final int LATE_ROWS = 510;
    static SchemaFixture env;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        env = SchemaFixture.start("takeon", DB,
                "CREATE TABLE public.items (id bigint PRIMARY KEY, v int NOT NULL DEFAULT 0, note text)",
                "INSERT INTO public.items SELECT g, g % 7, 'n' || g FROM generate_series(1, 2000) g",
                "CREATE TABLE public.kinds (k int PRIMARY KEY, name text)",
                "INSERT INTO public.kinds SELECT g, 'k' || g FROM generate_series(1, 50) g");
    }

    @AfterAll
    static void stop() {
        if (env != null) {
            env.close();
        }
    }

    /** What the writers had acknowledged: a statement counts once it returned. */
    static final class Acked {
        final AtomicLong itemsInserted = new AtomicLong();
        final AtomicLong bigInserted = new AtomicLong();
        final AtomicLong bigDeleted = new AtomicLong();
        final AtomicLong lateInserted = new AtomicLong();
    }

    @Test
    void killedWhileTakingOnANewTableLosesAndDoublesNothingAndTheCutoverTakesItIn() throws Exception {
        Path spec = env.spec(TOPIC_PARTITIONS).schemas(SCHEMAS).control("127.0.0.1:" + env.controlPort, TOKEN_ENV)
                .write(dir.resolve("migrate.yml"));
        // kept after the test (target/ is the build's): what each run printed, with the moments it was killed
        Path log = Path.of("target", "DdlTakeOnCrashIT-run.log").toAbsolutePath();
        Files.deleteIfExists(log);
        Map<String, String> tokenEnv = Map.of(TOKEN_ENV, TOKEN);
        // small chunks, so the new table's copy is a sequence of commits a kill can fall between
        String[] args = {"run", "--config", spec.toString(), "--chunk-rows", "2000", "--status-interval", "1"};
        Acked acked = new Acked();
        AtomicBoolean bigExists = new AtomicBoolean();
        AtomicBoolean lateExists = new AtomicBoolean();
        SchemaFixture.Write write = write(acked, bigExists, lateExists);

        ShardliftProcess first;
        try (SchemaFixture.Writer w = env.writer(write)) {
            first = ShardliftProcess.start(log, tokenEnv, args);
            marker(log, first, w, "warm", 2);

            // a table created during the migration, large enough (20,000 rows, a tenth with a 3,200-byte text stored
            // out of line) that its copy takes a moment; the writer writes to it from the moment it is committed
            source("CREATE TABLE public.big (id bigint PRIMARY KEY, v int NOT NULL, doc text)",
                    "INSERT INTO public.big SELECT g, g % 100, CASE WHEN g % 10 = 0 THEN " + toasted("g") + " ELSE 'd' || g END"
                            + " FROM generate_series(1, " + BIG_ROWS + ") g",
                    "ANALYZE public.big");
            assertThat(count(env.cluster.source(), "SELECT (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %s',"
                    + " reltoastrelid::regclass), false, true, '')))[1]::text::bigint FROM pg_class WHERE oid = 'public.big'::regclass"))
                    .as("chunks of public.big stored out of line").isPositive();
            bigExists.set(true);

            // 1: the take-on began in the running process, the new table is laid out on node 0, its copy not complete
            awaitTrue(first, w, "the take-on laid public.big out on node 0",
                    () -> Files.readString(log).contains("shardlift: taking on [public.big]") && count0("SELECT count(*) FROM"
                            + " pg_class WHERE oid = to_regclass('public.big')") == 1);
            first.kill();
            long copiedAtKill = count0("SELECT count(*) FROM shardlift.copy_table WHERE table_name = 'public.big' AND copied_at IS NOT NULL");
            long chunksAtKill = count0("SELECT count(*) FROM shardlift.copy_done WHERE table_name = 'public.big'");
            note(log, "SIGKILL as the take-on laid public.big out on node 0 (copy complete: " + copiedAtKill + ", chunk rows on"
                    + " node 0: " + chunksAtKill + ")");
            assertThat(copiedAtKill).as("killed before the new table's copy was complete").isLessThan(1);

            // 2: the restart plans public.big at its start (no take-on needed); killed with some of its chunks in, not all
            ShardliftProcess second = ShardliftProcess.start(log, tokenEnv, args);
            awaitTrue(second, w, "public.big mid-copy",
                    () -> count0("SELECT count(*) FROM shardlift.copy_done WHERE table_name = 'public.big'") >= 2
                            && count0("SELECT count(*) FROM shardlift.copy_table WHERE table_name = 'public.big' AND copied_at IS NULL") == 1);
            second.kill();
            long chunksDone = count0("SELECT count(DISTINCT chunk) FROM shardlift.copy_done WHERE table_name = 'public.big'");
            long chunks = count0("SELECT count(*) FROM shardlift.copy_chunk WHERE table_name = 'public.big'");
            note(log, "SIGKILL mid-copy of public.big: " + chunksDone + " of " + chunks + " chunks on node 0");
            assertThat(chunksDone).as("killed mid-copy").isLessThan(chunks);

            // 3: the same command again: it copies what is missing of public.big and streams it with the rest
            ShardliftProcess third = ShardliftProcess.start(log, tokenEnv, args);
            marker(log, third, w, "after-crashes", 3);
            assertThat(count0("SELECT count(*) FROM shardlift.copy_table WHERE table_name = 'public.big' AND copied_at IS NOT NULL"))
                    .isOne();

            // and takes on one more table created now in the same process, not killed: the path the kills interrupted
            source("CREATE TABLE public.late (id int PRIMARY KEY, v text)",
                    "INSERT INTO public.late SELECT g, 'l' || g FROM generate_series(1, " + LATE_ROWS + ") g");
            lateExists.set(true);
            // an application transaction that wrote to the new table before the take-on added it to the publication and
            // commits only after the take-on's copy read it (or once the take-on waits for it): its rows are not in the
            // copy, so they must come through the stream
            try (Connection straddler = env.cluster.source().connect(DB); Statement st = straddler.createStatement()) {
                straddler.setAutoCommit(false);
                st.execute("INSERT INTO public.late SELECT g, 's' || g FROM generate_series(900001, 900020) g");
                st.execute("UPDATE public.late SET v = 'straddled' WHERE id > 500"); // rows the writer never touches
                awaitTrue(third, w, "the take-on of public.late copied it, or waits for the open transaction",
                        () -> count0("SELECT count(*) FROM shardlift.copy_done WHERE table_name = 'public.late'") >= 1
                                || count(env.cluster.source(), "SELECT count(*) FROM pg_locks WHERE NOT granted") > 0);
                note(log, "the transaction open across the take-on of public.late commits (copy chunks of public.late on node 0: "
                        + count0("SELECT count(*) FROM shardlift.copy_done WHERE table_name = 'public.late'") + ")");
                straddler.commit();
            }
            awaitTrue(third, w, "the in-process take-on of public.late",
                    () -> Files.readString(log).contains("shardlift: took on [public.late] in "));
            marker(log, third, w, "after-take-on", 4);
            Thread.sleep(1_000); // the writer goes on over the new table's stream

            w.close();
            assertThat(w.failed.get()).as("the writer").isNull();
            assertThat(w.fenced.get()).isNull();
            assertThat(w.commits.get()).isPositive();
            marker(log, third, w, "end", 4);
            assertThat(third.isAlive()).as(third.describe()).isTrue();
            assertEverythingEqual(acked);
            assertThat(acked.bigInserted.get()).isPositive();
            assertThat(acked.bigDeleted.get()).isPositive();
            assertThat(acked.lateInserted.get()).isPositive();
            String runLog = Files.readString(log);
            assertThat(runLog).contains("shardlift: taking on [public.late]");
            // the restarted capture replays the creations of the tables it now carries: not reported as not carried
            assertThat(runLog.substring(runLog.indexOf("shardlift: took on [public.late]")))
                    .doesNotContain("is not carried to the cluster");

            // a real cutover through the control plane, with a writer on the source until the fence stops it
            try (SchemaFixture.Writer fenced = env.writer(write)) {
                HttpClient http = HttpClient.newHttpClient();
                JsonAnswer done = cutover(http, third);
                assertThat(done.status()).as(done.body()).isEqualTo(200);
                assertThat(done.json().getString("outcome")).as(done.body()).isEqualTo("DONE");
                assertThat(done.json().getBoolean("dryRun")).isFalse();
                fenced.awaitFenced();
                assertThat(fenced.commits.get()).as("the writer wrote before the fence").isPositive();
            }
            assertThat(third.isAlive()).as(third.describe()).isTrue();
            assertThat(meta("cutover")).startsWith("CUT_OVER");
            assertEverythingEqual(acked);
            third.kill();
        }
    }

    /**
     * Every write is its own transaction: items gets an insert and an update, kinds an update; once public.big exists an
     * insert (a tenth with a TOASTed text), an update of v alone (its TOASTed text unchanged in the WAL), now and then a
     * new text, and a delete; once public.late exists an insert and an update.
     */
    private static SchemaFixture.Write write(Acked acked, AtomicBoolean bigExists, AtomicBoolean lateExists) {
        AtomicLong next = new AtomicLong(100_000);
        return st -> {
            long n = next.incrementAndGet();
            st.execute("INSERT INTO public.items (id, v) VALUES (" + n + ", 1)");
            acked.itemsInserted.incrementAndGet();
            st.execute("UPDATE public.items SET v = v + 1 WHERE id = " + (n % 2000 + 1));
            st.execute("UPDATE public.kinds SET name = 'w" + n + "' WHERE k = " + (n % 50 + 1));
            if (bigExists.get()) {
                st.execute("INSERT INTO public.big VALUES (" + n + ", 1, " + (n % 10 == 0 ? toasted(String.valueOf(n)) : "'i" + n + "'") + ")");
                acked.bigInserted.incrementAndGet();
                long id = (n * 7_919) % BIG_ROWS + 1;
                st.execute("UPDATE public.big SET v = v + 1 WHERE id IN (" + id + ", " + (id / 10 * 10 + 10) + ", " + (n - 1) + ")");
                if (n % 7 == 0) {
                    st.execute("UPDATE public.big SET doc = " + toasted("id + " + n) + " WHERE id = " + (id / 10 * 10 + 20));
                }
                acked.bigDeleted.addAndGet(st.executeUpdate("DELETE FROM public.big WHERE id = " + ((n * 104_729) % BIG_ROWS + 1)));
            }
            if (lateExists.get()) {
                st.execute("INSERT INTO public.late VALUES (" + n + ", 'w')");
                acked.lateInserted.incrementAndGet();
                st.execute("UPDATE public.late SET v = 'u" + n + "' WHERE id = " + (n % 500 + 1));
            }
            return 0;
        };
    }

    /** 3,200 characters of hex that pglz cannot shrink by a quarter: stored out of line, uncompressed. */
    private static String toasted(String seed) {
        return "(SELECT string_agg(md5((" + seed + ")::text || ':' || i), '') FROM generate_series(1, 100) i)";
    }

    /** Row by row on the source and through every node, every table; the counts are what the writers acknowledged. */
    private static void assertEverythingEqual(Acked acked) throws Exception {
        env.assertEqual("public.items", List.of("id"));
        env.assertEqual("public.kinds", List.of("k"));
        env.assertEqual("public.big", List.of("id"));
        env.assertEqual("public.late", List.of("id"));
        PgNode source = env.cluster.source();
        assertThat(count(source, "SELECT count(*) FROM public.items")).isEqualTo(2_000 + acked.itemsInserted.get());
        assertThat(count(source, "SELECT count(*) FROM public.big")).isEqualTo(BIG_ROWS + acked.bigInserted.get() - acked.bigDeleted.get());
        assertThat(count(source, "SELECT count(*) FROM public.late")).isEqualTo(LATE_ROWS + 20 + acked.lateInserted.get());
        for (PgNode n : env.cluster.nodes()) {
            assertThat(count(n, "SELECT count(*) FROM public.big WHERE length(doc) = 3200"))
                    .as("TOASTed texts on " + n.name()).isEqualTo(count(source, "SELECT count(*) FROM public.big WHERE length(doc) = 3200"))
                    .isPositive();
        }
    }

    record JsonAnswer(int status, String body) {
        io.vertx.core.json.JsonObject json() {
            return new io.vertx.core.json.JsonObject(body);
        }
    }

    /** POST /cutover with the token, asked again while the lag gate refuses (422) as the stream catches up. */
    private static JsonAnswer cutover(HttpClient http, ShardliftProcess p) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + env.controlPort + "/cutover"))
                .timeout(Duration.ofMinutes(3)).header("Authorization", "Bearer " + TOKEN)
                .POST(HttpRequest.BodyPublishers.noBody()).build();
        HttpResponse<String> r = null;
        for (int i = 0; i < 20 && (r == null || r.statusCode() == 422); i++) {
            if (r != null) {
                Thread.sleep(2_000);
            }
            assertThat(p.isAlive()).as(p.describe()).isTrue();
            r = http.send(request, HttpResponse.BodyHandlers.ofString());
        }
        return new JsonAnswer(r.statusCode(), r.body());
    }

    private static void source(String... sql) throws SQLException {
        try (Connection c = env.cluster.source().connect(DB); Statement st = c.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        }
    }

    /**
     * Emits marker {@code name} until every partition of {@code tables} tables applied past it (one emitted before the
     * restarted capture streams is kept by the slot, but one emitted before a table is published does not reach it).
     */
    private static void marker(Path log, ShardliftProcess p, SchemaFixture.Writer w, String name, int tables) throws Exception {
        long deadline = System.nanoTime() + 240_000_000_000L;
        String applied = "SELECT count(*) FROM shardlift.marker WHERE marker = '" + name + "'";
        while (count0(applied) < (long) tables * TOPIC_PARTITIONS) {
            try (Connection c = env.cluster.source().connect(DB)) {
                Markers.emit(c, name);
            }
            long next = System.nanoTime() + 3_000_000_000L;
            while (System.nanoTime() < next && count0(applied) < (long) tables * TOPIC_PARTITIONS) {
                check(p, w, "marker " + name, deadline);
                Thread.sleep(50);
            }
        }
        note(log, "marker " + name + " applied");
    }

    private static String meta(String key) throws SQLException {
        try (Connection c = env.cluster.nodes().get(0).connect(DB); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT value FROM shardlift.meta WHERE key = '" + key + "'")) {
            return rs.next() ? rs.getString(1) : "";
        }
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
