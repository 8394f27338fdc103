package io.shardlift.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlift.core.TableId;
import io.shardlift.core.spec.SpecLoader;
import io.shardlift.embedded.PgNode;
import io.shardlift.ops.verify.Verifier;
import io.shardlift.ops.verify.VerifyOptions;
import io.shardlift.ops.verify.VerifyReport;
import io.shardlift.ops.workflow.Planning;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code shardlift run} killed with SIGKILL between a schema change on the source and the next change of a row: once
 * after the statement reached every node, once right after the statement committed on the source. Each restart goes on
 * with the shape the stream has at its position (not the source catalog's), the next change uses the new shape, and
 * source and cluster end equal row by row and in shape.
 */
class DdlCrashIT {

    static final String DB = "ddlcrash";
    static final String SCHEMAS = "    - name: public\n      tables:\n"
            + "        - {name: items, type: sharded, distributedby: id, partitions: 4}\n"
            + "        - {name: kinds, type: global}\n";
    static final int PARTITIONS = 2 * 2;
    static SchemaFixture env;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        env = SchemaFixture.start("ddlcrash", DB,
                "CREATE TABLE public.items (id bigint PRIMARY KEY, v int, note text)",
                "INSERT INTO public.items SELECT g, g % 7, 'n' || g FROM generate_series(1, 2000) g",
                "CREATE TABLE public.kinds (k int PRIMARY KEY, name text)",
                "INSERT INTO public.kinds SELECT g, 'k' || g FROM generate_series(1, 20) g");
    }

    @AfterAll
    static void stop() {
        if (env != null) {
            env.close();
        }
    }

    @Test
    void killedBetweenAStatementAndTheNextChangeRecoversOnRestart() throws Exception {
        Path spec = env.spec(dir, SCHEMAS);
        Path log = Path.of("target", "DdlCrashIT-run.log").toAbsolutePath();
        Files.deleteIfExists(log);
        String[] args = {"run", "--config", spec.toString(), "--status-interval", "1"};

        ShardliftProcess first = ShardliftProcess.start(log, args);
        marker(log, first, "warm");
        // 1: the statement is applied on every node, then SIGKILL before the next change of row 7
        source("UPDATE public.items SET v = 1 WHERE id = 7", "ALTER TABLE public.items ADD COLUMN c1 int DEFAULT 3");
        await(first, "the statement applied on every node", () -> count0("SELECT count(*) FROM shardlift.ddl_applied") >= 1);
        first.kill();
        note(log, "SIGKILL after ADD COLUMN c1 was applied");
        source("UPDATE public.items SET c1 = 42 WHERE id = 7", "INSERT INTO public.items (id, v, c1) VALUES (90001, 1, 43)");

        ShardliftProcess second = ShardliftProcess.start(log, args);
        marker(log, second, "second");
        // 2: SIGKILL right after the statement committed on the source, before the cluster had it; the change of row 8
        // just before it is most likely not confirmed to the slot yet, so the restarted capture reads it again, with the
        // newest logged shape that has exactly its columns (the source's catalog already has c2)
        source("UPDATE public.items SET note = 'before c2' WHERE id = 8", "ALTER TABLE public.items ADD COLUMN c2 text DEFAULT 'z'");
        second.kill();
        note(log, "SIGKILL right after ADD COLUMN c2");
        source("UPDATE public.items SET c2 = 'after', c1 = 44 WHERE id = 7", "INSERT INTO public.items (id, v, c2) VALUES (90002, 2, 'new')",
                "ALTER TABLE public.kinds ADD COLUMN label text", "UPDATE public.kinds SET label = 'x' WHERE k = 1");

        ShardliftProcess third = ShardliftProcess.start(log, args);
        marker(log, third, "third");
        // 3: SIGKILL while a column the source filled itself (an identity) is being filled on the nodes: node 0 has
        // filled it in its open transaction, node 1 waits for a lock the test holds; after the restart the barrier runs
        // again, reading the source's values anew
        ShardliftProcess fourth;
        try (Connection hold = env.cluster.nodes().get(1).connect(DB); Statement hs = hold.createStatement()) {
            hold.setAutoCommit(false);
            hs.execute("LOCK TABLE public.items IN ACCESS SHARE MODE");
            source("UPDATE public.items SET v = 2 WHERE id = 9", "ALTER TABLE public.items ADD COLUMN c3 bigint GENERATED ALWAYS AS IDENTITY");
            await(third, "node 1 waiting to add c3", () -> count(1, "SELECT count(*) FROM pg_locks WHERE relation = 'public.items'::regclass"
                    + " AND NOT granted") >= 1);
            third.kill();
            note(log, "SIGKILL while filling c3");
            hold.rollback();
        }
        source("UPDATE public.items SET v = 3 WHERE id = 9", "INSERT INTO public.items (id, v) VALUES (90003, 3)");
        fourth = ShardliftProcess.start(log, args);
        marker(log, fourth, "end");
        assertThat(fourth.isAlive()).as(fourth.describe()).isTrue();
        env.assertEqual("public.items", List.of("id"));
        env.assertEqual("public.kinds", List.of("k"));
        VerifyReport report = Verifier.ofTables(Planning.plan(new SpecLoader().load(spec)),
                Set.of(new TableId("public", "items"), new TableId("public", "kinds")), VerifyOptions.withJobs(2)).run();
        assertThat(report.equal()).as(report.shapes() + " " + report.tables()).isTrue();
        try (Connection c = env.cluster.nodes().get(1).connect(DB); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT c1, c2 FROM public.items WHERE id = 7")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isEqualTo(44);
            assertThat(rs.getString(2)).isEqualTo("after");
        }
        try (Connection c = env.cluster.nodes().get(0).connect(DB); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT note, c2 FROM public.items WHERE id = 8")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("before c2");
            assertThat(rs.getString(2)).isEqualTo("z");
        }
        // a write to the global table through node 1's fan-out (as after the cutover) reaches node 0 with the new column
        try (Connection c = env.cluster.nodes().get(1).connect(DB); Statement st = c.createStatement()) {
            st.execute("INSERT INTO public.kinds (k, name, label) VALUES (1000, 'via node 1', 'fanned out')");
        }
        try (Connection c = env.cluster.nodes().get(0).connect(DB); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT label FROM public.kinds WHERE k = 1000")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("fanned out");
        }
        fourth.kill();
    }

    private static void source(String... sql) throws SQLException {
        try (Connection c = env.cluster.source().connect(DB); Statement st = c.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        }
    }

    /**
     * Emits marker {@code name} until every partition applied past it: one emitted before the restarted program's
     * capture streams is not lost (the slot keeps it), but one emitted before a new slot exists is.
     */
    private static void marker(Path log, ShardliftProcess p, String name) throws Exception {
        long deadline = System.nanoTime() + 240_000_000_000L;
        while (count0("SELECT count(*) FROM shardlift.marker WHERE marker = '" + name + "'") < PARTITIONS) {
            try (Connection c = env.cluster.source().connect(DB)) {
                io.shardlift.core.ledger.Markers.emit(c, name);
            }
            long next = System.nanoTime() + 3_000_000_000L;
            while (System.nanoTime() < next
                    && count0("SELECT count(*) FROM shardlift.marker WHERE marker = '" + name + "'") < PARTITIONS) {
                assertThat(p.isAlive()).as("shardlift ended before marker " + name + ": " + p.describe()).isTrue();
                assertThat(System.nanoTime()).as("waiting for marker " + name + ": " + p.describe()).isLessThan(deadline);
                Thread.sleep(50);
            }
        }
        note(log, "marker " + name + " applied");
    }

    private static void await(ShardliftProcess p, String what, BooleanSupplier condition) throws Exception {
        long deadline = System.nanoTime() + 240_000_000_000L;
        while (!condition.getAsBoolean()) {
            assertThat(p.isAlive()).as("shardlift ended before " + what + ": " + p.describe()).isTrue();
            assertThat(System.nanoTime()).as("waiting for " + what + ": " + p.describe()).isLessThan(deadline);
            Thread.sleep(25);
        }
    }

    private static void note(Path log, String what) throws Exception {
        Files.writeString(log, "\n==== " + java.time.LocalTime.now() + " " + what + " ====\n", StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
    }

    static long count0(String sql) {
        return count(0, sql);
    }

    static long count(int node, String sql) {
        PgNode n = env.cluster.nodes().get(node);
        try (Connection c = n.connect(DB); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException notYet) {
            return -1;
        }
    }
}
