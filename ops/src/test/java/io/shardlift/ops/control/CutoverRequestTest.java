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

    // ---- parameters in a body: honoured, or refused; never ignored

    static byte[] b(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    static Stream<Arguments> acceptedBodies() {
        return Stream.of(
                Arguments.of(q(), "application/x-www-form-urlencoded", "dryRun=true", true),
                Arguments.of(q(), "application/x-www-form-urlencoded; charset=UTF-8", "dryRun=false", false),
                Arguments.of(q(), "application/x-www-form-urlencoded", "dryRun", true),
                Arguments.of(q(), "application/json", "{\"dryRun\": true}", true),
                Arguments.of(q(), "application/json; charset=utf-8", "{\"dryRun\": false}", false),
                Arguments.of(q(), "Application/JSON", " {\"dryRun\": \"true\"} ", true),
                Arguments.of(q(), "application/json", "{}", false),
                // a body and a query that agree
                Arguments.of(q("dryRun", "true"), "application/json", "{\"dryRun\": true}", true),
                Arguments.of(q("dryRun", "true"), "application/x-www-form-urlencoded", "dryRun=TRUE", true),
                // the query alone decides when the body holds nothing
                Arguments.of(q("dryRun", "true"), "application/json", "{}", true),
                Arguments.of(q("dryRun", "true"), "text/plain", "", true),
                Arguments.of(q("dryRun", "true"), null, "  ", true));
    }

    @ParameterizedTest(name = "[{index}] {0} {1} {2} -> dryRun {3}")
    @MethodSource("acceptedBodies")
    void honoursTheBody(Map<String, List<String>> query, String contentType, String body, boolean dryRun) {
        assertThat(CutoverRequest.parse(query, contentType, b(body)).dryRun()).isEqualTo(dryRun);
    }

    static Stream<Arguments> refusedBodies() {
        return Stream.of(
                Arguments.of(q(), "text/plain", "dryRun=true", "the body's Content-Type is 'text/plain'"),
                Arguments.of(q(), null, "dryRun=true", "the body's Content-Type is missing"),
                Arguments.of(q(), "application/xml", "<dryRun>true</dryRun>", "of type application/x-www-form-urlencoded or application/json"),
                Arguments.of(q(), "application/x-www-form-urlencoded", "dryRun=maybe-secret", "dryRun must be true or false"),
                Arguments.of(q(), "application/x-www-form-urlencoded", "dryRun=true&dryRun=false", "dryRun is given 2 times"),
                Arguments.of(q(), "application/x-www-form-urlencoded", "dry_run=true", "unknown form field dry_run; did you mean dryRun?"),
                Arguments.of(q(), "application/x-www-form-urlencoded", "dryRun=%zz", "not valid application/x-www-form-urlencoded"),
                Arguments.of(q(), "application/json", "{\"dryRun\": 1}", "dryRun must be true or false"),
                Arguments.of(q(), "application/json", "{\"dryRun\": null}", "dryRun must be true or false"),
                Arguments.of(q(), "application/json", "{\"dryRun\": \"yes-secret\"}", "dryRun must be true or false"),
                Arguments.of(q(), "application/json", "{\"dryRun\": \"\"}", "dryRun must be true or false"),
                Arguments.of(q(), "application/json", "{\"dryRun\": true, \"dryRun\": false}", "a field is given twice"),
                Arguments.of(q(), "application/json", "{\"dry_run\": true}", "unknown JSON field dry_run; did you mean dryRun?"),
                Arguments.of(q(), "application/json", "{\"dryRun\": true, \"force\": 1}", "unknown JSON field force"),
                Arguments.of(q(), "application/json", "[true]", "must be an object"),
                Arguments.of(q(), "application/json", "dryRun=true", "not valid JSON"),
                Arguments.of(q(), "application/json", "{\"dryRun\": tru", "not valid JSON"),
                // a body and a query that disagree: neither wins
                Arguments.of(q("dryRun", "false"), "application/json", "{\"dryRun\": true}", "dryRun is false in the query but true in the body"),
                Arguments.of(q("dryRun", "true"), "application/x-www-form-urlencoded", "dryRun=false", "dryRun is true in the query but false"),
                // a bad query is refused even when the body is fine
                Arguments.of(q("dry_run", "1"), "application/json", "{\"dryRun\": true}", "unknown query parameter dry_run"));
    }

    @ParameterizedTest(name = "[{index}] {0} {1} {2}")
    @MethodSource("refusedBodies")
    void refusesABodyItCannotHonour(Map<String, List<String>> query, String contentType, String body, String message) {
        assertThatThrownBy(() -> CutoverRequest.parse(query, contentType, b(body))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("secret"));
    }
}
