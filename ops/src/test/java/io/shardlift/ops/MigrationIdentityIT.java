package io.shardlift.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlift.embedded.PgNode;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A migration consumes only its own change stream: the embedded broker's data directory belongs to one migration
 * (another one is refused before anything is written, and the directory reopens whatever ports are free), and
 * topics that already hold an earlier attempt's records (an external broker) are not applied into a new cluster.
 * Each migration ends equal row by row.
 */
class MigrationIdentityIT {

    private static final String DB = SensorsMigration.DB;

    @TempDir
    Path dir;

    @Test
    void aSecondMigrationInTheSameDirectoryIsRefusedBeforeWritingAnythingAndRunsOnceTheDirectoryIsGone() throws Exception {
        Path data = dir.resolve("shardlift-data");
        try (SensorsMigration a = SensorsMigration.start("ida", 10_000, 2)) {
            Path log = dir.resolve("a.log");
            ShardliftProcess run = ShardliftProcess.start(log, runArgs(a.spec(dir.resolve("a"), "embedded"), data));
            streamWhileRunning(a, log, run);
            Migrations.awaitMarker(a.cluster, DB, "a-first", a.partitions(), 180);
            assertThat(run.isAlive()).as(run.describe()).isTrue();
            Migrations.assertEqual(a.cluster, DB);
            run.kill();
        }

        try (SensorsMigration b = SensorsMigration.start("idb", 10_000, 2)) {
            Path log = dir.resolve("b.log");
            String[] args = runArgs(b.spec(dir.resolve("b"), "embedded"), data);
            String identity = Files.readString(data.resolve("identity"));
            ShardliftProcess refused = ShardliftProcess.start(log, args);
            assertThat(refused.waitFor(120)).as(Files.readString(log)).isEqualTo(ExitCodes.USAGE);
            assertThat(Files.readString(log))
                    .contains("the data directory " + data.toAbsolutePath().normalize() + " belongs to another migration")
                    .contains(":" + b.cluster.source().port() + "/" + DB + " (system ")
                    .contains("remove the directory").contains("pass another --data-dir")
                    .doesNotContain("Exception").doesNotContain("\tat ");
            assertThat(Files.readString(data.resolve("identity"))).isEqualTo(identity);
            assertThat(count(b.cluster.source(), "SELECT count(*) FROM pg_replication_slots")).isZero();
            assertThat(count(b.cluster.source(), "SELECT count(*) FROM pg_publication")).isZero();
            for (PgNode n : b.cluster.nodes()) {
                assertThat(count(n, "SELECT count(*) FROM pg_namespace WHERE nspname = 'shardlift'")).as(n.name()).isZero();
            }

            // what the message says: the first migration is done with, so its directory goes
            PgNode.deleteQuietly(data);
            ShardliftProcess run = ShardliftProcess.start(log, args);
            streamWhileRunning(b, log, run);
            Migrations.awaitMarker(b.cluster, DB, "b-first", b.partitions(), 180);
            assertThat(run.isAlive()).as(run.describe()).isTrue();
            Migrations.assertEqual(b.cluster, DB);
            run.kill();
        }
    }

    /**
     * The default --data-dir is relative: run again from another directory, a migration that has streamed found an
     * empty embedded broker, logged Kafka errors for a minute and failed with a stack trace (a new user's report).
     * It is refused by the preflight now, naming the way out, before anything is written. From its own directory it
     * goes on, and the embedded broker reopens its data on other ports when another process holds one of its old ones;
     * it ends equal. (Two cases sharing one migration: the suite's time is budgeted.)
     */
    @Test
    void runFromAnotherDirectoryIsRefusedAndItsOwnReopensOnOtherPortsWhenOneIsTaken() throws Exception {
        Path data = dir.resolve("shardlift-data");
        Path elsewhere = dir.resolve("elsewhere").resolve("shardlift-data");
        try (SensorsMigration a = SensorsMigration.start("idelse", 20_000, 2)) {
            Path log = dir.resolve("a.log");
            Path spec = a.spec(dir.resolve("a"), "embedded");
            ShardliftProcess run = ShardliftProcess.start(log, runArgs(spec, data));
            streamWhileRunning(a, log, run);
            Migrations.awaitMarker(a.cluster, DB, "else-first", a.partitions(), 180);
            run.kill();

            Path refusedLog = dir.resolve("elsewhere.log");
            ShardliftProcess refused = ShardliftProcess.start(refusedLog, runArgs(spec, elsewhere));
            assertThat(refused.waitFor(120)).as(Files.readString(refusedLog)).isEqualTo(ExitCodes.BROKER);
            assertThat(Files.readString(refusedLog))
                    .contains("already streams through an embedded broker", "holds no broker data", "--data-dir")
                    .doesNotContain("Exception").doesNotContain("\tat ");
            assertThat(elsewhere.resolve("kafka")).doesNotExist();
            assertThat(elsewhere.resolve("identity")).doesNotExist();

            // another process holds the broker's old port now: the same command must come back on other ports
            String[] ports = Files.readString(data.resolve("kafka").resolve("ports")).trim().split(",");
            try (ServerSocket taken = new ServerSocket(Integer.parseInt(ports[0]), 50, InetAddress.getByName("127.0.0.1"))) {
                ShardliftProcess again = ShardliftProcess.start(log, runArgs(spec, data));
                try (LiveWriter writer = new LiveWriter(a.cluster.source(), DB)) {
                    Thread.sleep(3_000);
                }
                Migrations.awaitMarker(a.cluster, DB, "else-again", a.partitions(), 180);
                assertThat(again.isAlive()).as(again.describe()).isTrue();
                Migrations.assertEqual(a.cluster, DB);
                assertThat(Files.readString(log)).contains("port(s) [" + ports[0] + "] of its last run are taken now");
                again.kill();
            }
        }
    }

