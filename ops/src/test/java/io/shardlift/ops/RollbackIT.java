package io.shardlift.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.spec.SpecLoader;
import io.shardlift.ops.cutover.Completion;
import io.shardlift.ops.cutover.Cutover;
import io.shardlift.ops.cutover.CutoverReport;
import io.shardlift.ops.cutover.CutoverState;
import io.shardlift.ops.workflow.Migration;
import io.shardlift.ops.workflow.Planning;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The way back and forth again, in one process, without a pooler: a cutover with the source's writer running, writers on
 * the cluster through every node until the rollback's fence stops them, the rollback (refused before the cutover and
 * after it is done), every write the cluster acknowledged on the source row by row, the source writable and the cluster
 * fenced; then the forward stream again, with a writer on the source, and a second cutover, verified row by row.
 */
class RollbackIT {

    static final String DB = SensorsMigration.DB;
    static SensorsMigration env;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        env = SensorsMigration.start("rollback", 20_000);
    }

    @AfterAll
    static void stop() {
        if (env != null) {
            env.close();
        }
    }

    @Test
    void rollsBackWithNothingLostThenCutsOverAgain() throws Exception {
        Path spec = env.spec(dir);
        ClusterPlan plan = Planning.plan(new SpecLoader().load(spec));
        LiveWriter writer = new LiveWriter(env.cluster.source(), DB);
        try (Migration m = Migration.start(plan, new Migration.Options(2, 20_000, dir.resolve("data"), Optional.of("rollback-it")),
                new SimpleMeterRegistry())) {
            assertThatThrownBy(() -> m.rollback(false)).isInstanceOf(Cutover.Conflict.class)
                    .hasMessageContaining("rollback refused: nothing was cut over");
            awaitCaughtUp(m);
            CutoverReport done = m.cutover(false);
            assertThat(done.outcome()).as(done.toString()).isEqualTo(CutoverReport.Outcome.DONE);
            while (!writer.fenced.get()) {
                Thread.sleep(50);
            }
            writer.close();

            ReverseStreamIT.ClusterWriters w = new ReverseStreamIT.ClusterWriters(env.cluster.nodes(), 50);
            Thread.sleep(6_000);
            long deadline = System.nanoTime() + 180_000_000_000L;
            while (!m.reverseCaughtUp()) {
                assertThat(m.failure()).isEmpty();
                assertThat(System.nanoTime()).as(m.statusLine()).isLessThan(deadline);
                Thread.sleep(200);
            }
            CutoverReport dry = m.rollback(true);
            assertThat(dry.outcome()).as(dry.toString()).isEqualTo(CutoverReport.Outcome.DRY_RUN);
            assertThat(w.fenced.get()).isFalse();
            assertThat(m.cutoverState().orElseThrow().state()).isEqualTo(CutoverState.State.CUT_OVER);

            CutoverReport back = retryWhileRefused(m);
            assertThat(back.outcome()).as(back.toString()).isEqualTo(CutoverReport.Outcome.DONE);
            assertThat(back.steps()).extracting(CutoverReport.Step::name).containsExactly("gate", "content", "cluster-fence",
                    "reverse-drain", "verify", "sequences", "lift-source-fence");
            System.out.printf("rollback: the cluster's writes frozen %d ms; steps %s; cluster writers: %s%n", back.freezeMillis(),
                    back.steps(), w);
            w.close(); // they stop at the cluster's fence
            assertThat(w.fenced.get()).isTrue();
            assertThat(m.cutoverState().orElseThrow().state()).isEqualTo(CutoverState.State.REVERTED);
            assertThatThrownBy(() -> m.rollback(false)).isInstanceOf(Cutover.Conflict.class).hasMessageContaining("REVERTED");

            // every write the cluster acknowledged is on the source: the fenced cluster equals the source, row by row
            Migrations.assertEqual(env.cluster, DB);
            assertThat(ReverseStreamIT.slotsOnNodes(env.cluster.nodes())).isZero();
            try (Connection c = env.cluster.nodes().get(1).connect(DB); Statement st = c.createStatement()) {
                assertThatThrownBy(() -> st.execute("UPDATE public.settings SET value = 'app' WHERE name = 'k1'"))
                        .hasMessageContaining("moved back to the source");
            }

            // the source is the database again and the forward stream carries its writes; then a second cutover
            LiveWriter again = new LiveWriter(env.cluster.source(), DB);
            try {
                Thread.sleep(3_000);
                assertThat(again.commits.get()).isPositive();
                awaitCaughtUp(m);
                CutoverReport second = m.cutover(false);
                assertThat(second.outcome()).as(second.toString()).isEqualTo(CutoverReport.Outcome.DONE);
                while (!again.fenced.get()) {
                    Thread.sleep(50);
                }
            } finally {
                again.close();
            }
            Migrations.assertEqual(env.cluster, DB);
            // the cluster takes the application's writes again, and the second window's reverse stream carries them
            try (Connection c = env.cluster.nodes().get(1).connect(DB); Statement st = c.createStatement()) {
                st.execute("UPDATE public.settings SET value = 'after the second cutover' WHERE name = 'k1'");
            }
            deadline = System.nanoTime() + 120_000_000_000L;
            while (!ReverseStreamIT.sourceEqualsCluster(env.cluster)) {
                assertThat(m.failure()).isEmpty();
                assertThat(System.nanoTime()).as(m.statusLine()).isLessThan(deadline);
                Thread.sleep(500);
            }

            // complete: the window closes, the slots go, and neither a rollback nor a second complete is taken
            Completion.Result closed = m.complete();
            System.out.println("complete: " + closed);
            assertThat(closed.left()).anyMatch(l -> l.contains("DROP SCHEMA shardlift CASCADE"));
            assertThat(ReverseStreamIT.slotsOnNodes(env.cluster.nodes())).isZero();
            try (Connection c = env.cluster.source().connect(DB); Statement st = c.createStatement();
                 java.sql.ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_replication_slots")) {
                rs.next();
                assertThat(rs.getLong(1)).as("the forward slot is gone from the source").isZero();
            }
            assertThat(m.phase()).isEqualTo(Migration.Phase.COMPLETED);
            assertThatThrownBy(m::complete).isInstanceOf(Cutover.Conflict.class).hasMessageContaining("closed already");
            assertThatThrownBy(() -> m.rollback(false)).isInstanceOf(Cutover.Conflict.class).hasMessageContaining("COMPLETED");
        } finally {
            writer.close();
        }
        // run again after complete says so and exits: it sat at "copy preparing" with nothing to do (a new user's report)
        Path log = dir.resolve("run-after-complete.log");
        ShardliftProcess again = ShardliftProcess.start(log, "run", "--config", spec.toString(), "--data-dir",
                dir.resolve("data").toString());
        assertThat(again.waitFor(120)).as(java.nio.file.Files.readString(log)).isEqualTo(ExitCodes.OK);
        assertThat(java.nio.file.Files.readString(log)).contains("this migration is complete", "nothing to run")
                .doesNotContain("\tat ");
    }

    private static CutoverReport retryWhileRefused(Migration m) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (true) {
            CutoverReport r = m.rollback(false);
            if (r.outcome() != CutoverReport.Outcome.REFUSED || System.nanoTime() > deadline) {
                return r;
            }
            Thread.sleep(500);
        }
    }

    private static void awaitCaughtUp(Migration m) throws InterruptedException {
        long deadline = System.nanoTime() + 180_000_000_000L;
        while (!m.caughtUp()) {
            assertThat(m.failure()).isEmpty();
            assertThat(System.nanoTime()).as(m.statusLine()).isLessThan(deadline);
            Thread.sleep(200);
        }
    }
}
