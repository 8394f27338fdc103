package io.shardlift.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.shardlift.cdc.capture.Capture;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.spec.SpecLoader;
import io.shardlift.embedded.PgNode;
import io.shardlift.ops.cutover.CutoverReport;
import io.shardlift.ops.workflow.Migration;
import io.shardlift.ops.workflow.MigrationBackend;
import io.shardlift.ops.workflow.Planning;
import io.shardlift.testkit.Datasets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The way back, stage one: a cutover with the source's writer running, then the application writing the cluster
 * through every node (inserts, updates, updates that leave a TOASTed column unchanged, sharding-key changes as the
 * cluster takes them, DELETE + INSERT in one transaction, deletes, global tables written through several nodes): every
 * write reaches the source, row by row, through the reverse stream; nothing the forward applier wrote is echoed back,
 * and the source's fence still refuses the application.
 */
class ReverseStreamIT {

    static final String DB = SensorsMigration.DB;
    static SensorsMigration env;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        env = SensorsMigration.start("reverse", 20_000);
    }

    @AfterAll
    static void stop() {
        if (env != null) {
            env.close();
        }
    }

    @Test
    void everyClusterWriteAfterThePointOfNoReturnReachesTheSource() throws Exception {
        // a GENERATED ALWAYS identity on the source (a plain default on the nodes): the reverse stream's INSERTs and
        // UPDATEs of it were refused (428C9), which stopped run for good (a new user's report)
        try (Connection c = env.cluster.source().connect(DB); Statement st = c.createStatement()) {
            st.execute("ALTER TABLE public.device_types ALTER COLUMN device_type_id ADD GENERATED ALWAYS AS IDENTITY");
            // and one outside the key, which the cluster's upserts of the table update: an UPDATE may not set it at all
            // (428C9 again, found by hand walking), so the reverse stream leaves it as the source has it
            st.execute("ALTER TABLE public.settings ADD COLUMN rev bigint GENERATED ALWAYS AS IDENTITY");
        }
        ClusterPlan plan = Planning.plan(new SpecLoader().load(env.spec(dir)));
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        LiveWriter writer = new LiveWriter(env.cluster.source(), DB);
        try (Migration m = Migration.start(plan, new Migration.Options(2, 20_000, dir.resolve("data"), Optional.of("reverse-it")),
                registry)) {
            long deadline = System.nanoTime() + 180_000_000_000L;
            while (!m.caughtUp()) {
                assertThat(m.failure()).isEmpty();
                assertThat(System.nanoTime()).as(m.statusLine()).isLessThan(deadline);
                Thread.sleep(200);
            }
            CutoverReport dry = m.cutover(true);
            assertThat(dry.outcome()).as(dry.toString()).isEqualTo(CutoverReport.Outcome.DRY_RUN);
            assertThat(slotsOnNodes(plan)).as("a dry run makes no slot").isZero();

            CutoverReport done = m.cutover(false);
            assertThat(done.outcome()).as(done.toString()).isEqualTo(CutoverReport.Outcome.DONE);
            assertThat(done.steps()).extracting(CutoverReport.Step::name).containsSubsequence("drain", "write-fence", "reverse-slots", "release");
            System.out.printf("cutover with reverse slots: writes frozen %d ms; steps %s%n", done.freezeMillis(), done.steps());
            while (!writer.fenced.get()) {
                Thread.sleep(50);
            }
            writer.close();
            Migrations.assertEqual(env.cluster, DB);
            assertThat(slotsOnNodes(plan)).isEqualTo(plan.nodeCount());
            // the forward stream stops: it would carry the reverse applier's writes back to the cluster
            assertThat(m.captureStatus().state()).isEqualTo(Capture.State.STOPPED);

            // the reverse stream runs, and the forward applier's writes are not in it: nothing comes back before the
            // application writes the cluster
            deadline = System.nanoTime() + 60_000_000_000L;
            while (!m.reverseCaughtUp()) {
                assertThat(m.failure()).isEmpty();
                assertThat(System.nanoTime()).as(m.statusLine()).isLessThan(deadline);
                Thread.sleep(200);
            }
            Thread.sleep(3_000);
            assertThat(m.reverseStatus().orElseThrow().eventsApplied()).as(m.statusLine()).isZero();
            assertThat(m.statusLine()).contains("rollback window open");
            Map<String, Object> status = new MigrationBackend(m).status();
            assertThat(status.get("phase")).isEqualTo("CUT_OVER");
            assertThat(status.get("rollbackWindow")).isEqualTo("open");
            assertThat(status.get("reverse")).asString().contains("STREAMING").contains("slot retains").contains(" MB of WAL");
            assertThat(new MigrationBackend(m).ready()).as("ready in the window: the reverse stream caught up").isTrue();

            // the source's fence still refuses the application
            try (Connection c = env.cluster.source().connect(DB); Statement st = c.createStatement()) {
                assertThatThrownBy(() -> st.execute("UPDATE public.settings SET value = 'app' WHERE name = 'k1'"))
                        .hasMessageContaining("moved to the sharded cluster");
            }

            ClusterWriters w = new ClusterWriters(env.cluster.nodes());
            Thread.sleep(10_000);
            w.close();
            System.out.printf("written to the cluster through %d nodes: %s%n", env.cluster.nodes().size(), w);
            assertThat(w.moves.get()).isPositive();
            assertThat(w.eventMoves.get()).isPositive();

            deadline = System.nanoTime() + 120_000_000_000L;
            while (!sourceEqualsCluster()) {
                assertThat(m.failure()).isEmpty();
                assertThat(System.nanoTime()).as(() -> m.statusLine() + differences()).isLessThan(deadline);
                Thread.sleep(1_000);
            }
            Migrations.assertEqual(env.cluster, DB);
            assertThat(m.reverseStatus().orElseThrow().eventsApplied()).isPositive();

            // a TRUNCATE of one partition on the node that holds it empties only that partition's rows on the source,
            // and a TRUNCATE of a table through one node (each node truncating its own partitions, several at one
            // position) its rows from every partition; the source's other rows stay
            io.shardlift.core.plan.TablePlan events = plan.table(new io.shardlift.core.TableId("public", "events")).orElseThrow();
            long sourceEvents = count(env.cluster.source(), "SELECT count(*) FROM public.events");
            try (Connection c = env.cluster.nodes().get(1).connect(DB); Statement st = c.createStatement()) {
                st.execute("TRUNCATE " + events.partition(1).quoted());
            }
            try (Connection c = env.cluster.nodes().get(2).connect(DB); Statement st = c.createStatement()) {
                st.execute("TRUNCATE public.device_notes");
            }
            deadline = System.nanoTime() + 120_000_000_000L;
            while (!sourceEqualsCluster()) {
                assertThat(m.failure()).isEmpty();
                assertThat(System.nanoTime()).as(() -> m.statusLine() + differences()).isLessThan(deadline);
                Thread.sleep(500);
            }
            Migrations.assertEqual(env.cluster, DB);
            long left = count(env.cluster.source(), "SELECT count(*) FROM public.events");
            assertThat(left).as("the other partitions' rows stay on the source").isPositive().isLessThan(sourceEvents);
            assertThat(count(env.cluster.source(), "SELECT count(*) FROM public.device_notes")).isZero();
            // a node down in the window: the status says so (its capture still read as streaming with its last lag, a
            // new user's report), the rollback gate waits, and the node's changes come once it is back
            PgNode down = env.cluster.nodes().get(1);
            down.stop();
            try {
                deadline = System.nanoTime() + 60_000_000_000L;
                while (m.reverseStatus().orElseThrow().waiting().isEmpty()) {
                    assertThat(System.nanoTime()).as(m.statusLine()).isLessThan(deadline);
                    Thread.sleep(500);
                }
                assertThat(m.reverseStatus().orElseThrow().waiting().orElseThrow()).contains("node 1", "does not answer",
                        "the rollback waits for it");
                assertThat(m.reverseStatus().orElseThrow().state()).isEqualTo("WAITING");
                assertThat(m.failure()).as("a node down is not a failure").isEmpty();
                assertThat(m.reverseCaughtUp()).isFalse();
            } finally {
                down.startAgain();
            }
            try (Connection c = down.connect(DB); Statement st = c.createStatement()) {
                st.execute("UPDATE public.settings SET value = 'after node 1 came back' WHERE name = 'k2'");
            }
            deadline = System.nanoTime() + 120_000_000_000L;
            while (!sourceEqualsCluster() || m.reverseStatus().orElseThrow().waiting().isPresent()) {
                assertThat(m.failure()).isEmpty();
                assertThat(System.nanoTime()).as(() -> m.statusLine() + differences()).isLessThan(deadline);
                Thread.sleep(500);
            }
            Migrations.assertEqual(env.cluster, DB);
            String metrics = registry.scrape();
            assertThat(metrics).contains("shardlift_reverse_lag_seconds", "shardlift_reverse_events_total", "shardlift_reverse_queued");
            System.out.println("reverse stream: " + m.statusLine());
        } finally {
            writer.close();
        }
    }

    static long count(PgNode n, String sql) throws SQLException {
        try (Connection c = n.connect(DB); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static boolean sourceEqualsCluster() throws SQLException {
        return sourceEqualsCluster(env.cluster);
    }

    static boolean sourceEqualsCluster(io.shardlift.embedded.PgCluster cluster) throws SQLException {
        try (Connection src = cluster.source().connect(DB); Connection n0 = cluster.nodes().get(0).connect(DB)) {
            for (var e : Migrations.KEYS.entrySet()) {
                if (!Datasets.diffRows(src, n0, e.getKey(), e.getValue(), 1).isEmpty()) {
                    return false;
                }
            }
        }
        return true;
    }

    static String differences() {
        StringBuilder sb = new StringBuilder();
        try (Connection src = env.cluster.source().connect(DB); Connection n0 = env.cluster.nodes().get(0).connect(DB)) {
            for (var e : Migrations.KEYS.entrySet()) {
                sb.append("\n").append(e.getKey()).append(": ").append(Datasets.diffRows(src, n0, e.getKey(), e.getValue(), 10));
            }
        } catch (SQLException e) {
            sb.append(e.getMessage());
        }
        return sb.toString();
    }

    static long slotsOnNodes(ClusterPlan plan) throws SQLException {
        return slotsOnNodes(env.cluster.nodes());
    }

    static long slotsOnNodes(List<PgNode> nodes) throws SQLException {
        long n = 0;
        for (PgNode node : nodes) {
            try (Connection c = node.connect(DB); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE '%\\_rev\\_%'")) {
                rs.next();
                n += rs.getLong(1);
            }
        }
        return n;
    }

    /**
     * The application on the cluster: one writer per node, each on keys of its own so that the writers never wait for
     * one another's rows. A row moves to another sharding key the way the cluster takes it: DELETE and INSERT in one
     * transaction (the partitions are often on two nodes).
     */
    static final class ClusterWriters implements AutoCloseable {
        final AtomicBoolean running = new AtomicBoolean(true);
        final AtomicLong commits = new AtomicLong();
        final AtomicLong moves = new AtomicLong();
        final AtomicLong eventMoves = new AtomicLong();
        /** Set when a node refused a write because the tables moved back to the source (a rollback); the writer stops. */
        final AtomicBoolean fenced = new AtomicBoolean();
        final List<Thread> threads = new ArrayList<>();
        final List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());

        /** Milliseconds each writer rests between rounds. */
        final int restMs;

        ClusterWriters(List<PgNode> nodes) {
            this(nodes, 0);
        }

        ClusterWriters(List<PgNode> nodes, int restMs) {
            this.restMs = restMs;
            for (int i = 0; i < nodes.size(); i++) {
                int me = i;
                int of = nodes.size();
                PgNode node = nodes.get(i);
                Thread t = new Thread(() -> {
                    try {
                        write(node, me, of);
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

        private void write(PgNode node, int me, int of) throws SQLException {
            ThreadLocalRandom r = ThreadLocalRandom.current();
            Set<Long> moved = new HashSet<>();
            try (Connection c = node.connect(DB); Statement st = c.createStatement()) {
                PreparedStatement insert = c.prepareStatement("INSERT INTO public.events (device_id, payload)"
                        + " VALUES (?, jsonb_build_object('temperature', ?::numeric))");
                PreparedStatement update = c.prepareStatement("UPDATE public.events SET payload = jsonb_build_object('humidity', ?::numeric)"
                        + " WHERE device_id = ? AND event_id = (SELECT max(event_id) FROM public.events WHERE device_id = ?)");
                PreparedStatement delete = c.prepareStatement("DELETE FROM public.events WHERE device_id = ?"
                        + " AND event_id = (SELECT min(event_id) FROM public.events WHERE device_id = ?)");
                PreparedStatement toast = c.prepareStatement("UPDATE public.device_notes SET revision = revision + 1 WHERE device_id = ?");
                int round = 0;
                while (running.get()) {
                    round++;
                    int device = 1 + me + of * r.nextInt(1000 / of); // this writer's devices
                    insert.setInt(1, device);
                    insert.setInt(2, r.nextInt(100));
                    insert.executeUpdate();
                    update.setInt(1, r.nextInt(100));
                    update.setInt(2, device);
                    update.setInt(3, device);
                    update.executeUpdate();
                    if (round % 4 == 0) {
                        delete.setInt(1, device);
                        delete.setInt(2, device);
                        delete.executeUpdate();
                    }
                    try (ResultSet rs = st.executeQuery("SELECT device_id FROM public.device_notes WHERE device_id % " + of + " = " + me
                            + " ORDER BY random() LIMIT 1")) {
                        if (rs.next()) {
                            int note = rs.getInt(1);
                            toast.setInt(1, note);
                            toast.executeUpdate(); // the TOASTed note is not in the change
                            if (round % 5 == 0) {
                                // a sharding-key change, as the cluster takes it: DELETE and INSERT in one transaction
                                st.execute("WITH d AS (DELETE FROM public.device_notes WHERE device_id = " + note + " RETURNING *)"
                                        + " INSERT INTO public.device_notes SELECT device_id + " + (of * 100_000) + ", revision, note FROM d");
                                moves.incrementAndGet();
                            }
                        }
                    }
                    if (round % 7 == 0) {
                        // an event of a widened table moves to another device: its source key stays, its sharding key changes
                        int to = 1 + me + of * r.nextInt(1000 / of);
                        try (ResultSet rs = st.executeQuery("SELECT event_id FROM public.events WHERE device_id = " + device
                                + " ORDER BY event_id LIMIT 3")) {
                            while (rs.next()) {
                                long id = rs.getLong(1);
                                if (moved.add(id) && to != device) {
                                    c.setAutoCommit(false);
                                    try (Statement mv = c.createStatement()) {
                                        mv.execute("WITH d AS (DELETE FROM public.events WHERE device_id = " + device + " AND event_id = " + id
                                                + " RETURNING *) INSERT INTO public.events SELECT event_id, " + to + ", payload, created_at FROM d");
                                    }
                                    c.commit();
                                    c.setAutoCommit(true);
                                    eventMoves.incrementAndGet();
                                    break;
                                }
                            }
                        }
                    }
                    // global tables, through every node
                    st.execute("INSERT INTO public.settings (name, value) VALUES ('w" + me + "-" + r.nextInt(30) + "', 'v" + round + "')"
                            + " ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value");
                    if (round % 6 == 0) {
                        st.execute("DELETE FROM public.settings WHERE name = 'w" + me + "-" + r.nextInt(30) + "'");
                    }
                    if (round % 10 == 0) {
                        st.execute("INSERT INTO public.device_types (device_type_id, name) VALUES (" + (1000 + 100 * me + r.nextInt(20))
                                + ", 't" + round + "') ON CONFLICT (device_type_id) DO UPDATE SET name = EXCLUDED.name");
                    }
                    commits.incrementAndGet();
                    if (restMs > 0) {
                        try {
                            Thread.sleep(restMs);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            return;
                        }
                    }
                }
            }
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            for (Thread t : threads) {
                t.join();
            }
            if (!failures.isEmpty()) {
                AssertionError e = new AssertionError("a cluster writer failed: " + failures.get(0), failures.get(0));
                throw e;
            }
        }

        @Override
        public String toString() {
            return commits.get() + " rounds, " + moves.get() + " sharding-key changes of device_notes, " + eventMoves.get()
                    + " events moved to another device";
        }
    }
}
