package io.shardlift.testkit;

import io.shardlift.embedded.KafkaAdmin;
import io.shardlift.embedded.KafkaBroker;
import java.time.Duration;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.kafka.KafkaContainer;

/**
 * A single-node Apache Kafka broker in a Docker container (Testcontainers' Kafka module), for machines with a
 * Docker engine whose tests should not share their JVM with the broker. {@link #close()} stops and removes the
 * container. Chosen through {@link KafkaBrokers} ({@code SHARDLIFT_KAFKA=testcontainers} or {@code auto}).
 */
public final class TestcontainersKafkaBroker implements KafkaBroker {

    private static final Logger LOG = LoggerFactory.getLogger(TestcontainersKafkaBroker.class);

    /** Names another image of {@code apache/kafka} or {@code apache/kafka-native} to run. */
    public static final String IMAGE_ENV = "SHARDLIFT_KAFKA_IMAGE";

    /** The Kafka version of the clients and of the in-process broker (STACK.md's Kafka rule). */
    static final String DEFAULT_IMAGE = "apache/kafka:4.3.0";

    private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(60);

    private final KafkaContainer container;

    private TestcontainersKafkaBroker(KafkaContainer container) {
        this.container = container;
    }

    /** Whether a Docker engine answers; Testcontainers looks for one once per JVM and remembers the answer. */
    public static boolean dockerAvailable() {
        return DockerClientFactory.instance().isDockerAvailable();
    }

    /**
     * Starts the container (pulling the image the first time) and returns once the broker answers; {@code image}
     * null or blank means {@value #DEFAULT_IMAGE}.
     */
    public static TestcontainersKafkaBroker start(String image) {
        String name = image == null || image.isBlank() ? DEFAULT_IMAGE : image.strip();
        // as the in-process broker: topics are created on purpose, and the first consumer group does not wait
        KafkaContainer container = new KafkaContainer(name)
                .withEnv("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false")
                .withEnv("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0");
        long t0 = System.nanoTime();
        try {
            container.start();
            KafkaAdmin.awaitCluster(container.getBootstrapServers(), ADMIN_TIMEOUT);
        } catch (RuntimeException e) {
            container.close();
            throw new IllegalStateException("Kafka container " + name + " did not start: " + e.getMessage(), e);
        }
        LOG.info("Kafka container {} at {} up in {} ms", name, container.getBootstrapServers(), (System.nanoTime() - t0) / 1_000_000);
        return new TestcontainersKafkaBroker(container);
    }

    @Override
    public String bootstrapServers() {
        return container.getBootstrapServers();
    }

    @Override
    public void createTopics(Map<String, Integer> partitionsByTopic) {
        KafkaAdmin.createTopics(bootstrapServers(), partitionsByTopic, ADMIN_TIMEOUT);
    }

    /** False: the broker runs in a container, not in this JVM, though {@link #close()} stops it. */
    @Override
    public boolean isEmbedded() {
        return false;
    }

    @Override
    public void close() {
        container.stop();
    }

    @Override
    public String toString() {
        return "TestcontainersKafkaBroker[" + container.getDockerImageName() + "]";
    }
}
