package io.shardlift.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlift.core.ledger.Markers;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.spec.SpecLoader;
import io.shardlift.embedded.PgNode;
import io.shardlift.ops.cutover.CutoverReport;
import io.shardlift.ops.cutover.CutoverState;
import io.shardlift.ops.workflow.Migration;
import io.shardlift.ops.workflow.Planning;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Schema changes across the whole lifecycle, in one process, writers running: changes carried during the migration
 * (ADD COLUMN with a default and RENAME COLUMN of a sharded table, ADD COLUMN of a global one), a cutover, writes on the
 * cluster in the new shape through both nodes, a rollback that brings every acknowledged one back to the source, then
 * writes on the source in that shape and a NEW schema change there, which the forward stream must carry to the nodes,
 * and a second cutover; source and cluster equal row by row and in shape after the rollback and at the end.
 */
class DdlRollbackIT {

    static final String DB = "ddlrb";
    static final String SCHEMAS = "    - name: public\n      tables:\n"
            + "        - {name: items, type: sharded, distributedby: id, partitions: 4}\n"
            + "        - {name: kinds, type: global}\n";
    static SchemaFixture env;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        env = SchemaFixture.start("ddlrb", DB,
                "CREATE TABLE public.items (id bigint PRIMARY KEY, v int NOT NULL DEFAULT 0, note text)",
                "INSERT INTO public.items SELECT g, g % 7, 'n' || g FROM generate_series(1, 3000) g",
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
    void schemaChangesSurviveCutoverRollbackAndASecondCutover() throws Exception {
        ClusterPlan plan = Planning.plan(new SpecLoader().load(env.spec(dir, SCHEMAS)));
        AtomicLong next = new AtomicLong(100_000);
        // names only columns no statement changes: it runs through every change
        SchemaFixture.Write before = st -> {
            long id = next.incrementAndGet();
            st.execute("INSERT INTO public.items (id, v) VALUES (" + id + ", 1)");
            st.execute("UPDATE public.items SET v = v + 1 WHERE id = " + (id % 3000 + 1));
            st.execute("UPDATE public.kinds SET name = 'w" + id + "' WHERE k = " + (id % 50 + 1));
            return 0;
        };
        try (SchemaFixture.Writer w = env.writer(before); Migration m = env.startCaughtUp(plan, dir, w)) {
            try (Connection c = env.cluster.source().connect(DB); Statement st = c.createStatement()) {
                st.execute("ALTER TABLE public.items ADD COLUMN qty int DEFAULT 1");
                st.execute("UPDATE public.items SET qty = 3 WHERE id = 7");
                st.execute("INSERT INTO public.items (id, v, qty) VALUES (9000001, 1, 4)");
                st.execute("ALTER TABLE public.items RENAME COLUMN note TO remark");
                st.execute("UPDATE public.items SET remark = 'renamed', qty = 5 WHERE id = 8");
                st.execute("INSERT INTO public.items (id, v, qty, remark) VALUES (9000002, 2, 6, 'new shape')");
                st.execute("ALTER TABLE public.kinds ADD COLUMN label text DEFAULT 'l'");
                st.execute("UPDATE public.kinds SET label = 'changed' WHERE k = 3");
                st.execute("INSERT INTO public.kinds (k, name, label) VALUES (1001, 'new', 'new shape')");
                Markers.emit(c, "before-cutover");
            }
            env.awaitMarker(m, "before-cutover", 4, 120); // two tables, two Kafka partitions each
            env.awaitCaughtUp(m, w);
            SchemaFixture.cutOver(m);
            w.awaitFenced();

            // the cluster is the database: writes in the new shape through both nodes until the rollback fences them
            ClusterWriters cw = new ClusterWriters(env.cluster.nodes());
            Thread.sleep(4_000);
            long deadline = System.nanoTime() + 120_000_000_000L;
            while (!m.reverseCaughtUp()) {
                assertThat(m.failure()).as(m.statusLine()).isEmpty();
                assertThat(cw.failures).isEmpty();
                assertThat(System.nanoTime()).as(m.statusLine()).isLessThan(deadline);
                Thread.sleep(200);
            }
            // a schema change on the source in the window is not carried (its DDL capture is gone): the rollback's
            // content step refuses while the shapes differ, since it could not compare the table's rows
            try (Connection c = env.cluster.source().connect(DB); Statement st = c.createStatement()) {
                st.execute("ALTER TABLE public.kinds ADD COLUMN stray int");
            }
            CutoverReport refused = rollBack(m);
            assertThat(refused.outcome()).as(refused.toString()).isEqualTo(CutoverReport.Outcome.REFUSED);
            assertThat(refused.reason()).hasValueSatisfying(r -> assertThat(r).contains("public.kinds on node",
                    "column stray is missing (the source has integer)", "nothing was fenced", "schema changes are not carried back"));
            assertThat(m.cutoverState().orElseThrow().state()).isEqualTo(CutoverState.State.CUT_OVER);
            try (Connection c = env.cluster.source().connect(DB); Statement st = c.createStatement()) {
                st.execute("ALTER TABLE public.kinds DROP COLUMN stray");
            }
            CutoverReport back = rollBack(m);
            assertThat(back.outcome()).as(back.toString()).isEqualTo(CutoverReport.Outcome.DONE);
            cw.close();
            assertThat(cw.failures).isEmpty();
            assertThat(cw.fenced.get()).isTrue();
            assertThat(cw.commits.get()).isPositive();
            assertThat(m.cutoverState().orElseThrow().state()).isEqualTo(CutoverState.State.REVERTED);
            // every write the cluster acknowledged is on the source, and the two are alike row by row and in shape
            cw.assertOn(env.cluster.source());
            assertEqualEverywhere();

            // the source is the database again: writes in the new shape, and a new schema change with rows using it
            AtomicLong again = new AtomicLong(5_000_000);
            SchemaFixture.Write after = st -> {
                long id = again.incrementAndGet();
                st.execute("INSERT INTO public.items (id, v, qty, remark) VALUES (" + id + ", 1, 2, 'source again')");
                st.execute("UPDATE public.items SET qty = qty + 1, remark = 'u" + id + "' WHERE id = " + (id % 3000 + 1));
                st.execute("UPDATE public.kinds SET label = 'l" + id + "' WHERE k = " + (id % 50 + 1));
                return 0;
            };
            try (SchemaFixture.Writer w2 = env.writer(after)) {
                Thread.sleep(1_000);
                try (Connection c = env.cluster.source().connect(DB); Statement st = c.createStatement()) {
                    st.execute("ALTER TABLE public.items ADD COLUMN tag text DEFAULT 't'");
                    st.execute("UPDATE public.items SET tag = 'after the rollback' WHERE id = 9");
                    st.execute("INSERT INTO public.items (id, v, qty, remark, tag) VALUES (9000003, 3, 7, 'r', 'tagged')");
                    st.execute("ALTER TABLE public.kinds ADD COLUMN rank int");
                    st.execute("UPDATE public.kinds SET rank = 1 WHERE k = 4");
                    Markers.emit(c, "after-rollback");
                }
                env.awaitMarker(m, "after-rollback", 4, 120);
                assertThat(w2.failed.get()).isNull();
                assertThat(m.failure()).as(m.statusLine()).isEmpty();
                env.assertShapeEqual("public", "items");
                env.assertShapeEqual("public", "kinds");
                env.awaitCaughtUp(m, w2);
                CutoverReport second = SchemaFixture.cutOver(m);
                System.out.println("second cutover: " + second);
                w2.awaitFenced();
                assertThat(w2.commits.get()).isPositive();
            }
            assertEqualEverywhere();
            assertThat(m.failure()).as(m.statusLine()).isEmpty();
        }
    }

    private static void assertEqualEverywhere() throws SQLException {
        env.assertEqual("public.items", List.of("id"));
        env.assertEqual("public.kinds", List.of("k"));
        env.assertShapeEqual("public", "items");
        env.assertShapeEqual("public", "kinds");
    }

    private static CutoverReport rollBack(Migration m) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (true) {
            CutoverReport r = m.rollback(false);
            // a refusal of the gate (the reverse stream a moment behind) is asked again; one of the content step is kept
            boolean gate = r.steps().stream().anyMatch(s -> s.name().equals("gate") && s.status() != CutoverReport.StepStatus.DONE);
            if (r.outcome() != CutoverReport.Outcome.REFUSED || !gate || System.nanoTime() > deadline) {
                return r;
            }
            Thread.sleep(500);
        }
    }

