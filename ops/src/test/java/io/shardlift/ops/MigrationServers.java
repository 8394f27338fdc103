package io.shardlift.ops;

import io.shardlift.embedded.EmbeddedKafkaBroker;
import io.shardlift.embedded.PgCluster;
import io.shardlift.embedded.PgNode;
import io.shardlift.testkit.SpecWriter;

/**
 * A source, its nodes and a broker in the test's JVM (external to the shardlift under test, as in production),
 * started together and closed together: what the migrating tests' fixtures ({@link SensorsMigration},
 * {@link SchemaFixture}) hold, and where their specs start.
 */
abstract class MigrationServers implements AutoCloseable {

    /** What the source holds before the test migrates it. */
    interface SourceSetup<E extends Exception> {
        void run(PgNode source) throws E;
    }

    final PgCluster cluster;
    final EmbeddedKafkaBroker kafka;
    final String db;
    /**
     * A free port for the control plane of the shardlift under test: never the default 8080, which another test run
     * or process on the machine may hold (a preflight refusal then looked like a failure of the test).
     */
    final int controlPort = PreflightIT.freePort();

    <E extends Exception> MigrationServers(String name, int nodes, String db, SourceSetup<E> setup) throws E {
        PgCluster cluster = PgCluster.start(name, nodes, db);
        EmbeddedKafkaBroker kafka = null;
        boolean started = false;
        try {
            kafka = EmbeddedKafkaBroker.start();
            setup.run(cluster.source());
            started = true;
        } finally {
            if (!started) {
                try {
                    if (kafka != null) {
                        kafka.close();
                    }
                } finally {
                    cluster.close();
                }
            }
        }
        this.cluster = cluster;
        this.kafka = kafka;
        this.db = db;
    }

    /**
     * A spec from the source to every node with two jobs, through the test's broker with {@code topicPartitions}, the
     * control plane on {@link #controlPort}.
     */
    SpecWriter spec(int topicPartitions) {
        return SpecWriter.from(cluster, db).jobs(2).kafka(kafka.bootstrapServers(), topicPartitions)
                .control("127.0.0.1:" + controlPort);
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
