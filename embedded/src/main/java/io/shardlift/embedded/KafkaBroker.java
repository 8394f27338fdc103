package io.shardlift.embedded;

import java.util.Map;

/**
 * A Kafka broker that shardlift, the demo and the tests talk to: one running in this JVM
 * ({@link EmbeddedKafkaBroker}), or in the test kit an existing one reached over the network or one in a
 * container (the test kit's {@code KafkaBrokers} chooses).
 */
public interface KafkaBroker extends AutoCloseable {

    /** The {@code bootstrap.servers} value clients use, e.g. {@code 127.0.0.1:40123}. */
    String bootstrapServers();

    /**
     * Creates the topics that do not exist yet, with the broker's default replication factor, and returns
     * once every partition has a leader. Idempotent: a topic that already exists with the requested
     * partition count is left alone; one that exists with a different count is reported, not altered.
     */
    void createTopics(Map<String, Integer> partitionsByTopic);

    /** True when the broker runs inside this JVM and {@link #close()} stops it. */
    boolean isEmbedded();

    /** Stops an embedded broker and deletes its data; releases the client side of an external one. */
    @Override
    void close();
}
