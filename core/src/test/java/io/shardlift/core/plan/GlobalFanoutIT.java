package io.shardlift.core.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlift.core.catalog.SourceCatalog;
import io.shardlift.core.plan.LayoutApplier.Stage;
import io.shardlift.core.spec.MigrationSpec;
import io.shardlift.embedded.PgCluster;
import io.shardlift.embedded.PgNode;
import io.shardlift.testkit.GlobalTables;
import io.shardlift.testkit.SpecWriter;
import java.io.StringReader;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;

/**
 * Global tables laid out on three nodes, written through every node at once: every copy stays identical, a
 * write that cannot reach a node fails naming it and changes no copy, and shardlift's own sessions do not fan out.
 */
class GlobalFanoutIT {

    static final String DB = "fan";
    static PgCluster cluster;
    static ClusterPlan plan;

    @BeforeAll
    static void start() throws SQLException {
        cluster = PgCluster.start("fanout", 3, DB);
        try (Connection c = cluster.source().connect(DB); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE public.rates (id int PRIMARY KEY, code text NOT NULL, n bigint NOT NULL DEFAULT 0,"
                    + " doubled bigint GENERATED ALWAYS AS (n * 2) STORED, note text)");
            st.execute("CREATE SCHEMA \"Odd schema\"");
            st.execute("CREATE TABLE \"Odd schema\".\"pair \"\"table\"\"\" (a int, b text, v int, PRIMARY KEY (a, b))");
            st.execute("CREATE TABLE public.items (item_id int PRIMARY KEY, rate_id int)");
        }
        MigrationSpec spec = Specs.parse(SpecWriter.from(cluster, DB)
                .schemas("    - name: public\n      tables:\n        - {name: rates, type: global}\n"
                        + "        - {name: items, type: sharded, distributedby: item_id, partitions: 3}\n"
                        + "    - name: Odd schema\n      tables:\n        - {name: 'pair \"table\"', type: global}\n")
                .kafka("embedded").yaml());
        try (Connection c = cluster.source().connect(DB)) {
            plan = SchemaPlanner.plan(spec, SourceCatalog.read(c, List.of("public", "Odd schema")));
        }
        LayoutApplier.apply(plan, EnumSet.of(Stage.TABLES, Stage.INDEXES));
        // a second run changes nothing and is not refused
        assertThat(LayoutApplier.apply(plan, EnumSet.of(Stage.TABLES, Stage.INDEXES))).allMatch(LayoutApplier.NodeResult::alreadyLaidOut);
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void concurrentWritersThroughEveryNodeKeepEveryCopyIdentical() throws Exception {
        GlobalTables.Written w = GlobalTables.writeThroughEveryNode(cluster.nodes(), DB, 2, Duration.ofSeconds(8), (st, r, node) -> {
            int id = r.nextInt(1, 60);
            st.execute("INSERT INTO public.rates (id, code, n) VALUES (" + id + ", 'c" + id + "', 1)"
                    + " ON CONFLICT (id) DO UPDATE SET n = rates.n + 1, note = coalesce(rates.note, '') || 'u'");
            st.execute("UPDATE public.rates SET n = n + 10 WHERE id % 7 = " + r.nextInt(7));
            if (r.nextInt(4) == 0) {
                st.execute("DELETE FROM public.rates WHERE id = " + r.nextInt(1, 60));
            }
            st.execute("INSERT INTO \"Odd schema\".\"pair \"\"table\"\"\" VALUES (" + r.nextInt(20) + ", 'x', 1)"
                    + " ON CONFLICT (a, b) DO UPDATE SET v = EXCLUDED.v + \"pair \"\"table\"\"\".v");
        });
        System.out.printf("global tables: %d transactions through %d nodes at once, %d failed%n", w.commits(),
                cluster.nodes().size(), w.failures().size());
        assertCopiesIdentical();
        assertThat(w.failures()).isEmpty();
        assertThat(w.commits()).isPositive();

        // TRUNCATE through one node, reload with COPY through another, then a DELETE and an UPDATE through a third
        try (Connection c = cluster.nodes().get(1).connect(DB); Statement st = c.createStatement()) {
            st.execute("TRUNCATE public.rates");
        }
        assertThat(count(cluster.nodes().get(0), "public.rates")).isZero();
        try (Connection c = cluster.nodes().get(2).connect(DB)) {
            StringBuilder rows = new StringBuilder();
            for (int i = 1; i <= 500; i++) {
                rows.append(i).append("\tcode").append(i).append('\t').append(i * 3).append("\t\\N\n");
            }
            c.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY public.rates (id, code, n, note) FROM STDIN",
                    new StringReader(rows.toString()));
        }
        try (Connection c = cluster.nodes().get(0).connect(DB); Statement st = c.createStatement()) {
            assertThat(st.executeUpdate("DELETE FROM public.rates WHERE id > 400")).isEqualTo(100);
            assertThat(st.executeUpdate("UPDATE public.rates SET note = 'even' WHERE id % 2 = 0")).isEqualTo(200);
        }
        for (PgNode n : cluster.nodes()) {
            assertThat(count(n, "public.rates")).as(n.name()).isEqualTo(400);
        }
        assertCopiesIdentical();
    }

