package io.shardlift.testkit;

import java.util.Map;
import java.util.function.Function;

/**
 * Chooses the Kafka broker for tests and for the embedded demo.
 *
 * <ul>
 *   <li>If the environment variable {@value #BOOTSTRAP_ENV} is set to a non-blank bootstrap list (for example
 *       {@code SHARDLIFT_KAFKA_BOOTSTRAP=localhost:9092} for a broker in a container), that cluster is used
 *       through an {@link ExternalKafkaBroker}: it must answer within 30 s, topics are created with its
 *       default replication factor, and {@code close()} leaves it running.</li>
 *   <li>Otherwise an {@link EmbeddedKafkaBroker} is started in this JVM (KRaft, single node, data under
 *       {@link TestKit#baseDir()}, about 2 s), and {@code close()} stops it and deletes its data.</li>
 * </ul>
 *
 * <p>Code that needs to stop or restart the broker (fault tests) must use {@link EmbeddedKafkaBroker}
 * directly: an external broker cannot be controlled from here.
 */
public final class KafkaBrokers {

    /** Names the bootstrap list of an existing Kafka cluster to use instead of an in-process broker. */
    public static final String BOOTSTRAP_ENV = "SHARDLIFT_KAFKA_BOOTSTRAP";

    private KafkaBrokers() {
    }

    /** External broker when {@value #BOOTSTRAP_ENV} is set, in-process broker otherwise. */
    public static KafkaBroker start() {
        return start(System::getenv);
    }

    /** As {@link #start()}, reading environment variables through {@code env} (tests point it at a map). */
    public static KafkaBroker start(Function<String, String> env) {
        String bootstrap = env.apply(BOOTSTRAP_ENV);
        if (bootstrap != null && !bootstrap.isBlank()) {
            return ExternalKafkaBroker.connect(bootstrap);
        }
        return EmbeddedKafkaBroker.start(Map.of());
    }
}
