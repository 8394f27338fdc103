package io.shardlift.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlift.embedded.EmbeddedKafkaBroker;
import io.shardlift.embedded.PgCluster;
import io.shardlift.embedded.PgNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code shardlift run} killed with SIGKILL at five different moments while a writer keeps writing, restarted
 * each time with the same command; then the broker and one node are restarted under the running program,
 * which must ride both out unattended. At the end source and cluster are equal row by row: nothing lost,
 * nothing doubled.
 */
class RunCrashIT {

    static SensorsMigration env;
    static PgCluster cluster;
    static EmbeddedKafkaBroker kafka;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        env = SensorsMigration.start("runcrash", 300_000);
        cluster = env.cluster;
        kafka = env.kafka;
    }

    @AfterAll
    static void stop() {
        if (env != null) {
            env.close();
        }
    }

    @Test
    void killedAtFiveMomentsAndRestartedLosesAndDoublesNothingAndRidesOutBrokerAndNodeRestarts() throws Exception {
        Path spec = env.spec(dir);
        // kept after the test (target/ is the build's): what each run printed, with the moments it was killed
        Path log = Path.of("target", "RunCrashIT-run.log").toAbsolutePath();
        Files.deleteIfExists(log);
        String[] args = {"run", "--config", spec.toString(), "--chunk-rows", "15000", "--status-interval", "1"};
        try (LiveWriter writer = new LiveWriter(cluster.source(), "demo")) {
            // 1: in the middle of copying the large table
            killWhen(log, args, "mid-copy", () -> count0("SELECT count(*) FROM shardlift.copy_done WHERE table_name = 'public.events'") >= 4
                    && count0("SELECT count(*) FROM shardlift.copy_table WHERE table_name = 'public.events' AND copied_at IS NULL") == 1);
            // 2: the moment the large table's copy is complete (its indexes are being built, its changes not yet applied)
            killWhen(log, args, "copy complete", () ->
                    count0("SELECT count(*) FROM shardlift.copy_table WHERE table_name = 'public.events' AND copied_at IS NOT NULL") == 1);
            // 3: early in the catch-up, as soon as the applier committed anything for events
            killWhen(log, args, "catch-up", () -> count0("SELECT count(*) FROM shardlift.applied WHERE topic LIKE '%events'") > 0);
            // 4 and 5: mid-stream, while batches are being applied
            long applied = count0("SELECT coalesce(sum(kafka_offset), 0) FROM shardlift.applied");
            killWhen(log, args, "mid-stream", () -> count0("SELECT coalesce(sum(kafka_offset), 0) FROM shardlift.applied") > applied + 500);
            long applied2 = count0("SELECT coalesce(sum(kafka_offset), 0) FROM shardlift.applied");
            killWhen(log, args, "mid-batch", () -> count0("SELECT coalesce(sum(kafka_offset), 0) FROM shardlift.applied") > applied2 + 200);

            // then the final run rides out a broker restart and a node restart on its own
            long applied3 = count0("SELECT coalesce(sum(kafka_offset), 0) FROM shardlift.applied");
            ShardliftProcess last = ShardliftProcess.start(log, args);
            awaitTrue(log, last, "streaming again", () -> count0("SELECT coalesce(sum(kafka_offset), 0) FROM shardlift.applied") > applied3 + 1000);
            note(log, "restarting the Kafka broker");
            kafka.restart();
            Thread.sleep(3_000);
            note(log, "restarting node 2");
            cluster.nodes().get(2).restart();
            Thread.sleep(5_000);
            assertThat(last.isAlive()).as(last.describe()).isTrue();
            writer.close();
            try {
                Migrations.awaitMarker(cluster, "demo", "crash-it", env.partitions(), 180);
            } catch (AssertionError e) {
                String tail = String.join("\n", Files.readAllLines(log).stream().skip(Math.max(0, Files.readAllLines(log).size() - 80)).toList());
                throw new AssertionError(e.getMessage() + "\nlast lines of the log:\n" + tail, e);
            }
            assertThat(last.isAlive()).as(last.describe()).isTrue();
            Migrations.assertEqual(cluster, "demo");
            last.kill();
        }
    }

    private void killWhen(Path log, String[] args, String moment, BooleanSupplier condition) throws Exception {
        ShardliftProcess p = ShardliftProcess.start(log, args);
        awaitTrue(log, p, moment, condition);
        p.kill();
        note(log, "SIGKILL " + moment);
    }

    private static void awaitTrue(Path log, ShardliftProcess p, String moment, BooleanSupplier condition) throws Exception {
        long deadline = System.nanoTime() + 180_000_000_000L;
        while (!condition.getAsBoolean()) {
            assertThat(p.isAlive()).as("shardlift ended before " + moment + ": " + p.describe()).isTrue();
            assertThat(System.nanoTime()).as("waiting for " + moment + ": " + p.describe()).isLessThan(deadline);
            Thread.sleep(25);
        }
    }

    private static void note(Path log, String what) throws Exception {
        Files.writeString(log, "\n==== " + java.time.LocalTime.now() + " " + what + " ====\n", StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
    }

    static long count0(String sql) {
        PgNode n = cluster.nodes().get(0);
        try (Connection c = n.connect("demo"); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException notYet) {
            return -1; // control schema not created yet, or the node is restarting
        }
    }
}