    @Test
    void aWriteWhileANodeIsDownFailsNamingItAndChangesNoCopy() throws Exception {
        try (Connection c = cluster.nodes().get(0).connect(DB); Statement st = c.createStatement()) {
            st.execute("INSERT INTO public.rates (id, code) VALUES (9001, 'before') ON CONFLICT (id) DO UPDATE SET code = 'before'");
        }
        assertCopiesIdentical();
        PgNode down = cluster.nodes().get(2);
        down.stop();
        try {
            for (int via = 0; via < 2; via++) {
                try (Connection c = cluster.nodes().get(via).connect(DB); Statement st = c.createStatement()) {
                    assertThatThrownBy(() -> st.execute("UPDATE public.rates SET code = 'during' WHERE id = 9001"))
                            .hasMessageContaining("global table public.rates")
                            .hasMessageContaining("node 2 (" + plan.spec().nodes().get(2).label() + ") cannot be reached")
                            .hasMessageContaining("nothing was written on any node");
                    assertThatThrownBy(() -> st.execute("INSERT INTO public.rates (id, code) VALUES (9002, 'during')"))
                            .hasMessageContaining("node 2");
                    assertThatThrownBy(() -> st.execute("TRUNCATE public.rates")).hasMessageContaining("node 2");
                }
            }
            for (int k = 0; k < 2; k++) {
                assertThat(codeOf(cluster.nodes().get(k), 9001)).isEqualTo("before");
                assertThat(codeOf(cluster.nodes().get(k), 9002)).isNull();
            }
        } finally {
            down.startAgain();
        }
        assertThat(codeOf(down, 9001)).isEqualTo("before");
        assertCopiesIdentical();
        // once the node is back, writes go through again, from sessions that saw it down as well
        try (Connection c = cluster.nodes().get(1).connect(DB); Statement st = c.createStatement()) {
            st.execute("UPDATE public.rates SET code = 'after' WHERE id = 9001");
        }
        for (PgNode n : cluster.nodes()) {
            assertThat(codeOf(n, 9001)).isEqualTo("after");
        }
    }

    @Test
    void anApplicationRoleWithoutMappingsOrRightsOnShardliftsSchemasFansOut() throws Exception {
        for (PgNode n : cluster.nodes()) {
            n.execute(DB, "DO $$ BEGIN CREATE ROLE app LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$",
                    "GRANT SELECT, INSERT, UPDATE, DELETE ON public.rates TO app");
        }
        PgNode via = cluster.nodes().get(2);
        try (Connection c = java.sql.DriverManager.getConnection(via.jdbcUrl(DB), "app", ""); Statement st = c.createStatement()) {
            st.execute("INSERT INTO public.rates (id, code) VALUES (6001, 'app')");
            st.execute("UPDATE public.rates SET code = 'app2' WHERE id = 6001");
        }
        for (PgNode n : cluster.nodes()) {
            assertThat(codeOf(n, 6001)).as(n.name()).isEqualTo("app2");
        }
        assertCopiesIdentical();
    }

