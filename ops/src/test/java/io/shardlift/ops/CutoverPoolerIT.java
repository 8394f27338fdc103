package io.shardlift.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.spec.SpecLoader;
import io.shardlift.ops.workflow.Planning;
import io.shardlift.ops.cutover.CutoverReport;
import io.shardlift.ops.workflow.Migration;
import io.shardlift.testkit.PgBouncer;
import io.shardlift.embedded.PgNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
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
 * The cutover with a {@code pooler:} section, through a real PgBouncer (transaction pooling) in front of the source:
 * clients writing through it the whole time see no error; a transaction held open through it makes the PAUSE time out,
 * which refuses the cutover with everything resumed and nothing fenced; the cutover then pauses, fences, releases,
 * switches the alias to the cluster and resumes, and every acknowledged write is on the cluster.
 */
class CutoverPoolerIT {

    static PooledSensors pooled;
    static SensorsMigration env;
    static PgBouncer bouncer;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        // clients wait paused while the cutover fences and drains: never disconnected for it
        pooled = PooledSensors.start("cutpool", "120");
        env = pooled.env;
        bouncer = pooled.bouncer;
    }

    @AfterAll
    static void stop() {
        PooledSensors.close(pooled);
    }

    @Test
    void clientsWritingThroughPgBouncerSeeNoErrorAcrossTheCutover() throws Exception {
        Path spec = pooled.spec(dir);
        ClusterPlan plan = Planning.plan(new SpecLoader().load(spec));
        Set<Integer> acknowledged;
        try (Migration m = Migration.start(plan, new Migration.Options(2, 20_000, dir.resolve("data"), Optional.of("cutpool-it")),
                new SimpleMeterRegistry());
             PoolerClients w = new PoolerClients(bouncer.jdbcUrl("app"), 2, 10_000_000, 5)) {
            long deadline = System.nanoTime() + 600_000_000_000L;
            while (!m.caughtUp()) {
                assertThat(m.failure()).isEmpty();
                assertThat(System.nanoTime()).as(m.statusLine()).isLessThan(deadline);
                Thread.sleep(200);
            }

            // the dry run PAUSEs and RESUMEs for real (proving the pause completes in time), switches nothing
            String include = Files.readString(bouncer.includeFile());
            CutoverReport dry = pastTheGate(m, true, deadline);
            assertThat(dry.outcome()).as(dry.toString()).isEqualTo(CutoverReport.Outcome.DRY_RUN);
            assertThat(step(dry, "pooler-pause").detail()).startsWith("PAUSE app on ").contains("dry run: a real PAUSE");
            assertThat(step(dry, "pooler-pause").status()).isEqualTo(CutoverReport.StepStatus.DONE);
            assertThat(step(dry, "pooler-resume").detail()).contains("clients were paused", "probe through PgBouncer: 0 errors");
            assertThat(step(dry, "pooler-switch").status()).isEqualTo(CutoverReport.StepStatus.DRY_RUN);
            assertThat(dry.steps()).extracting(CutoverReport.Step::name).containsSubsequence("content", "fence-function",
                    "pooler-probe", "pooler-pause", "fence-wait", "fence", "release", "pooler-switch", "pooler-resume", "validate");
            assertThat(dry.poolerPauseMillis()).isPresent();
            assertThat(dry.probe()).hasValueSatisfying(pr -> {
                assertThat(pr.errors()).as(pr.describe()).isZero();
                assertThat(pr.lastWriteOn()).as(pr.describe()).isEqualTo("source");
                assertThat(pr.writes()).isPositive();
            });
            assertThat(Files.readString(bouncer.includeFile())).isEqualTo(include);
            assertThat(triggersOnSource()).isZero();
            w.awaitMore(50, 120); // resumed: the writers go on
            assertThat(w.errors.get()).as("client errors (first: %s)", w.firstError.get()).isZero();
            System.out.printf("dry run through PgBouncer: %s; %s; poolerPauseMs %d%n", step(dry, "pooler-pause").detail(),
                    step(dry, "pooler-resume").detail(), dry.poolerPauseMillis().getAsLong());

            // a transaction open through PgBouncer holds its server connection: the PAUSE cannot complete in time
            Properties p = new Properties();
            p.setProperty("user", "postgres");
            try (Connection held = DriverManager.getConnection(bouncer.jdbcUrl("app"), p)) {
                held.setAutoCommit(false);
                try (Statement st = held.createStatement()) {
                    st.execute("SELECT count(*) FROM public.settings");
                }
                CutoverReport refused = pastTheGate(m, false, deadline);
                assertThat(refused.outcome()).as(refused.toString()).isEqualTo(CutoverReport.Outcome.REFUSED);
                assertThat(refused.steps().get(refused.steps().size() - 1)).extracting(CutoverReport.Step::name,
                        CutoverReport.Step::status).containsExactly("pooler-pause", CutoverReport.StepStatus.REFUSED);
                assertThat(refused.reason()).get().asString().contains("app", "nothing was fenced");
                assertThat(refused.steps()).extracting(CutoverReport.Step::name).doesNotContain("fence");
                // the probe waited through the PAUSE that did not complete, and went on after its RESUME
                assertThat(refused.probe()).hasValueSatisfying(pr -> assertThat(pr.errors()).as(pr.describe()).isZero());
                held.rollback();
            }
            assertThat(triggersOnSource()).isZero();
            w.awaitMore(50, 120); // the writers go on: everything was resumed
            assertThat(w.errors.get()).as("client errors (first: %s)", w.firstError.get()).isZero();

            CutoverReport done = pastTheGate(m, false, deadline);
            assertThat(done.outcome()).as(done.toString()).isEqualTo(CutoverReport.Outcome.DONE);
            assertThat(done.steps()).extracting(CutoverReport.Step::name).containsSubsequence("pooler-pause", "fence", "release",
                    "pooler-switch", "pooler-resume", "validate");
            assertThat(done.steps()).allMatch(s -> s.status() == CutoverReport.StepStatus.DONE, "every step done");
            assertThat(step(done, "pooler-resume").detail()).contains("clients were paused", "probe through PgBouncer: 0 errors");
            // the probe felt the pause and no error, and its last writes landed on the cluster, through the same alias
            assertThat(done.probe()).hasValueSatisfying(pr -> {
                assertThat(pr.errors()).as(pr.describe()).isZero();
                assertThat(pr.lastWriteOn()).as(pr.describe()).isEqualTo("cluster");
                assertThat(pr.writes()).isPositive();
                assertThat(pr.reads()).isPositive();
                assertThat(pr.worstWriteMs()).isNotNegative();
                assertThat(pr.worstReadMs()).isNotNegative();
            });
            assertThat(done.poolerPauseMillis()).isPresent();
            assertThat(done.toMap()).containsEntry("poolerPauseMs", done.poolerPauseMillis().getAsLong()).containsKey("probe");
            System.out.printf("cutover through PgBouncer: writes frozen %d ms; poolerPauseMs %d; %s; %s%n", done.freezeMillis(),
                    done.poolerPauseMillis().getAsLong(), step(done, "pooler-pause").detail(), step(done, "pooler-resume").detail());

            // the writers go on, now on the cluster, without an error
            int before = w.acknowledged.size();
            w.awaitMore(100, 120);
            w.close();
            assertThat(w.errors.get()).as("client errors (first: %s)", w.firstError.get()).isZero();
            assertThat(w.acknowledged.size()).isGreaterThan(before);
            acknowledged = Set.copyOf(w.acknowledged);
        }
        // every acknowledged write is on the cluster (node 0 answers for every partition)
        assertThat(idsOn(env.cluster.nodes().get(0))).containsAll(acknowledged);
        // and the source holds nothing the cluster does not: the writes after the switch were the cluster's (the
        // probe's last write landed there, asserted above). Their count on the source is no evidence either way since
        // the rollback window opened: the reverse stream carries the cluster's writes back to the source, so the source
        // catches up with the cluster (a CI run saw both at 3,102 rows and failed a "fewer on the source" check).
        assertThat(idsOn(env.cluster.source())).isSubsetOf(idsOn(env.cluster.nodes().get(0)));
    }

    /** Asks until the lag gate lets the request through (the pipeline catching up after the previous one). */
    static CutoverReport pastTheGate(Migration m, boolean dryRun, long deadline) throws InterruptedException {
        while (true) {
            CutoverReport r = m.cutover(dryRun);
            if (r.outcome() != CutoverReport.Outcome.REFUSED || !r.steps().get(r.steps().size() - 1).name().equals("gate")) {
                return r;
            }
            assertThat(System.nanoTime()).as(r.toString()).isLessThan(deadline);
            Thread.sleep(1_000);
        }
    }

    static CutoverReport.Step step(CutoverReport r, String name) {
        return r.steps().stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow(() -> new AssertionError(name + " in " + r));
    }

    static long triggersOnSource() throws SQLException {
        return triggersOnSource(env);
    }

    static long triggersOnSource(SensorsMigration env) throws SQLException {
        try (Connection c = env.cluster.source().connect(SensorsMigration.DB); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_trigger WHERE tgname = 'shardlift_moved'")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static Set<Integer> idsOn(PgNode n) throws SQLException {
        return idsOn(n, 10_000_000);
    }

    /** The device ids from {@code from} on in device_notes on {@code n}. */
    static Set<Integer> idsOn(PgNode n, int from) throws SQLException {
        Set<Integer> out = new HashSet<>();
        try (Connection c = n.connect(SensorsMigration.DB); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT device_id FROM public.device_notes WHERE device_id >= " + from)) {
            while (rs.next()) {
                out.add(rs.getInt(1));
            }
        }
        return out;
    }
}
