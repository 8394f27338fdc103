package io.shardlift.ops;

import io.shardlift.testkit.Datasets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A source with seed 000's sensor data plus the live writer's tables, four nodes, and a broker in the test's
 * JVM (external to the shardlift processes under test, as in production): what the end-to-end tests share.
 */
final class SensorsMigration extends MigrationServers {

    static final int TOPIC_PARTITIONS = 3;
    static final int TABLES = 5;
    static final String DB = "demo";

    private SensorsMigration(String name, long events, int nodes) throws SQLException {
        super(name, nodes, DB, source -> {
            try (Connection c = source.connect(DB); Statement st = c.createStatement()) {
                Datasets.createSensors(c);
                Datasets.loadSensors(c, 10, 1000, events);
                st.execute(LiveWriter.SCHEMA);
            }
        });
    }

    static SensorsMigration start(String name, long events) throws Exception {
        return start(name, events, 4);
    }

    static SensorsMigration start(String name, long events, int nodes) throws Exception {
        return new SensorsMigration(name, events, nodes);
    }

    /** The spec file: the writer's tables, the four nodes, the external broker. */
    Path spec(Path dir) throws Exception {
        return spec(dir, kafka.bootstrapServers());
    }

    /** The spec file with {@code bootstrap} as kafka.bootstrap ({@code embedded}: shardlift's own broker). */
    Path spec(Path dir, String bootstrap) throws Exception {
        return spec(TOPIC_PARTITIONS).tables(LiveWriter.TABLES).kafka(bootstrap, TOPIC_PARTITIONS).write(dir.resolve("migrate.yml"));
    }

    /** The spec with a control plane on {@code port} whose token is in the variable {@code tokenEnv}. */
    Path spec(Path dir, int controlPort, String tokenEnv) throws Exception {
        return spec(TOPIC_PARTITIONS).tables(LiveWriter.TABLES).control("127.0.0.1:" + controlPort, tokenEnv)
                .write(dir.resolve("migrate.yml"));
    }

    /** Every partition of every table topic. */
    int partitions() {
        return TOPIC_PARTITIONS * TABLES;
    }
}
