package io.shardlift.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlift.embedded.PgNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code shardlift run} end to end, as a real process, with real PostgreSQL nodes, a real broker and real
 * Debezium, while a writer runs through the copy and the catch-up: source and cluster end equal row by row.
 */
class RunIT {

    static SensorsMigration env;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        env = SensorsMigration.start("run", 200_000);
    }

    @AfterAll
    static void stop() {
        if (env != null) {
            env.close();
        }
    }

    @Test
    void writerThroughCopyAndCatchUpEndsEqualRowByRow() throws Exception {
        Path spec = env.spec(dir);
        Path log = dir.resolve("run.log");
        ShardliftProcess run;
        try (LiveWriter writer = new LiveWriter(env.cluster.source(), SensorsMigration.DB)) {
            Thread.sleep(500);
            run = ShardliftProcess.start(log, "run", "--config", spec.toString(), "--chunk-rows", "20000", "--status-interval", "2");
            // let the writer run through the copy and well into the catch-up
            long deadline = System.nanoTime() + 180_000_000_000L;
            while (!Files.readString(log).contains("copy done") && System.nanoTime() < deadline) {
                assertThat(run.isAlive()).as(run.describe()).isTrue();
                Thread.sleep(500);
            }
            Thread.sleep(3_000);
            // node 0 restarts during the catch-up: the applier retries within its budget, markers included (recording
            // the lag probe's marker arrivals on node 0 stopped run for good: a new user's report)
            PgNode node0 = env.cluster.nodes().get(0);
            node0.stop();
            Thread.sleep(1_500);
            node0.startAgain();
            Thread.sleep(3_000);
            assertThat(writer.truncates.get()).as("the writer truncated the reference table").isPositive();
        }
        try {
            Migrations.awaitMarker(env.cluster, SensorsMigration.DB, "run-it", env.partitions(), 120);
        } catch (AssertionError e) {
            List<String> lines = Files.readAllLines(log);
            throw new AssertionError(e.getMessage() + "; alive " + run.isAlive() + "; the run's log ends:\n"
                    + String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size())), e);
        }
        assertThat(run.isAlive()).as(run.describe()).isTrue();
        Migrations.assertEqual(env.cluster, SensorsMigration.DB);
        assertThat(Files.readString(log)).contains("reachable again").doesNotContain("applier stopped");
        run.kill();
        System.out.println(Files.readString(log).lines().filter(l -> l.contains("||")).reduce((a, b) -> b).orElse(""));
    }
}