    @Test
    void topicsHoldingAnEarlierAttemptAreNotAppliedIntoANewCluster() throws Exception {
        try (SensorsMigration earlier = SensorsMigration.start("exta", 20_000, 2);
             SensorsMigration now = SensorsMigration.start("extb", 10_000, 2)) {
            String broker = earlier.kafka.bootstrapServers();
            // an earlier attempt, from another source with the same slot name and topic prefix, fills the topics
            Path logA = dir.resolve("earlier.log");
            ShardliftProcess first = ShardliftProcess.start(logA, runArgs(earlier.spec(dir.resolve("a"), broker), dir.resolve("da")));
            streamWhileRunning(earlier, logA, first);
            Migrations.awaitMarker(earlier.cluster, DB, "earlier", earlier.partitions(), 180);
            first.kill();

            // the new migration, fresh nodes, the same broker: the earlier records and Debezium offsets are not its own
            Path log = dir.resolve("now.log");
            int controlPort = now.controlPort;
            Path spec = now.spec(dir.resolve("b"), broker);
            ShardliftProcess run = ShardliftProcess.start(log, runArgs(spec, dir.resolve("db")));
            streamWhileRunning(now, log, run);
            Migrations.awaitMarker(now.cluster, DB, "now", now.partitions(), 180);
            assertThat(run.isAlive()).as(run.describe()).isTrue();
            Migrations.assertEqual(now.cluster, DB);
            assertThat(Files.readString(log)).contains("records already in the topics belong to an earlier attempt and will not be applied");
            assertThat(status(controlPort).get("lastError").isNull()).as("lastError while all is well").isTrue();

            // a node down: the status says which node, what fails and since when; the log quotes no row. The first
            // error may be the server ending the session (57P01, fast shutdown) before reconnects are refused (08xxx)
            PgNode down = now.cluster.nodes().get(1);
            down.stop();
            try (LiveWriter writer = new LiveWriter(now.cluster.source(), DB)) {
                String error = awaitStatus(controlPort, s -> !s.get("lastError").isNull()).get("lastError").asText();
                System.out.println("lastError while node 1 is down: " + error);
                assertThat(error).startsWith("node 1 (").contains(":" + down.port() + "/" + DB + "): applying changes fails since ")
                        .containsPattern("\\(SQLState (08|57P0)").contains("s retry budget left)");
                assertThat(run.isAlive()).as(run.describe()).isTrue();
            } finally {
                down.startAgain();
            }
            awaitStatus(controlPort, s -> s.get("lastError").isNull());
            Migrations.awaitMarker(now.cluster, DB, "now-node-back", now.partitions(), 180);
            Migrations.assertEqual(now.cluster, DB);
            assertThat(Files.readString(log)).contains("node 1 (").contains("reachable again").doesNotContain("Batch entry")
                    .doesNotContain("INSERT INTO").doesNotContain("Detail:");
            run.kill();
        }
    }

    private static com.fasterxml.jackson.databind.JsonNode status(int port) throws Exception {
        java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + port + "/status")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body());
    }

    private static com.fasterxml.jackson.databind.JsonNode awaitStatus(int port,
            java.util.function.Predicate<com.fasterxml.jackson.databind.JsonNode> until) throws Exception {
        long deadline = System.nanoTime() + 120_000_000_000L;
        com.fasterxml.jackson.databind.JsonNode s = status(port);
        while (!until.test(s)) {
            assertThat(System.nanoTime()).as("status never became as expected; last: " + s).isLessThan(deadline);
            Thread.sleep(500);
            s = status(port);
        }
        return s;
    }

    private static String[] runArgs(Path spec, Path data) {
        return new String[] {"run", "--config", spec.toString(), "--data-dir", data.toString(), "--chunk-rows", "5000",
            "--status-interval", "1"};
    }

    /** A writer on the source through the copy and a few seconds of the stream. */
    private static void streamWhileRunning(SensorsMigration env, Path log, ShardliftProcess run) throws Exception {
        try (LiveWriter writer = new LiveWriter(env.cluster.source(), DB)) {
            long deadline = System.nanoTime() + 180_000_000_000L;
            while (!Files.readString(log).contains("copy done") && System.nanoTime() < deadline) {
                assertThat(run.isAlive()).as(run.describe()).isTrue();
                Thread.sleep(500);
            }
            Thread.sleep(3_000);
        }
    }

    private static long count(PgNode node, String sql) throws SQLException {
        try (Connection c = node.connect(DB); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
