package io.shardlift.testkit;

import io.shardlift.embedded.KafkaAdmin;
import io.shardlift.embedded.KafkaBroker;
import java.time.Duration;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Kafka cluster that runs elsewhere (a container, a real cluster) and that this JVM only talks to.
 * {@link #close()} stops nothing; topics created through {@link #createTopics} stay.
 */
public final class ExternalKafkaBroker implements KafkaBroker {

    private static final Logger LOG = LoggerFactory.getLogger(ExternalKafkaBroker.class);
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(60);

    private final String bootstrapServers;

    private ExternalKafkaBroker(String bootstrapServers) {
        this.bootstrapServers = bootstrapServers;
    }

    /**
     * Wraps {@code bootstrapServers} after checking that it answers describeCluster within 30 s, so a wrong
     * address fails here with that address in the message rather than later inside a producer.
     */
    public static ExternalKafkaBroker connect(String bootstrapServers) {
        return connect(bootstrapServers, CONNECT_TIMEOUT);
    }

    static ExternalKafkaBroker connect(String bootstrapServers, Duration timeout) {
        if (bootstrapServers == null || bootstrapServers.isBlank()) {
            throw new IllegalArgumentException("bootstrap servers must be a list like host:9092 but is '"
                    + bootstrapServers + "'");
        }
        String bootstrap = bootstrapServers.trim();
        int brokers = KafkaAdmin.awaitCluster(bootstrap, timeout);
        LOG.info("using external Kafka at {} ({} broker(s))", bootstrap, brokers);
        return new ExternalKafkaBroker(bootstrap);
    }

    @Override
    public String bootstrapServers() {
        return bootstrapServers;
    }

    @Override
    public void createTopics(Map<String, Integer> partitionsByTopic) {
        KafkaAdmin.createTopics(bootstrapServers, partitionsByTopic, ADMIN_TIMEOUT);
    }

    @Override
    public boolean isEmbedded() {
        return false;
    }

    @Override
    public void close() {
        // nothing is held between calls: every admin operation opens and closes its own client
    }

    @Override
    public String toString() {
        return "ExternalKafkaBroker[" + bootstrapServers + "]";
    }
}
