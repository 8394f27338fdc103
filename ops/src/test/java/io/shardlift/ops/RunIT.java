package io.shardlift.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
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
            Thread.sleep(5_000);
            assertThat(writer.truncates.get()).as("the writer truncated the reference table").isPositive();
        }
        Migrations.awaitMarker(env.cluster, SensorsMigration.DB, "run-it", env.partitions(), 120);
        assertThat(run.isAlive()).as(run.describe()).isTrue();
        Migrations.assertEqual(env.cluster, SensorsMigration.DB);
        run.kill();
        System.out.println(Files.readString(log).lines().filter(l -> l.contains("||")).reduce((a, b) -> b).orElse(""));
    }
}
