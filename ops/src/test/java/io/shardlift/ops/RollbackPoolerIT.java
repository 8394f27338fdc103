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
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The way back through a real PgBouncer: clients write through the alias across the cutover (to the cluster), across
 * the rollback (back to the source) and across a second cutover, and see no error: inserts, updates, sharding-key changes,
 * deletes and a global table's updates ({@link #andThen}); every write they were acknowledged is on the source after the
 * rollback and on the cluster after the second cutover, and source and cluster end equal row by row.
 */
class RollbackPoolerIT {

    static PooledSensors pooled;
    static SensorsMigration env;
    static PgBouncer bouncer;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        pooled = PooledSensors.start("rbpool", "120");
        env = pooled.env;
        bouncer = pooled.bouncer;
    }

    @AfterAll
    static void stop() {
        PooledSensors.close(pooled);
    }

    @Test
    void clientsThroughPgBouncerSeeNoErrorAcrossCutoverRollbackAndCutoverAgain() throws Exception {
        Path spec = pooled.spec(dir);
        ClusterPlan plan = Planning.plan(new SpecLoader().load(spec));
        try (Migration m = Migration.start(plan, new Migration.Options(2, 20_000, dir.resolve("data"), Optional.of("rbpool-it")),
                new SimpleMeterRegistry());
             // each insert followed by an update of a global table's row of the client's own
             PoolerClients w = new PoolerClients(bouncer.jdbcUrl("app"), 2, 10_000_000, 10, RollbackPoolerIT::andThen)) {
            long deadline = System.nanoTime() + 600_000_000_000L;
            while (!m.caughtUp()) {
                assertThat(m.failure()).isEmpty();
                assertThat(System.nanoTime()).as(m.statusLine()).isLessThan(deadline);
                Thread.sleep(200);
            }
            CutoverReport done = CutoverPoolerIT.pastTheGate(m, false, deadline);
            assertThat(done.outcome()).as(done.toString()).isEqualTo(CutoverReport.Outcome.DONE);
            w.awaitMore(200, 120); // on the cluster now
            assertThat(w.errors.get()).as("client errors (first: %s)", w.firstError.get()).isZero();

            // the dry run PAUSEs for real, with the checks of the rollback's direction: the aliases lead to the cluster
            // (it was refused for that as if it were a cutover's: a new user's report)
            CutoverReport dry = rollBack(m, deadline, true);
            assertThat(dry.outcome()).as(dry.toString()).isEqualTo(CutoverReport.Outcome.DRY_RUN);
            assertThat(dry.steps()).filteredOn(st -> st.name().equals("pooler-pause")).singleElement()
                    .satisfies(st -> assertThat(st.status()).isEqualTo(CutoverReport.StepStatus.DONE));
            w.awaitMore(50, 120); // resumed: the clients go on, on the cluster
            CutoverReport back = rollBack(m, deadline, false);
            assertThat(back.outcome()).as(back.toString()).isEqualTo(CutoverReport.Outcome.DONE);
            assertThat(back.steps()).extracting(CutoverReport.Step::name).containsExactly("gate", "content", "pooler-pause", "cluster-fence",
                    "reverse-drain", "verify", "sequences", "lift-source-fence", "pooler-switch-back", "pooler-resume");
            System.out.printf("rollback through PgBouncer: the cluster's writes frozen %d ms, clients paused %s ms; steps %s%n",
                    back.freezeMillis(), back.poolerPauseMillis(), back.steps());
            w.awaitMore(200, 120); // on the source again
            assertThat(w.errors.get()).as("client errors (first: %s)", w.firstError.get()).isZero();
            Set<Integer> acknowledged = Set.copyOf(w.acknowledged);
            assertThat(CutoverPoolerIT.idsOn(env.cluster.source())).as("every acknowledged write on the source")
                    .containsAll(acknowledged);

            CutoverReport again = CutoverPoolerIT.pastTheGate(m, false, deadline);
            assertThat(again.outcome()).as(again.toString()).isEqualTo(CutoverReport.Outcome.DONE);
            w.awaitMore(200, 120);
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

    /**
     * What each client does after an insert, in turn: an update of a global table's row of its own, an update of an
     * event, a sharding-key change (DELETE + INSERT in one statement, as the cluster takes it), a delete; each client on
     * devices of its own. Through the alias, so on the source before the cutover, on the cluster in the rollback window
     * (carried back by the reverse stream), and on the source again after the rollback.
     */
    static String andThen(int client, int n) {
        int device = 1 + client * 50 + n % 50;
        String oldest = "(SELECT min(event_id) FROM public.events WHERE device_id = " + device + ")";
        return switch (n % 4) {
            case 0 -> "UPDATE public.settings SET value = 'w" + client + "-" + n + "' WHERE name = 'k" + (1 + client) + "'";
            case 1 -> "UPDATE public.events SET payload = jsonb_build_object('n', " + n + ") WHERE event_id = "
                    + "(SELECT max(event_id) FROM public.events WHERE device_id = " + device + ")";
            case 2 -> "WITH moved AS (DELETE FROM public.events WHERE event_id = " + oldest + " RETURNING *)"
                    + " INSERT INTO public.events SELECT event_id, " + (1 + client * 50 + (n + 7) % 50) + ", payload, created_at FROM moved";
            default -> "DELETE FROM public.events WHERE event_id = " + oldest;
        };
    }

    private static CutoverReport rollBack(Migration m, long deadline, boolean dryRun) throws InterruptedException {
        while (true) {
            CutoverReport r = m.rollback(dryRun);
            if (r.outcome() != CutoverReport.Outcome.REFUSED || !r.steps().get(r.steps().size() - 1).name().equals("gate")) {
                return r;
            }
            assertThat(System.nanoTime()).as(r.toString()).isLessThan(deadline);
            Thread.sleep(500);
        }
    }
}
