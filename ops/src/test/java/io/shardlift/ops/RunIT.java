package io.shardlift.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlift.testkit.Datasets;
import io.shardlift.testkit.EmbeddedKafkaBroker;
import io.shardlift.testkit.PgCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code shardlift run} end to end, as a real process, with real PostgreSQL nodes, a real broker and real
 * Debezium, while a writer runs through the copy and the catch-up: source and cluster end equal row by row.
 */
class RunIT {

    static final int TOPIC_PARTITIONS = 3;
    static final int TABLES = 5;
    static PgCluster cluster;
    static EmbeddedKafkaBroker kafka;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        cluster = PgCluster.start("run", 4, "demo");
        kafka = EmbeddedKafkaBroker.start();
        try (Connection c = cluster.source().connect("demo"); Statement st = c.createStatement()) {
            Datasets.createSensors(c);
            Datasets.loadSensors(c, 10, 1000, 200_000);
            st.execute(LiveWriter.SCHEMA);
        }
    }

    @AfterAll
    static void stop() {
        if (kafka != null) {
            kafka.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    static Path spec(Path dir, String db, String bootstrap) throws Exception {
        Path f = dir.resolve("migrate.yml");
        Files.writeString(f, "version: \"1.0\"\nmigrate:\n  connstr: \"" + cluster.source().connstr(db) + "\"\n  jobs: 2\n"
                + "  schemas:\n    - name: public\n      tables:\n" + LiveWriter.TABLES
                + "cluster:\n  nodes:\n" + cluster.nodes().stream().map(n -> "    - \"" + n.connstr(db) + "\"").collect(Collectors.joining("\n"))
                + "\nkafka:\n  bootstrap: \"" + bootstrap + "\"\n  topic_partitions: " + TOPIC_PARTITIONS + "\n");
        return f;
    }

    @Test
    void writerThroughCopyAndCatchUpEndsEqualRowByRow() throws Exception {
        Path spec = spec(dir, "demo", kafka.bootstrapServers());
        Path log = dir.resolve("run.log");
        ShardliftProcess run;
        try (LiveWriter writer = new LiveWriter(cluster.source(), "demo")) {
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
        Migrations.awaitMarker(cluster, "demo", "run-it", TOPIC_PARTITIONS * TABLES, 120);
        assertThat(run.isAlive()).as(run.describe()).isTrue();
        Migrations.assertEqual(cluster, "demo");
        run.kill();
        System.out.println(Files.readString(log).lines().filter(l -> l.contains("||")).reduce((a, b) -> b).orElse(""));
    }
}
