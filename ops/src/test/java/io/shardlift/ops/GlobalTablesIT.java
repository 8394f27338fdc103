package io.shardlift.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardlift.ops.workflow.Planning;
import io.shardlift.ops.cutover.CutoverReport;
import io.shardlift.ops.verify.Verifier;
import io.shardlift.ops.verify.VerifyOptions;
import io.shardlift.ops.verify.VerifyReport;
import io.shardlift.ops.workflow.Migration;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.spec.SpecLoader;
import io.shardlift.embedded.PgNode;
import io.shardlift.testkit.GlobalTables;
import java.io.StringReader;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.PGConnection;

/**
 * After a real cutover the application writes global tables through every node at once: every node's copy stays
 * identical to the others, row by row, and {@code verify --global-copies} finds them equal; a write through a node
 * while another node is down fails naming that node, and no copy changes.
 */
class GlobalTablesIT {

    static final String DB = Fixtures.DB;
    static Fixtures.Env env;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        env = Fixtures.sensors("globals", 20_000);
    }

    @AfterAll
    static void stop() {
        if (env != null) {
            env.close();
        }
    }

    @Test
    void afterTheCutoverGlobalTablesStayIdenticalWhicheverNodeIsWritten() throws Exception {
        ClusterPlan plan = Planning.plan(new SpecLoader().load(env.spec(dir)));
        try (Migration m = Migration.start(plan, new Migration.Options(2, 20_000, dir.resolve("data"), Optional.of("globals-it")),
                new SimpleMeterRegistry())) {
            long deadline = System.nanoTime() + 180_000_000_000L;
            while (!m.caughtUp()) {
                assertThat(m.failure()).isEmpty();
                assertThat(System.nanoTime()).as(m.statusLine()).isLessThan(deadline);
                Thread.sleep(200);
            }
            CutoverReport done = m.cutover(false);
            assertThat(done.outcome()).as(done.toString()).isEqualTo(CutoverReport.Outcome.DONE);
        }
        assertThat(globalCopies(plan).equal()).isTrue();

        List<PgNode> nodes = env.cluster().nodes();
        GlobalTables.Written w = GlobalTables.writeThroughEveryNode(nodes, DB, 2, Duration.ofSeconds(10), (st, r, node) -> {
            int base = 1000 + 100 * node;
            String key = "'k" + r.nextInt(1, 40) + "'";
            st.execute("INSERT INTO public.settings (name, value) VALUES (" + key + ", 'new')"
                    + " ON CONFLICT (name) DO UPDATE SET value = settings.value || '+'");
            st.execute("UPDATE public.settings SET value = left(value, 20) || '*' WHERE name LIKE 'k1%'");
            if (r.nextInt(3) == 0) {
                st.execute("DELETE FROM public.settings WHERE name = 'k" + r.nextInt(1, 40) + "'");
            }
            // device_types is referenced by the sharded devices: new types only, renamed and dropped
            int type = base + r.nextInt(50);
            st.execute("INSERT INTO public.device_types (device_type_id, name) VALUES (" + type + ", 't')"
                    + " ON CONFLICT (device_type_id) DO UPDATE SET name = device_types.name || 'u'");
            if (r.nextInt(4) == 0) {
                st.execute("DELETE FROM public.device_types WHERE device_type_id = " + (base + r.nextInt(50)));
            }
        });
        System.out.printf("global tables after the cutover: %d transactions by %d writers through %d nodes at once, %d failed%n",
                w.commits(), 2 * nodes.size(), nodes.size(), w.failures().size());
        assertCopiesIdentical();
        assertThat(w.failures()).isEmpty();
        assertThat(w.commits()).isPositive();

        // TRUNCATE through one node, reloaded with COPY through another
        try (Connection c = nodes.get(3).connect(DB); Statement st = c.createStatement()) {
            st.execute("TRUNCATE public.settings");
        }
        for (PgNode n : nodes) {
            assertThat(count(n, "public.settings")).as(n.name()).isZero();
        }
        try (Connection c = nodes.get(1).connect(DB)) {
            StringBuilder rows = new StringBuilder();
            for (int i = 1; i <= 300; i++) {
                rows.append("r").append(i).append('\t').append(i).append('\n');
            }
            c.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY public.settings (name, value) FROM STDIN", new StringReader(rows.toString()));
        }
        for (PgNode n : nodes) {
            assertThat(count(n, "public.settings")).as(n.name()).isEqualTo(300);
        }
        assertCopiesIdentical();
        VerifyReport report = globalCopies(plan);
        assertThat(report.equal()).as(report.toString()).isTrue();

        // a node down: the write fails naming it, and no copy changes
        PgNode down = nodes.get(3);
        down.stop();
        try {
            try (Connection c = nodes.get(1).connect(DB); Statement st = c.createStatement()) {
                assertThatThrownBy(() -> st.execute("UPDATE public.settings SET value = 'during' WHERE name = 'r1'"))
                        .hasMessageContaining("global table public.settings: node 3 (" + plan.spec().nodes().get(3).label()
                                + ") cannot be reached")
                        .hasMessageContaining("nothing was written on any node");
                assertThatThrownBy(() -> st.execute("DELETE FROM public.settings")).hasMessageContaining("node 3");
                assertThatThrownBy(() -> st.execute("TRUNCATE public.settings")).hasMessageContaining("node 3");
            }
            for (int k = 0; k < 3; k++) {
                assertThat(count(nodes.get(k), "public.settings")).isEqualTo(300);
                assertThat(value(nodes.get(k), "r1")).isEqualTo("1");
            }
        } finally {
            down.startAgain();
        }
        assertCopiesIdentical();
        report = globalCopies(plan);
        assertThat(report.equal()).as(report.toString()).isTrue();
    }

    private static VerifyReport globalCopies(ClusterPlan plan) throws InterruptedException {
        return Verifier.globalCopies(plan, VerifyOptions.withJobs(2)).run();
    }

    private static void assertCopiesIdentical() throws SQLException {
        assertThat(GlobalTables.differences(env.cluster().nodes(), DB,
                Map.of("public.settings", List.of("name"), "public.device_types", List.of("device_type_id")))).isEmpty();
    }

    private static long count(PgNode n, String table) throws SQLException {
        try (Connection c = n.connect(DB); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static String value(PgNode n, String name) throws SQLException {
        try (Connection c = n.connect(DB); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT value FROM public.settings WHERE name = '" + name + "'")) {
            return rs.next() ? rs.getString(1) : null;
        }
    }
}
