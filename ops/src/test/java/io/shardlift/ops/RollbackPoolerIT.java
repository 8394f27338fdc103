package io.shardlift.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.spec.SpecLoader;
import io.shardlift.ops.cutover.CutoverReport;
import io.shardlift.ops.workflow.Migration;
import io.shardlift.ops.workflow.Planning;
import io.shardlift.testkit.PgBouncer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The way back through a real PgBouncer: clients write through the alias across the cutover (to the cluster), across
 * the rollback (back to the source) and across a second cutover, and see no error; every write they were acknowledged is
 * on the source after the rollback and on the cluster after the second cutover.
 */
class RollbackPoolerIT {

    static SensorsMigration env;
    static PgBouncer bouncer;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        PgBouncer.unavailable().ifPresent(why -> {
            if ("true".equals(System.getenv("CI"))) {
                throw new IllegalStateException("CI=true but " + why);
            }
            Assumptions.abort(why);
        });
        env = SensorsMigration.start("rbpool", 5_000);
        bouncer = PgBouncer.start("rbpool", List.of(PgBouncer.databaseLine("app", env.cluster.source(), SensorsMigration.DB,
                "pool_size=4")), Map.of("query_wait_timeout", "120"));
    }

    @AfterAll
    static void stop() {
        if (bouncer != null) {
            bouncer.close();
        }
        if (env != null) {
            env.close();
        }
    }

    /** Autocommit inserts and updates through PgBouncer, on rows of their own; every error counted. */
    static final class Writers implements AutoCloseable {
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicInteger errors = new AtomicInteger();
        final AtomicReference<String> firstError = new AtomicReference<>();
        final Set<Integer> acknowledged = ConcurrentHashMap.newKeySet();
        final List<Thread> threads = new ArrayList<>();

        Writers(int n) {
            for (int i = 0; i < n; i++) {
                int writer = i;
                Thread t = new Thread(() -> write(writer), "pooler-writer-" + writer);
                t.setDaemon(true);
                threads.add(t);
            }
            threads.forEach(Thread::start);
        }

        void write(int writer) {
            Properties p = new Properties();
            p.setProperty("user", "postgres");
            try (Connection c = DriverManager.getConnection(bouncer.jdbcUrl("app"), p); Statement st = c.createStatement()) {
                for (int seq = 0; !stop.get(); seq++) {
                    int id = 10_000_000 + writer * 1_000_000 + seq;
                    try {
                        st.executeUpdate("INSERT INTO public.device_notes (device_id, revision, note) VALUES (" + id + ", 0, 'through the pooler')");
                        acknowledged.add(id);
                        st.executeUpdate("UPDATE public.settings SET value = 'w" + writer + "-" + seq + "' WHERE name = 'k" + (1 + writer) + "'");
                    } catch (SQLException e) {
                        errors.incrementAndGet();
                        firstError.compareAndSet(null, e.getMessage());
                    }
                    Thread.sleep(10);
                }
            } catch (SQLException e) {
                errors.incrementAndGet();
                firstError.compareAndSet(null, "connect: " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        void awaitMore(int more) throws InterruptedException {
            int target = acknowledged.size() + more;
            long deadline = System.nanoTime() + 120_000_000_000L;
            while (acknowledged.size() < target && System.nanoTime() < deadline && errors.get() == 0) {
                Thread.sleep(20);
            }
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            for (Thread t : threads) {
                t.join(30_000);
            }
        }
    }

    @Test
    void clientsThroughPgBouncerSeeNoErrorAcrossCutoverRollbackAndCutoverAgain() throws Exception {
        Path spec = env.spec(dir);
        Files.writeString(spec, Files.readString(spec) + "pooler:\n  pgbouncer:\n    - admin: \"" + bouncer.adminConnstr()
                + "\"\n      include_file: " + bouncer.includeFile() + "\n      databases: [app]\n  pause_timeout: 2s\n  target_node: 0\n");
        ClusterPlan plan = Planning.plan(new SpecLoader().load(spec));
        try (Migration m = Migration.start(plan, new Migration.Options(2, 20_000, dir.resolve("data"), Optional.of("rbpool-it")),
                new SimpleMeterRegistry());
             Writers w = new Writers(2)) {
            long deadline = System.nanoTime() + 600_000_000_000L;
            while (!m.caughtUp()) {
                assertThat(m.failure()).isEmpty();
                assertThat(System.nanoTime()).as(m.statusLine()).isLessThan(deadline);
                Thread.sleep(200);
            }
            CutoverReport done = CutoverPoolerIT.pastTheGate(m, false, deadline);
            assertThat(done.outcome()).as(done.toString()).isEqualTo(CutoverReport.Outcome.DONE);
            w.awaitMore(200); // on the cluster now
            assertThat(w.errors.get()).as("client errors (first: %s)", w.firstError.get()).isZero();

            CutoverReport back = rollBack(m, deadline);
            assertThat(back.outcome()).as(back.toString()).isEqualTo(CutoverReport.Outcome.DONE);
            assertThat(back.steps()).extracting(CutoverReport.Step::name).containsExactly("gate", "pooler-pause", "cluster-fence",
                    "reverse-drain", "verify", "sequences", "lift-source-fence", "pooler-switch-back", "pooler-resume");
            System.out.printf("rollback through PgBouncer: the cluster's writes frozen %d ms, clients paused %s ms; steps %s%n",
                    back.freezeMillis(), back.poolerPauseMillis(), back.steps());
            w.awaitMore(200); // on the source again
            assertThat(w.errors.get()).as("client errors (first: %s)", w.firstError.get()).isZero();
            Set<Integer> acknowledged = Set.copyOf(w.acknowledged);
            assertThat(CutoverPoolerIT.idsOn(env.cluster.source())).as("every acknowledged write on the source")
                    .containsAll(acknowledged);

            CutoverReport again = CutoverPoolerIT.pastTheGate(m, false, deadline);
            assertThat(again.outcome()).as(again.toString()).isEqualTo(CutoverReport.Outcome.DONE);
            w.awaitMore(200);
            w.close();
            assertThat(w.errors.get()).as("client errors (first: %s)", w.firstError.get()).isZero();
            assertThat(CutoverPoolerIT.idsOn(env.cluster.nodes().get(0))).as("every acknowledged write on the cluster")
                    .containsAll(w.acknowledged);
            // the second window's reverse stream carries the clients' writes on the cluster back to the source
            deadline = System.nanoTime() + 120_000_000_000L;
            while (!ReverseStreamIT.sourceEqualsCluster(env.cluster)) {
                assertThat(m.failure()).isEmpty();
                assertThat(System.nanoTime()).as(m.statusLine()).isLessThan(deadline);
                Thread.sleep(500);
            }
            Migrations.assertEqual(env.cluster, SensorsMigration.DB);
        }
    }

    private static CutoverReport rollBack(Migration m, long deadline) throws InterruptedException {
        while (true) {
            CutoverReport r = m.rollback(false);
            if (r.outcome() != CutoverReport.Outcome.REFUSED || !r.steps().get(r.steps().size() - 1).name().equals("gate")) {
                return r;
            }
            assertThat(System.nanoTime()).as(r.toString()).isLessThan(deadline);
            Thread.sleep(500);
        }
    }
}
