package io.shardlift.testkit;

import io.shardlift.embedded.EmbeddedDir;
import io.shardlift.embedded.EmbeddedKafkaBroker;
import io.shardlift.embedded.KafkaBroker;
import java.util.Locale;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * Chooses the Kafka broker for tests. The in-process broker is the default; the others are used only when asked for.
 *
 * <ul>
 *   <li>In-process (default, or {@code SHARDLIFT_KAFKA=embedded}): an {@link EmbeddedKafkaBroker} in this JVM (KRaft,
 *       single node, data under {@link EmbeddedDir#baseDir()}, about 2 s); {@code close()} stops it and deletes its data.</li>
 *   <li>External: {@value #BOOTSTRAP_ENV} set to a non-blank bootstrap list (for example {@code localhost:9092}):
 *       that cluster is used through an {@link ExternalKafkaBroker}: it must answer within 30 s, topics are created
 *       with its default replication factor, and {@code close()} leaves it running.</li>
 *   <li>Testcontainers: {@code SHARDLIFT_KAFKA=testcontainers} starts a {@link TestcontainersKafkaBroker} in a Docker
 *       container (refused, saying so, where no Docker engine answers); {@code SHARDLIFT_KAFKA=auto} does so when a
 *       Docker engine answers and falls back to the in-process broker otherwise.</li>
 * </ul>
 *
 * <p>Code that needs to stop or restart the broker (fault tests) must use {@link EmbeddedKafkaBroker}
 * directly: an external or containerised broker cannot be controlled from here.
 */
public final class KafkaBrokers {

    /** Names the bootstrap list of an existing Kafka cluster to use instead of an in-process broker. */
    public static final String BOOTSTRAP_ENV = "SHARDLIFT_KAFKA_BOOTSTRAP";

    /** Names the kind of broker: {@code embedded} (default), {@code testcontainers} or {@code auto}. */
    public static final String KIND_ENV = "SHARDLIFT_KAFKA";

    /** The broker a test run gets. */
    public enum Choice { IN_PROCESS, EXTERNAL, TESTCONTAINERS }

    private KafkaBrokers() {
    }

    /** The broker the environment asks for (see the class comment); in-process when it asks for nothing. */
    public static KafkaBroker start() {
        return start(System::getenv);
    }

    /** As {@link #start()}, reading environment variables through {@code env} (tests point it at a map). */
    public static KafkaBroker start(Function<String, String> env) {
        return switch (choose(env, TestcontainersKafkaBroker::dockerAvailable)) {
            case EXTERNAL -> ExternalKafkaBroker.connect(env.apply(BOOTSTRAP_ENV));
            case TESTCONTAINERS -> TestcontainersKafkaBroker.start(env.apply(TestcontainersKafkaBroker.IMAGE_ENV));
            case IN_PROCESS -> EmbeddedKafkaBroker.start(Map.of());
        };
    }

    /**
     * Which broker {@code env} asks for. {@code docker} is asked only when the choice depends on it, as looking for a
     * Docker engine takes a moment. Contradictory or unknown settings are refused with the variable, its value and
     * what it accepts.
     */
    static Choice choose(Function<String, String> env, BooleanSupplier docker) {
        String bootstrap = env.apply(BOOTSTRAP_ENV);
        boolean external = bootstrap != null && !bootstrap.isBlank();
        String raw = env.apply(KIND_ENV);
        String kind = raw == null ? "" : raw.strip().toLowerCase(Locale.ROOT);
        switch (kind) {
            case "", "embedded" -> {
                return external ? Choice.EXTERNAL : Choice.IN_PROCESS;
            }
            case "testcontainers" -> {
                if (external) {
                    throw new IllegalArgumentException(KIND_ENV + "=testcontainers and " + BOOTSTRAP_ENV + "=" + bootstrap.strip()
                            + " ask for two different brokers: unset one of them");
                }
                if (!docker.getAsBoolean()) {
                    throw new IllegalStateException(KIND_ENV + "=testcontainers but no Docker engine answers on this machine"
                            + " (Testcontainers found none): start Docker, or unset " + KIND_ENV + " for the in-process broker");
                }
                return Choice.TESTCONTAINERS;
            }
            case "auto" -> {
                if (external) {
                    return Choice.EXTERNAL;
                }
                return docker.getAsBoolean() ? Choice.TESTCONTAINERS : Choice.IN_PROCESS;
            }
            default -> throw new IllegalArgumentException(KIND_ENV + " must be embedded, testcontainers or auto but is '"
                    + raw + "'");
        }
    }
}
