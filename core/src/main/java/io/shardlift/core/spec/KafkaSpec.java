package io.shardlift.core.spec;

import java.util.Objects;

/**
 * The {@code kafka:} section.
 *
 * @param embedded          true: shardlift runs its own single in-process broker
 * @param bootstrap         {@code embedded}, or the {@code host:port,host:port} list as written
 * @param topicPartitions   partitions per change topic (default 8)
 * @param replicationFactor replication factor of the change topics (default 1)
 * @param topicPrefix       prefix of every topic shardlift creates (default {@code shardlift})
 */
public record KafkaSpec(boolean embedded, String bootstrap, int topicPartitions, short replicationFactor,
                        String topicPrefix) {

    public static final String EMBEDDED = "embedded";

    public KafkaSpec {
        Objects.requireNonNull(bootstrap, "bootstrap");
        Objects.requireNonNull(topicPrefix, "topicPrefix");
    }

    /** The default when the spec has no {@code kafka:} section: the embedded broker. */
    public static KafkaSpec defaults() {
        return new KafkaSpec(true, EMBEDDED, 8, (short) 1, "shardlift");
    }
}