    /**
     * One writer per node, each on keys of its own (so the last acknowledged write of a key is its value): inserts,
     * updates and deletes of both tables in the shape the migration carried, until a node refuses with the rollback's fence.
     */
    static final class ClusterWriters implements AutoCloseable {
        final AtomicBoolean running = new AtomicBoolean(true);
        final AtomicBoolean fenced = new AtomicBoolean();
        final AtomicLong commits = new AtomicLong();
        final List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        /** Per item key: the remark of its last acknowledged write, or null once deleted. */
        final Map<Long, String> items = new ConcurrentHashMap<>();
        final Map<Integer, String> kinds = new ConcurrentHashMap<>();
        private static final String DELETED = "(deleted)";
        private final List<Thread> threads = new ArrayList<>();

        ClusterWriters(List<PgNode> nodes) {
            for (int i = 0; i < nodes.size(); i++) {
                PgNode node = nodes.get(i);
                int me = i;
                Thread t = new Thread(() -> {
                    try {
                        write(node, me);
                    } catch (SQLException e) {
                        if ("25006".equals(e.getSQLState())) {
                            fenced.set(true);
                        } else {
                            failures.add(e);
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }, "cluster-writer-" + i);
                threads.add(t);
                t.start();
            }
        }

        private void write(PgNode node, int me) throws SQLException, InterruptedException {
            try (Connection c = node.connect(DB); Statement st = c.createStatement()) {
                for (int n = 1; running.get(); n++) {
                    long id = 1_000_000L * (me + 2) + n;
                    String r = "c" + me + "-" + n;
                    st.execute("INSERT INTO public.items (id, v, qty, remark) VALUES (" + id + ", " + n + ", " + n + ", '" + r + "')");
                    items.put(id, r);
                    if (n % 2 == 0) {
                        st.execute("UPDATE public.items SET qty = qty + 100, remark = 'u" + r + "' WHERE id = " + (id - 1));
                        items.put(id - 1, "u" + r);
                    }
                    if (n % 3 == 0) {
                        st.execute("DELETE FROM public.items WHERE id = " + (id - 2));
                        items.put(id - 2, DELETED);
                    }
                    long old = 1 + me + 2L * (n % 1500); // rows the copy brought, each writer its own
                    st.execute("UPDATE public.items SET remark = 'old" + r + "', qty = " + n + " WHERE id = " + old);
                    items.put(old, "old" + r);
                    int k = 10_000 * (me + 1) + n;
                    st.execute("INSERT INTO public.kinds (k, name, label) VALUES (" + k + ", 'c', 'L" + r + "')");
                    kinds.put(k, "L" + r);
                    if (n % 2 == 0) {
                        st.execute("UPDATE public.kinds SET label = 'U" + r + "' WHERE k = " + (k - 1));
                        kinds.put(k - 1, "U" + r);
                    }
                    if (n % 3 == 0) {
                        st.execute("DELETE FROM public.kinds WHERE k = " + (k - 2));
                        kinds.put(k - 2, DELETED);
                    }
                    commits.incrementAndGet();
                    Thread.sleep(5);
                }
            }
        }

        /** Each acknowledged write's outcome on {@code source}. */
        void assertOn(PgNode source) throws SQLException {
            Map<Object, String> itemsSeen = read(source, "SELECT id, remark FROM public.items");
            assertThat(itemsSeen).containsAllEntriesOf(expected(items));
            Map<Object, String> kindsSeen = read(source, "SELECT k::bigint, label FROM public.kinds");
            assertThat(kindsSeen).containsAllEntriesOf(expected(kinds));
            for (var e : items.entrySet()) {
                if (e.getValue().equals(DELETED)) {
                    assertThat(itemsSeen).as("deleted item " + e.getKey()).doesNotContainKey(e.getKey());
                }
            }
            for (var e : kinds.entrySet()) {
                if (e.getValue().equals(DELETED)) {
                    assertThat(kindsSeen).as("deleted kind " + e.getKey()).doesNotContainKey((long) e.getKey());
                }
            }
        }

        private static Map<Object, String> expected(Map<? extends Number, String> written) {
            Map<Object, String> out = new HashMap<>();
            written.forEach((k, v) -> {
                if (!v.equals(DELETED)) {
                    out.put(k.longValue(), v);
                }
            });
            return out;
        }

        private static Map<Object, String> read(PgNode node, String sql) throws SQLException {
            Map<Object, String> out = new HashMap<>();
            try (Connection c = node.connect(DB); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
                while (rs.next()) {
                    out.put(rs.getLong(1), rs.getString(2));
                }
            }
            return out;
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            for (Thread t : threads) {
                t.join(30_000);
            }
        }
    }
}
