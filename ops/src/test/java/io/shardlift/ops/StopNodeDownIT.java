package io.shardlift.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlift.embedded.PgNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM to {@code run} while a node is down and the applier retries it: the process stops cleanly (exit 143) without
 * a stack trace, and the next start goes on. Before, the applier's writer went on retrying the node through the stop,
 * the stop gave up waiting for it after 30 s and interrupted it, and Kafka's consumer close threw on the interrupt
 * flag: "Exception in thread shardlift-applier ... InterruptException" on every stop (and every take-on of a new
 * table) with a node down. Source and cluster end equal row by row.
 */
class StopNodeDownIT {

    static SensorsMigration env;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        env = SensorsMigration.start("stopdown", 20_000);
    }

    @AfterAll
    static void stop() {
        if (env != null) {
            env.close();
        }
    }

    @Test
    void sigtermWithANodeDownStopsCleanlyWithoutAStackTrace() throws Exception {
        Path spec = env.spec(dir);
        Path log = dir.resolve("run.log");
        PgNode node1 = env.cluster.nodes().get(1);
        int code;
        try (LiveWriter writer = new LiveWriter(env.cluster.source(), SensorsMigration.DB)) {
            ShardliftProcess run = ShardliftProcess.start(log, "run", "--config", spec.toString(), "--status-interval", "2");
            // node 1 goes down as the copy ends, when the applier is about to be given its partitions and reads where
            // each node is: that read failing stopped the applier and `run` at once; now it is retried like a write
            awaitLog(run, log, "5 of 5 tables now");
            node1.stop();
            try {
                awaitLog(run, log, "retry 3 in");
            } finally {
                node1.startAgain();
            }
            awaitLog(run, log, "reachable again");
            awaitLog(run, log, "assigned ");
            Migrations.awaitMarker(env.cluster, SensorsMigration.DB, "back", env.partitions(), 180);
            // down again while the writer's changes stream: the applier's writer retries node 1, backing off, when
            // SIGTERM comes
            int retried = count(Files.readString(log), "retry 3 in");
            node1.stop();
            try {
                awaitLog(run, log, "retry 3 in", retried + 1);
                run.terminate();
                code = run.waitFor(300);
            } finally {
                node1.startAgain();
            }
        }
        String out = Files.readString(log);
        assertThat(code).as(out).isEqualTo(143);
        assertThat(out).doesNotContain("Exception in thread").doesNotContain("InterruptException");
        // the stop lost nothing: the next start applies what node 1 missed
        ShardliftProcess again = ShardliftProcess.start(dir.resolve("again.log"), "run", "--config", spec.toString(),
                "--status-interval", "2");
        try {
            Migrations.awaitMarker(env.cluster, SensorsMigration.DB, "stop-down", env.partitions(), 180);
            Migrations.assertEqual(env.cluster, SensorsMigration.DB);
        } finally {
            again.kill();
        }
    }

    static int count(String log, String text) {
        return log.split(java.util.regex.Pattern.quote(text), -1).length - 1;
    }

    static void awaitLog(ShardliftProcess run, Path log, String text) throws Exception {
        awaitLog(run, log, text, 1);
    }

    /** Until {@code text} is in the log {@code times} times. */
    static void awaitLog(ShardliftProcess run, Path log, String text, int times) throws Exception {
        long deadline = System.nanoTime() + 300_000_000_000L;
        while (count(Files.readString(log), text) < times) {
            assertThat(run.isAlive()).as(run.describe()).isTrue();
            assertThat(System.nanoTime()).as("waiting for '" + text + "'; " + run.describe()).isLessThan(deadline);
            Thread.sleep(300);
        }
    }
}
