package io.shardlift.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Appliers in two processes, one consumer group: a {@code run} (copy, capture, apply) and an {@code apply}
 * share the partitions; one of them is killed and restarted mid-stream. Source and cluster end equal.
 */
class ScaleOutIT {

    static SensorsMigration env;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        env = SensorsMigration.start("scale", 100_000);
    }

    @AfterAll
    static void stop() {
        if (env != null) {
            env.close();
        }
    }

    @Test
    void twoApplierProcessesShareThePartitionsWithoutLosingOrDoublingAnything() throws Exception {
        Path spec = env.spec(dir);
        Path runLog = dir.resolve("run.log");
        Path applyLog = dir.resolve("apply.log");
        ShardliftProcess run;
        ShardliftProcess apply;
        try (LiveWriter writer = new LiveWriter(env.cluster.source(), SensorsMigration.DB)) {
            run = ShardliftProcess.start(runLog, "run", "--config", spec.toString(), "--instance-id", "a", "--status-interval", "1");
            apply = ShardliftProcess.start(applyLog, "apply", "--config", spec.toString(), "--instance-id", "b", "--status-interval", "1");
            long deadline = System.nanoTime() + 180_000_000_000L;
            while (!(Files.readString(runLog).contains("copy done") && Files.readString(applyLog).contains("5/5 tables"))) {
                assertThat(run.isAlive()).as(run.describe()).isTrue();
                assertThat(apply.isAlive()).as(apply.describe()).isTrue();
                assertThat(System.nanoTime()).as(run.describe() + "\n" + apply.describe()).isLessThan(deadline);
                Thread.sleep(300);
            }
            Thread.sleep(3_000);
            // the second member dies mid-stream and comes back under the same id
            apply.kill();
            Thread.sleep(2_000);
            int before = Files.readString(applyLog).length();
            apply = ShardliftProcess.start(applyLog, "apply", "--config", spec.toString(), "--instance-id", "b", "--status-interval", "1");
            // the writer goes on until the member that came back holds partitions again, and a little longer: on a busy
            // machine the rebalance took longer than a fixed 5 s and the member applied nothing of its own
            long assigned = System.nanoTime() + 120_000_000_000L;
            while (!java.util.regex.Pattern.compile("assigned [1-9][0-9]* partitions").matcher(
                    Files.readString(applyLog).substring(before)).find()) {
                assertThat(apply.isAlive()).as(apply.describe()).isTrue();
                assertThat(System.nanoTime()).as(apply.describe()).isLessThan(assigned);
                Thread.sleep(300);
            }
            Thread.sleep(5_000);
        }
        Migrations.awaitMarker(env.cluster, SensorsMigration.DB, "scale-out", env.partitions(), 120);
        assertThat(run.isAlive()).as(run.describe()).isTrue();
        assertThat(apply.isAlive()).as(apply.describe()).isTrue();
        Migrations.assertEqual(env.cluster, SensorsMigration.DB);
        // both processes applied: each holds some partitions
        assertThat(Files.readString(runLog)).containsPattern("assigned [1-9][0-9]* partitions");
        assertThat(Files.readString(applyLog)).containsPattern("apply APPLYING 5/5 tables, [1-9][0-9,]* events");
        assertThat(countAppliedPartitions()).isEqualTo(env.partitions());
        run.kill();
        apply.kill();
    }

    static long countAppliedPartitions() throws Exception {
        try (Connection c = env.cluster.nodes().get(0).connect(SensorsMigration.DB); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM shardlift.applied")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
