package io.shardlift.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlift.testkit.KafkaBrokers.Choice;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Which broker the environment asks for; nothing is started here. */
class KafkaBrokersTest {

    @ParameterizedTest(name = "SHARDLIFT_KAFKA={0} bootstrap={1} docker={2} -> {3}")
    @CsvSource(nullValues = "null", value = {
        "null,           null,           false, IN_PROCESS",
        "null,           null,           true,  IN_PROCESS",
        "'',             null,           true,  IN_PROCESS",
        "embedded,       null,           true,  IN_PROCESS",
        "' Embedded ',   null,           true,  IN_PROCESS",
        "null,           ' ',            true,  IN_PROCESS",
        "null,           localhost:9092, false, EXTERNAL",
        "embedded,       localhost:9092, true,  EXTERNAL",
        "testcontainers, null,           true,  TESTCONTAINERS",
        "TestContainers, ' ',            true,  TESTCONTAINERS",
        "auto,           null,           true,  TESTCONTAINERS",
        "auto,           null,           false, IN_PROCESS",
        "auto,           localhost:9092, true,  EXTERNAL",
    })
    void theDefaultIsInProcessAndTheOthersAreChosenOnlyWhenAskedFor(String kind, String bootstrap, boolean docker, Choice expected) {
        assertThat(KafkaBrokers.choose(env(kind, bootstrap), () -> docker)).isEqualTo(expected);
    }

    @Test
    void dockerIsLookedForOnlyWhenTheChoiceDependsOnIt() {
        AtomicInteger asked = new AtomicInteger();
        BooleanSupplier docker = () -> {
            asked.incrementAndGet();
            return true;
        };
        KafkaBrokers.choose(env(null, null), docker);
        KafkaBrokers.choose(env("embedded", "localhost:9092"), docker);
        assertThat(asked).hasValue(0);
        KafkaBrokers.choose(env("auto", null), docker);
        assertThat(asked).hasValue(1);
    }

    @Test
    void refusalsNameTheVariableTheValueAndWhatToDo() {
        assertThatThrownBy(() -> KafkaBrokers.choose(env("testcontainers", null), () -> false))
                .hasMessage("SHARDLIFT_KAFKA=testcontainers but no Docker engine answers on this machine (Testcontainers"
                        + " found none): start Docker, or unset SHARDLIFT_KAFKA for the in-process broker");
        assertThatThrownBy(() -> KafkaBrokers.choose(env("testcontainers", "localhost:9092"), () -> true))
                .hasMessage("SHARDLIFT_KAFKA=testcontainers and SHARDLIFT_KAFKA_BOOTSTRAP=localhost:9092 ask for two"
                        + " different brokers: unset one of them");
        assertThatThrownBy(() -> KafkaBrokers.choose(env("docker", null), () -> true))
                .hasMessage("SHARDLIFT_KAFKA must be embedded, testcontainers or auto but is 'docker'");
    }

    private static Function<String, String> env(String kind, String bootstrap) {
        Map<String, String> env = new HashMap<>();
        env.put(KafkaBrokers.KIND_ENV, kind);
        env.put(KafkaBrokers.BOOTSTRAP_ENV, bootstrap);
        return env::get;
    }
}
