package io.shardlift.ops.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class CutoverRequestTest {

    static Map<String, List<String>> q(String... nameValue) {
        Map<String, List<String>> m = new LinkedHashMap<>();
        for (int i = 0; i < nameValue.length; i += 2) {
            m.computeIfAbsent(nameValue[i], k -> new java.util.ArrayList<>()).add(nameValue[i + 1]);
        }
        return m;
    }

    static Stream<Arguments> accepted() {
        return Stream.of(
                Arguments.of(q(), false),
                Arguments.of(q("dryRun", "true"), true),
                Arguments.of(q("dryRun", "TRUE"), true),
                Arguments.of(q("dryRun", " true "), true),
                // a bare ?dryRun asks for a dry run
                Arguments.of(q("dryRun", ""), true),
                Arguments.of(q("dryRun", "false"), false),
                Arguments.of(q("dryRun", "False"), false));
    }

    @ParameterizedTest(name = "[{index}] {0} -> dryRun {1}")
    @MethodSource("accepted")
    void parses(Map<String, List<String>> query, boolean dryRun) {
        assertThat(CutoverRequest.parse(query).dryRun()).isEqualTo(dryRun);
    }

    static Stream<Arguments> refused() {
        return Stream.of(
                Arguments.of(q("dryRun", "yes-please"), "dryRun must be true or false"),
                Arguments.of(q("dryRun", "1"), "dryRun must be true or false"),
                Arguments.of(q("dryRun", "true", "dryRun", "false"), "dryRun is given 2 times"),
                Arguments.of(q("dry_run", "true"), "unknown query parameter dry_run; did you mean dryRun?"),
                Arguments.of(q("dryrun", "true"), "unknown query parameter dryrun; did you mean dryRun?"),
                Arguments.of(q("dry-run", "true"), "did you mean dryRun?"),
                Arguments.of(q("force", "true"), "unknown query parameter force (POST /cutover takes only dryRun=true or dryRun=false)"),
                Arguments.of(q("b", "1", "a", "2"), "unknown query parameters a, b"));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("refused")
    void refusesWithoutEchoingValues(Map<String, List<String>> query, String message) {
        assertThatThrownBy(() -> CutoverRequest.parse(query)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message)
                .satisfies(e -> query.values().stream().flatMap(List::stream).filter(v -> v.length() > 1 && !v.equals("true") && !v.equals("false"))
                        .forEach(v -> assertThat(e.getMessage()).doesNotContain(v)));
    }
}
