package io.shardlift.ops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlift.ops.ExitCodes;
import io.shardlift.ops.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** A numeric option out of its range is a usage error: exit 2, a message naming the option, no stack trace. */
class UsageErrorTest {

    static List<List<String>> refused() {
        return List.of(
                List.of("snapshot", "--config", "x.yml", "--jobs", "0"),
                List.of("snapshot", "--config", "x.yml", "--jobs", "257"),
                List.of("snapshot", "--config", "x.yml", "--chunk-rows", "0"),
                List.of("snapshot", "--config", "x.yml", "--chunk-rows", "-5"),
                List.of("snapshot", "--config", "x.yml", "--progress-interval", "-1"),
                List.of("run", "--config", "x.yml", "--jobs", "0"),
                List.of("run", "--config", "x.yml", "--chunk-rows", "0"),
                List.of("run", "--config", "x.yml", "--status-interval", "-1"),
                List.of("apply", "--config", "x.yml", "--instance-id", "a", "--status-interval", "-2"),
                List.of("verify", "--config", "x.yml", "--jobs", "0"),
                List.of("verify", "--config", "x.yml", "--chunk-rows", "0"),
                List.of("verify", "--config", "x.yml", "--max-keys", "-1"),
                List.of("verify", "--config", "x.yml", "--jobs", "many"),
                List.of("demo", "--nodes", "0"),
                List.of("demo", "--partitions", "0"),
                List.of("demo", "--events", "0"),
                List.of("demo", "--writers", "-1"));
    }

    @ParameterizedTest
    @MethodSource("refused")
    void outOfRangeIsAUsageErrorWithoutStackTrace(List<String> args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), args.toArray(String[]::new));
        String option = args.get(args.size() - 2);
        assertThat(code).as(err.toString()).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("Invalid value for option '" + option + "'")
                .containsAnyOf("out of range", "not a whole number")
                .doesNotContain("Exception").doesNotContain("\tat ");
    }
}
