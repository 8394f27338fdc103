package io.shardlift.ops;

import io.shardlift.testkit.EmbeddedKafkaBroker;
import io.shardlift.testkit.PgCluster;
import io.shardlift.testkit.PgNode;
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

    /** A spec from the source to every node with two jobs, through the test's broker with {@code topicPartitions}. */
    SpecWriter spec(int topicPartitions) {
        return SpecWriter.from(cluster, db).jobs(2).kafka(kafka.bootstrapServers(), topicPartitions);
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
