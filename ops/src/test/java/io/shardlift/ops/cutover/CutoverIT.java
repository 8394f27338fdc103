package io.shardlift.ops.cutover;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardlift.ops.Fixtures;
import io.shardlift.ops.workflow.Planning;
import io.shardlift.ops.workflow.Migration;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.spec.SpecLoader;
import io.shardlift.embedded.PgNode;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole migration and the cutover, with a writer running from before the copy until the source refuses
 * its writes: every write the source acknowledged is on the cluster, the dry run changed nothing, the lag
 * gate refuses with its reason, and the write freeze is measured.
 */
class CutoverIT {

    static Fixtures.Env env;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        env = Fixtures.sensors("cutover", 100_000);
    }

    @AfterAll
    static void stop() {
        if (env != null) {
            env.close();
        }
    }

    @Test
    void writerThroughMigrationAndCutoverLosesNothing() throws Exception {
        ClusterPlan plan = Planning.plan(new SpecLoader().load(env.spec(dir)));
        try (Fixtures.Writer writer = env.writer();
             Migration m = Migration.start(plan, new Migration.Options(2, 20_000, dir.resolve("data"), Optional.of("cutover-it")),
                     new SimpleMeterRegistry())) {
            // before the copy is done the gate refuses, with its reason, and nothing changes
            CutoverReport early = m.cutover(false);
            assertThat(early.outcome()).isEqualTo(CutoverReport.Outcome.REFUSED);
            assertThat(early.reason()).get().asString().startsWith("the copy is not done yet");

            long deadline = System.nanoTime() + 180_000_000_000L;
            while (!m.caughtUp()) {
                assertThat(m.failure()).isEmpty();
                assertThat(System.nanoTime()).as(m.statusLine()).isLessThan(deadline);
                Thread.sleep(200);
            }
            assertThat(m.phase()).isIn(Migration.Phase.READY, Migration.Phase.CATCHING_UP);

            // the dry run walks every check and takes the lock, and changes nothing
            CutoverReport dry = m.cutover(true);
            assertThat(dry.outcome()).as(dry.toString()).isEqualTo(CutoverReport.Outcome.DRY_RUN);
            assertThat(triggersOnSource()).isZero();
            assertThat(foreignKeysOnNode0()).isZero();
            assertThat(m.cutoverState()).isEmpty();
            assertThat(writer.fenced()).isFalse();

            Thread.sleep(1_000); // the writer keeps writing
            CutoverReport done = m.cutover(false);
            assertThat(done.outcome()).as(done.toString()).isEqualTo(CutoverReport.Outcome.DONE);
            assertThat(done.pointOfNoReturnPassed()).isTrue();
            assertThat(done.steps()).extracting(CutoverReport.Step::name).containsExactly("gate", "pre-drain", "content", "fence-function", "fence-wait", "fence", "marker", "drain",
                    "verify", "foreign-keys", "sequences", "write-fence", "reverse-slots", "release", "validate");
            System.out.printf("cutover under a steady write load (%d commits so far): writes frozen %d ms; steps %s%n",
                    writer.commits(), done.freezeMillis(), done.steps());
            assertThat(m.phase()).isEqualTo(Migration.Phase.CUT_OVER);

            // the source now refuses writes and says where the table went
            writer.awaitFenced();
            assertThat(writer.fenceMessage()).contains("moved to the sharded cluster");
            // every write the source acknowledged is on the cluster: the fenced source equals the cluster
            env.assertEqual();
            // sequences continue past the source's values, and never collide between nodes
            long sourceLast = single(env.cluster().source(), "SELECT last_value FROM public.events_event_id_seq");
            for (PgNode n : env.cluster().nodes()) {
                assertThat(single(n, "SELECT nextval('public.events_event_id_seq')")).isGreaterThan(sourceLast);
            }
            assertThat(foreignKeysOnNode0()).isPositive();
        }
    }

    static long triggersOnSource() throws SQLException {
        return single(env.cluster().source(), "SELECT count(*) FROM pg_trigger WHERE tgname = 'shardlift_moved'");
    }

    static long foreignKeysOnNode0() throws SQLException {
        return single(env.cluster().nodes().get(0), "SELECT count(*) FROM pg_constraint WHERE contype = 'f'");
    }

    static long single(PgNode n, String sql) throws SQLException {
        try (Connection c = n.connect(Fixtures.DB); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
