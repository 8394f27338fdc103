package io.shardlift.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlift.core.ledger.Markers;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.spec.SpecLoader;
import io.shardlift.embedded.PgNode;
import io.shardlift.ops.verify.Verifier;
import io.shardlift.ops.verify.VerifyOptions;
import io.shardlift.ops.verify.VerifyReport;
import io.shardlift.ops.workflow.Migration;
import io.shardlift.ops.workflow.Planning;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Schema changes on the source while the migration streams (issue 15): each statement reaches every node at its place
 * between the data changes, while a writer keeps writing, and the next change of the same row already uses the new
 * shape; afterwards source and cluster are equal row by row and in shape. A change of a sharding key's type stops only
 * its own table, with the documented message.
 */
class DdlIT {

    static final String DB = "ddl";
    static final String SCHEMAS = "    - name: public\n      tables:\n"
            + "        - {name: items, type: sharded, distributedby: id, partitions: 4}\n"
            + "        - {name: kinds, type: global}\n"
            + "        - {name: other, type: sharded, distributedby: k, partitions: 2}\n"
            + "        - {name: codes, type: global}\n"
            + "        - {name: conv, type: global}\n"
            + "        - {name: orders, type: sharded, distributedby: k, partitions: 2}\n"
            + "        - {name: early, type: global, priority: 5}\n"
            + "        - {name: late, type: sharded, distributedby: id, partitions: 4}\n";
    static SchemaFixture env;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        env = SchemaFixture.start("ddl", DB,
                "CREATE TABLE public.items (id bigint PRIMARY KEY, v int NOT NULL DEFAULT 0, note text, extra text)",
                "INSERT INTO public.items SELECT g, g % 7, 'n' || g, 'x' FROM generate_series(1, 5000) g",
                "CREATE TABLE public.kinds (k int PRIMARY KEY, name text)",
                "INSERT INTO public.kinds SELECT g, 'k' || g FROM generate_series(1, 50) g",
                "CREATE TABLE public.other (k int PRIMARY KEY, v int)",
                "INSERT INTO public.other SELECT g, g FROM generate_series(1, 100) g",
                "CREATE TABLE public.codes (id int PRIMARY KEY, code text)",
                "INSERT INTO public.codes SELECT g, g::text FROM generate_series(1, 100) g",
                "CREATE TABLE public.conv (id int PRIMARY KEY, v int)",
                "INSERT INTO public.conv SELECT g, g FROM generate_series(1, 20) g",
                "CREATE TABLE public.orders (k int PRIMARY KEY, item bigint)",
                "INSERT INTO public.orders SELECT g, NULL FROM generate_series(1, 20) g",
                "CREATE TABLE public.early (id int PRIMARY KEY)",
                "INSERT INTO public.early SELECT generate_series(1, 10)",
                "CREATE TABLE public.late (id bigint PRIMARY KEY, a int NOT NULL, b text NOT NULL, c int, d text)",
                "INSERT INTO public.late SELECT g, g, 'b' || g, g, 'd' || g FROM generate_series(1, 3000) g");
    }

    @AfterAll
    static void stop() {
        if (env != null) {
            env.close();
        }
    }

    @Test
    void schemaChangesReachEveryNodeInOrderWhileWritersRun() throws Exception {
        ClusterPlan plan = Planning.plan(new SpecLoader().load(env.spec(dir, SCHEMAS)));
        java.util.concurrent.atomic.AtomicLong next = new java.util.concurrent.atomic.AtomicLong(100_000);
        // the writer only names columns no statement changes: it runs through every one of them
        SchemaFixture.Write write = st -> {
            long id = next.incrementAndGet();
            st.execute("INSERT INTO public.items (id, v) VALUES (" + id + ", 1)");
            st.execute("UPDATE public.items SET v = v + 1 WHERE id = " + (id % 5000 + 1));
            st.execute("UPDATE public.other SET v = v + 1 WHERE k = " + (id % 100 + 1));
            return 0;
        };
        try (SchemaFixture.Writer w = env.writer(write); Migration m = changedWhileCopying(plan, w)) {
            try (Connection c = env.cluster.source().connect(DB); Statement st = c.createStatement()) {
                // each statement between two changes of row 7, the second using the new shape
                String[][] steps = {
                        {"ALTER TABLE public.items ADD COLUMN qty int DEFAULT 1", "UPDATE public.items SET qty = 3 WHERE id = 7"},
                        {"ALTER TABLE public.items ADD COLUMN plain_col text", "UPDATE public.items SET plain_col = 'p' WHERE id = 7"},
                        {"CREATE TYPE public.mood AS ENUM ('sad', 'ok')", "UPDATE public.items SET v = 70 WHERE id = 7"},
                        {"ALTER TABLE public.items ADD COLUMN m public.mood", "UPDATE public.items SET m = 'ok' WHERE id = 7"},
                        {"ALTER TYPE public.mood ADD VALUE 'happy'", "UPDATE public.items SET m = 'happy' WHERE id = 8"},
                        {"ALTER TABLE public.items RENAME COLUMN note TO remark", "UPDATE public.items SET remark = 'r' WHERE id = 7"},
                        {"ALTER TABLE public.items ALTER COLUMN qty TYPE bigint", "UPDATE public.items SET qty = 5000000000 WHERE id = 7"},
                        {"ALTER TABLE public.items ALTER COLUMN qty SET DEFAULT 5", "INSERT INTO public.items (id, v) VALUES (7000000, 1)"},
                        {"UPDATE public.items SET qty = 0 WHERE qty IS NULL", "ALTER TABLE public.items ALTER COLUMN qty SET NOT NULL"},
                        {"ALTER TABLE public.items ADD CONSTRAINT qty_not_negative CHECK (qty >= 0)", "UPDATE public.items SET qty = 9 WHERE id = 7"},
                        {"CREATE INDEX CONCURRENTLY items_qty ON public.items (qty)", "UPDATE public.items SET qty = 10 WHERE id = 7"},
                        {"ALTER TABLE public.items ADD COLUMN twice bigint GENERATED ALWAYS AS (qty * 2) STORED", "UPDATE public.items SET qty = 11 WHERE id = 7"},
                        {"ALTER TABLE public.items DROP COLUMN extra", "UPDATE public.items SET remark = 'no extra' WHERE id = 7"},
                        {"ALTER TABLE public.items ALTER COLUMN plain_col SET DEFAULT 'd'", "INSERT INTO public.items (id, v) VALUES (7000001, 1)"},
                        {"ALTER TABLE public.items ALTER COLUMN plain_col DROP DEFAULT", "INSERT INTO public.items (id, v) VALUES (7000002, 1)"},
                        {"ALTER TABLE public.items ALTER COLUMN v DROP NOT NULL", "UPDATE public.items SET v = NULL WHERE id = 9"},
                        {"ALTER TABLE public.items DROP CONSTRAINT qty_not_negative", "UPDATE public.items SET qty = 12 WHERE id = 7"},
                        {"CREATE INDEX items_remark ON public.items (remark)", "UPDATE public.items SET remark = 'ix' WHERE id = 7"},
                        {"DROP INDEX public.items_remark", "UPDATE public.items SET remark = 'no ix' WHERE id = 7"},
                        {"CREATE UNIQUE INDEX items_v_id ON public.items (v, id)", "UPDATE public.items SET v = 71 WHERE id = 7"},
                        {"ALTER TABLE public.kinds ADD COLUMN label text DEFAULT 'l'", "UPDATE public.kinds SET label = 'changed' WHERE k = 3"},
                };
                for (String[] s : steps) {
                    st.execute("UPDATE public.items SET v = v + 100 WHERE id = 7");
                    st.execute(s[0]);
                    st.execute(s[1]);
                    Thread.sleep(300);
                }
                // rows using the new shape, many of them
                st.execute("INSERT INTO public.items (id, v, remark, m, plain_col) SELECT g, 1, 'new', 'happy', 'q'"
                        + " FROM generate_series(8000000, 8000500) g");
                // not carried: the sharding key of `other` changes type; only `other` stops
                st.execute("ALTER TABLE public.other ALTER COLUMN k TYPE bigint");
                st.execute("UPDATE public.other SET v = -1 WHERE k = 1");
                // not carried either: no assignment cast from text to integer, so the nodes refuse it; only `codes` stops
                st.execute("ALTER TABLE public.codes ALTER COLUMN code TYPE integer USING code::integer");
                st.execute("UPDATE public.codes SET code = -2 WHERE id = 1");
                // not carried: a USING the nodes cannot run, whose values may differ from the assignment cast's
                st.execute("ALTER TABLE public.conv ALTER COLUMN v TYPE bigint USING v * 10");
                st.execute("UPDATE public.conv SET v = -3 WHERE id = 1");
                // not carried: a foreign key the nodes cannot enforce (the referenced row may live on another node)
                st.execute("ALTER TABLE public.orders ADD CONSTRAINT orders_item FOREIGN KEY (item) REFERENCES public.items (id)");
                st.execute("UPDATE public.orders SET item = 2 WHERE k = 1");
            }
            Thread.sleep(2_000);
            w.close();
            try (Connection c = env.cluster.source().connect(DB)) {
                Markers.emit(c, "ddl-it");
            }
            env.awaitMarker(m, "ddl-it", 8, 180); // items, kinds, early and late, 2 Kafka partitions each; other stopped
            assertThat(m.failure()).as(m.statusLine()).isEmpty();
            assertThat(m.applierStatus().lastError()).as(m.statusLine()).hasValueSatisfying(e -> assertThat(e)
                    .contains("ALTER TABLE on public.other cannot be carried to the cluster",
                            "changes the type of the sharding key column k from integer to bigint",
                            "The stream of public.other stopped before any later change of it; the other tables go on",
                            "ALTER TABLE on public.codes cannot be carried to the cluster: node 0 refused it",
                            "(no node applied it). The stream of public.codes stopped before any later change of it",
                            "ALTER TABLE on public.conv cannot be carried to the cluster: it changes the type of column v from"
                                    + " integer to bigint with a USING expression, which the nodes cannot run",
                            "ALTER TABLE on public.orders cannot be carried to the cluster: it adds the foreign key orders_item (item)"
                                    + " REFERENCES public.items (id) between two sharded tables that are not colocated on that key")
                    .doesNotContain("-1").doesNotContain("-2").doesNotContain("-3"));
            org.assertj.core.api.SoftAssertions stopped = new org.assertj.core.api.SoftAssertions();
            // what the operator's page shows: a stopped table is an error there too (lastError was null, the page silent)
            stopped.assertThat(String.valueOf(new io.shardlift.ops.workflow.MigrationBackend(m).status().get("lastError")))
                    .as(m.statusLine()).contains("ALTER TABLE on public.other cannot be carried to the cluster");
            // the cutover's gate names the stopped table: "lag ... ms is above the allowed" sent the operator waiting
            // for a lag that cannot come down
            io.shardlift.ops.cutover.CutoverReport dry = m.cutover(true);
            stopped.assertThat(dry.reason().orElse("no refusal")).as(dry.toString())
                    .contains("ALTER TABLE on public.other cannot be carried to the cluster").doesNotContain("is above the allowed");
            stopped.assertAll();
            assertRowsEqual("public.items", "id");
            assertRowsEqual("public.kinds", "k");
            assertRowsEqual("public.late", "id");
            assertShapeEqual("public", "late");
            assertShapeEqual("public", "items");
            assertShapeEqual("public", "kinds");
            assertLocalIndexes();
            // verify compares shapes too: equal now, and a column missing on a node is a difference
            // the planner refuses the key `orders` stopped at, as it would before a migration: gone, the source plans again
            try (Connection c = env.cluster.source().connect(DB); Statement st = c.createStatement()) {
                st.execute("ALTER TABLE public.orders DROP CONSTRAINT orders_item");
            }
            ClusterPlan now = Planning.plan(new SpecLoader().load(env.spec(dir, SCHEMAS)));
            java.util.Set<io.shardlift.core.TableId> carried = java.util.Set.of(new io.shardlift.core.TableId("public", "items"),
                    new io.shardlift.core.TableId("public", "kinds"), new io.shardlift.core.TableId("public", "late"));
            VerifyReport same = Verifier.ofTables(now, carried, VerifyOptions.withJobs(2)).run();
            assertThat(same.equal()).as(same.toString()).isTrue();
            try (Connection c = env.cluster.nodes().get(1).connect(DB); Statement st = c.createStatement()) {
                st.execute("ALTER TABLE public.kinds DROP COLUMN label");
            }
            VerifyReport differs = Verifier.ofTables(now, carried, VerifyOptions.withJobs(2)).run();
            assertThat(differs.equal()).isFalse();
            assertThat(differs.shapes()).anyMatch(d -> d.contains("public.kinds on node 1")
                    && d.contains("column label is missing (the source has text DEFAULT 'l'::text)"));
            // `conv` stopped before its change: the nodes hold its values and type as they were
            try (Connection c = env.cluster.nodes().get(1).connect(DB); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT v, pg_typeof(v)::text FROM public.conv WHERE id = 2")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(2);
                assertThat(rs.getString(2)).isEqualTo("integer");
            }
            // `other` stopped before its change: the cluster holds the row as it was
            try (Connection c = env.cluster.nodes().get(0).connect(DB); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT v FROM public.other WHERE k = 1")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isNotEqualTo(-1);
            }
        }
    }

    /**
     * Starts the migration with the copy held at {@code early} (copied first: a higher priority) by a lock on node 0's
     * copy of it, changes {@code late}'s shape on the source meanwhile (after the slot's consistent point, before
     * {@code late}'s copy, which reads under the exported snapshot: the old shape), writing rows of each new shape, then
     * lets the copy go on and waits until the migration caught up.
     */
    private Migration changedWhileCopying(ClusterPlan plan, SchemaFixture.Writer w) throws Exception {
        io.shardlift.core.plan.LayoutApplier.apply(plan, java.util.EnumSet.of(io.shardlift.core.plan.LayoutApplier.Stage.TABLES));
        Migration m;
        try (Connection hold = env.cluster.nodes().get(0).connect(DB); Statement hs = hold.createStatement()) {
            hold.setAutoCommit(false);
            hs.execute("LOCK TABLE public.early IN ACCESS EXCLUSIVE MODE");
            m = env.start(plan, dir);
            long deadline = System.nanoTime() + 120_000_000_000L;
            while (count(env.cluster.nodes().get(0), "SELECT count(*) FROM pg_locks WHERE relation = 'public.early'::regclass"
                    + " AND NOT granted") == 0) {
                assertThat(m.failure()).as(m.statusLine()).isEmpty();
                assertThat(System.nanoTime()).as("the copy reaches public.early: " + m.statusLine()).isLessThan(deadline);
                Thread.sleep(100);
            }
            try (Connection c = env.cluster.source().connect(DB); Statement st = c.createStatement()) {
                String[][] steps = {
                        {"ALTER TABLE public.late ADD COLUMN e int DEFAULT 5", "UPDATE public.late SET e = 6 WHERE id = 1",
                                "INSERT INTO public.late (id, a, b, e) VALUES (10001, 1, 'b', 7)"},
                        {"ALTER TABLE public.late ADD COLUMN f text", "UPDATE public.late SET f = 'f' WHERE id = 2",
                                "INSERT INTO public.late (id, a, b, f) VALUES (10002, 2, 'b', 'f')"},
                        {"ALTER TABLE public.late RENAME COLUMN d TO dd", "UPDATE public.late SET dd = 'renamed' WHERE id = 3",
                                "INSERT INTO public.late (id, a, b, dd) VALUES (10003, 3, 'b', 'dd')"},
                        {"ALTER TABLE public.late DROP COLUMN b", "UPDATE public.late SET a = -4 WHERE id = 4",
                                "INSERT INTO public.late (id, a) VALUES (10004, 4)"},
                };
                for (String[] s : steps) {
                    for (String sql : s) {
                        st.execute(sql);
                    }
                }
                // a rewrite would hide the table's rows from the copy's snapshot: refused until the copy is done
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> st.execute("ALTER TABLE public.late ALTER COLUMN c TYPE bigint"))
                        .hasMessageContaining("ALTER TABLE would rewrite public.late, which shardlift is still copying to the cluster")
                        .hasMessageContaining("Run the statement again once the copy of this table is done");
                st.execute("UPDATE public.late SET c = -6 WHERE id = 6");
            }
            assertThat(m.copyProgress().tables()).filteredOn(t -> t.table().name().equals("late"))
                    .allMatch(t -> t.state() == io.shardlift.snapshotter.CopyProgress.State.WAITING);
            hold.commit();
        }
        env.awaitCaughtUp(m, w);
        assertRowsEqual("public.late", "id");
        assertShapeEqual("public", "late");
        try (Connection c = env.cluster.source().connect(DB); Statement st = c.createStatement()) {
            st.execute("ALTER TABLE public.late ALTER COLUMN c TYPE bigint");
            st.execute("UPDATE public.late SET c = 5000000000 WHERE id = 5");
        }
        return m;
    }

    private static long count(PgNode n, String sql) throws SQLException {
        try (Connection c = n.connect(DB); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Row by row through every node; a difference shows both rows. */
    private static void assertRowsEqual(String table, String key) throws SQLException {
        try (Connection src = env.cluster.source().connect(DB)) {
            for (PgNode n : env.cluster.nodes()) {
                try (Connection dst = n.connect(DB)) {
                    List<io.shardlift.testkit.Datasets.RowDiff> diffs = io.shardlift.testkit.Datasets.diffRows(src, dst, table, List.of(key), 5);
                    StringBuilder shown = new StringBuilder();
                    for (var d : diffs) {
                        shown.append("\n  ").append(d.kind()).append(' ').append(d.key()).append("\n    source ")
                                .append(rowJson(src, table, key, d.key().get(0))).append("\n    node   ").append(rowJson(dst, table, key, d.key().get(0)));
                    }
                    assertThat(diffs).as(table + " via " + n.name() + shown).isEmpty();
                }
            }
        }
    }

    private static String rowJson(Connection c, String table, String key, String value) throws SQLException {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT row_to_json(t)::text FROM " + table + " t WHERE " + key + "::text = '" + value + "'")) {
            return rs.next() ? rs.getString(1) : "(none)";
        }
    }

    /** Columns (name, type, default, not null) and CHECKs of the source table and of its parent on every node. */
    private static void assertShapeEqual(String schema, String table) throws SQLException {
        Map<String, String> source = shape(env.cluster.source(), schema, table);
        for (PgNode n : env.cluster.nodes()) {
            assertThat(shape(n, schema, table)).as(schema + "." + table + " on " + n.name()).isEqualTo(source);
        }
    }

    private static Map<String, String> shape(PgNode node, String schema, String table) throws SQLException {
        Map<String, String> out = env.shape(node, schema, table);
        if (table.equals("items")) {
            try (Connection c = node.connect(DB); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT enum_range(NULL::public.mood)::text")) {
                rs.next();
                out.put("enum public.mood", rs.getString(1));
            }
        }
        return out;
    }

    /** The source's index on qty exists on every local partition; the dropped one on none. */
    private static void assertLocalIndexes() throws SQLException {
        for (PgNode n : env.cluster.nodes()) {
            List<String> names = new ArrayList<>();
            try (Connection c = n.connect(DB); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT indexrelid::regclass::text FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid"
                         + " WHERE t.relname LIKE 'items_%' AND t.relkind = 'r' ORDER BY 1")) {
                while (rs.next()) {
                    names.add(rs.getString(1));
                }
            }
            assertThat(names).as(n.name()).anyMatch(x -> x.startsWith("items_qty_")).noneMatch(x -> x.startsWith("items_remark"));
            assertThat(names.stream().filter(x -> x.startsWith("items_v_id_")).count()).as(n.name()).isEqualTo(2);
            assertThat(names.stream().filter(x -> x.startsWith("items_qty_")).count()).as(n.name()).isEqualTo(2);
        }
    }
}
