package io.shardlift.ops;

import io.shardlift.testkit.Datasets;
import io.shardlift.embedded.EmbeddedKafkaBroker;
import io.shardlift.embedded.PgCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.stream.Collectors;

/**
 * A source with seed 000's sensor data plus the live writer's tables, four nodes, and a broker in the test's
 * JVM (external to the shardlift processes under test, as in production): what the end-to-end tests share.
 */
final class SensorsMigration implements AutoCloseable {

    static final int TOPIC_PARTITIONS = 3;
    static final int TABLES = 5;
    static final String DB = "demo";

    final PgCluster cluster;
    final EmbeddedKafkaBroker kafka;

    private SensorsMigration(PgCluster cluster, EmbeddedKafkaBroker kafka) {
        this.cluster = cluster;
        this.kafka = kafka;
    }

    static SensorsMigration start(String name, long events) throws Exception {
        return start(name, events, 4);
    }

    static SensorsMigration start(String name, long events, int nodes) throws Exception {
        PgCluster cluster = PgCluster.start(name, nodes, DB);
        EmbeddedKafkaBroker kafka = null;
        try {
            kafka = EmbeddedKafkaBroker.start();
            try (Connection c = cluster.source().connect(DB); Statement st = c.createStatement()) {
                Datasets.createSensors(c);
                Datasets.loadSensors(c, 10, 1000, events);
                st.execute(LiveWriter.SCHEMA);
            }
            return new SensorsMigration(cluster, kafka);
        } catch (Exception | Error e) {
            if (kafka != null) {
                kafka.close();
            }
            cluster.close();
            throw e;
        }
    }

    /** The spec file: the writer's tables, the four nodes, the external broker. */
    Path spec(Path dir) throws Exception {
        return spec(dir, kafka.bootstrapServers());
    }

    /** The spec file with {@code bootstrap} as kafka.bootstrap ({@code embedded}: shardlift's own broker). */
    Path spec(Path dir, String bootstrap) throws Exception {
        Files.createDirectories(dir);
        Path f = dir.resolve("migrate.yml");
        Files.writeString(f, "version: \"1.0\"\nmigrate:\n  connstr: \"" + cluster.source().connstr(DB) + "\"\n  jobs: 2\n"
                + "  schemas:\n    - name: public\n      tables:\n" + LiveWriter.TABLES
                + "cluster:\n  nodes:\n" + cluster.nodes().stream().map(n -> "    - \"" + n.connstr(DB) + "\"").collect(Collectors.joining("\n"))
                + "\nkafka:\n  bootstrap: \"" + bootstrap + "\"\n  topic_partitions: " + TOPIC_PARTITIONS + "\n");
        return f;
    }

    /** The spec with a control plane on {@code port} whose token is in the variable {@code tokenEnv}. */
    Path spec(Path dir, int controlPort, String tokenEnv) throws Exception {
        Path f = spec(dir);
        Files.writeString(f, Files.readString(f) + "control:\n  listen: 127.0.0.1:" + controlPort + "\n  token_env: " + tokenEnv + "\n");
        return f;
    }

    /** Every partition of every table topic. */
    int partitions() {
        return TOPIC_PARTITIONS * TABLES;
    }

    @Override
    public void close() {
        try {
            kafka.close();
        } finally {
            cluster.close();
        }
    }
}