    @Test
    void shardliftsOwnSessionsWriteOneCopyOnly() throws Exception {
        try (Connection c = cluster.nodes().get(1).connect(DB); Statement st = c.createStatement()) {
            st.execute(GlobalFanout.MARK_SESSION);
            st.execute("INSERT INTO public.rates (id, code) VALUES (7001, 'own')");
        }
        assertThat(codeOf(cluster.nodes().get(1), 7001)).isEqualTo("own");
        assertThat(codeOf(cluster.nodes().get(0), 7001)).isNull();
        assertThat(codeOf(cluster.nodes().get(2), 7001)).isNull();
        // a copy that differs makes the next write of that row fail, rather than diverge further
        try (Connection c = cluster.nodes().get(1).connect(DB); Statement st = c.createStatement()) {
            assertThatThrownBy(() -> st.execute("DELETE FROM public.rates WHERE id = 7001"))
                    .hasMessageContaining("global table public.rates: the copy on node 0 (" + plan.spec().nodes().get(0).label()
                            + ") holds 0 rows with the key of the changed row, 1 expected: the copies of this table differ");
        }
        assertThat(codeOf(cluster.nodes().get(1), 7001)).isEqualTo("own");
        try (Connection c = cluster.nodes().get(1).connect(DB); Statement st = c.createStatement()) {
            st.execute(GlobalFanout.MARK_SESSION);
            st.execute("DELETE FROM public.rates WHERE id = 7001");
        }
        assertCopiesIdentical();
    }

    /** Single-row UPDATE latency through a node, without the fan-out (a marked session) and with it. */
    @Test
    void measureTheCostOfASingleRowUpdate() throws Exception {
        try (Connection c = cluster.nodes().get(1).connect(DB); Statement st = c.createStatement()) {
            st.execute("INSERT INTO public.rates (id, code) VALUES (8001, 'cost') ON CONFLICT (id) DO NOTHING");
        }
        double[] plain = updateLatency(true);
        double[] fanned = updateLatency(false);
        System.out.printf("single-row UPDATE of a global table through node 1 of 3, 300 iterations: without fan-out median %.3f ms"
                + " p95 %.3f ms; with fan-out median %.3f ms p95 %.3f ms%n", plain[0], plain[1], fanned[0], fanned[1]);
        assertCopiesIdentical();
    }

    private static double[] updateLatency(boolean marked) throws SQLException {
        try (Connection c = cluster.nodes().get(1).connect(DB); Statement st = c.createStatement();
             PreparedStatement ps = c.prepareStatement("UPDATE public.rates SET code = code WHERE id = 8001")) {
            if (marked) {
                st.execute(GlobalFanout.MARK_SESSION);
            }
            for (int i = 0; i < 50; i++) { // warm-up: connections to the other nodes, plans
                ps.executeUpdate();
            }
            long[] ns = new long[300];
            for (int i = 0; i < ns.length; i++) {
                long t = System.nanoTime();
                ps.executeUpdate();
                ns[i] = System.nanoTime() - t;
            }
            java.util.Arrays.sort(ns);
            return new double[] {ns[ns.length / 2] / 1e6, ns[ns.length * 95 / 100] / 1e6};
        }
    }

    static void assertCopiesIdentical() throws SQLException {
        assertThat(GlobalTables.differences(cluster.nodes(), DB, Map.of("public.rates", List.of("id"),
                "\"Odd schema\".\"pair \"\"table\"\"\"", List.of("a", "b")))).isEmpty();
    }

    static long count(PgNode n, String table) throws SQLException {
        try (Connection c = n.connect(DB); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static String codeOf(PgNode n, int id) throws SQLException {
        try (Connection c = n.connect(DB); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT code FROM public.rates WHERE id = " + id)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }
}
