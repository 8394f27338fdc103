package io.shardlift.core.spec;

import static io.shardlift.core.spec.SpecFixtures.loader;
import static io.shardlift.core.spec.SpecFixtures.valid;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The {@code pooler:} section: keys as the issue fixes them, one rule per row, every problem at once. */
class PoolerSpecTest {

    static final String POOLER = """
            pooler:
              pgbouncer:
                - admin: "host=127.0.0.1 port=6432 dbname=pgbouncer user=pgbouncer password=s3cretpw"
                  include_file: /etc/pgbouncer/shardlift-databases.ini
                  databases: [app, reports]
                - admin: "host=10.0.0.9 port=6432 dbname=pgbouncer user=pgbouncer"
                  include_file: /etc/pgbouncer/../pgbouncer/other.ini
                  databases: [app]
              pause_timeout: 500ms
              target_node: 1
            """;

    @Test
    void readsTheSection() {
        MigrationSpec spec = loader().parse(valid() + POOLER, "t.yml");
        PoolerSpec p = spec.pooler().orElseThrow();
        assertThat(p.pauseTimeout()).isEqualTo(Duration.ofMillis(500));
        assertThat(p.targetNode()).isEqualTo(1);
        assertThat(p.pgbouncers()).hasSize(2);
        assertThat(p.pgbouncers().get(0).databases()).containsExactly("app", "reports");
        assertThat(p.pgbouncers().get(0).label()).isEqualTo("127.0.0.1:6432");
        assertThat(p.pgbouncers().get(1).includeFile()).isEqualTo(Path.of("/etc/pgbouncer/other.ini"));
        String described = spec.describe();
        assertThat(described).contains("pooler:", "pause_timeout: 500ms", "target_node: 1", "include_file: /etc/pgbouncer/shardlift-databases.ini")
                .doesNotContain("s3cretpw");
    }

    @Test
    void absentSectionIsNoPoolerAndDefaultsApply() {
        assertThat(loader().parse(valid(), "t.yml").pooler()).isEmpty();
        PoolerSpec p = loader().parse(valid() + """
                pooler:
                  pgbouncer:
                    - {admin: "host=b1 dbname=pgbouncer user=pgbouncer", include_file: /x.ini, databases: [app]}
                """, "t.yml").pooler().orElseThrow();
        assertThat(p.pauseTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(p.targetNode()).isZero();
    }

    static Arguments row(String rule, String from, String to, String key, String value, String fragment) {
        return Arguments.of(rule, from, to, key, value, fragment);
    }

    static Stream<Arguments> rules() {
        return Stream.of(
                row("admin not the console", "port=6432 dbname=pgbouncer user=pgbouncer password", "port=6432 dbname=app user=pgbouncer password",
                        "pooler.pgbouncer[0].admin", "\"host=127.0.0.1 port=6432 dbname=app user=pgbouncer password=******\"",
                        "must connect to the admin console: dbname=pgbouncer, not app"),
                row("databases empty", "databases: [app, reports]", "databases: []", "pooler.pgbouncer[0].databases",
                        "(an empty list)", "list the aliases to switch"),
                row("databases duplicate", "databases: [app, reports]", "databases: [app, app]", "pooler.pgbouncer[0].databases[1]",
                        "\"app\"", "listed twice in this instance's databases"),
                row("include file relative", "include_file: /etc/pgbouncer/shardlift-databases.ini", "include_file: shardlift.ini",
                        "pooler.pgbouncer[0].include_file", "\"shardlift.ini\"", "must be an absolute path"),
                row("target node outside", "target_node: 1", "target_node: 2", "pooler.target_node", "2",
                        "the cluster has 2 nodes (cluster.nodes[0] to cluster.nodes[1]); target_node must be one of 0 to 1"),
                row("pause timeout zero", "pause_timeout: 500ms", "pause_timeout: 0s", "pooler.pause_timeout", "\"0s\"",
                        "must be a positive duration"),
                row("pause timeout without unit", "pause_timeout: 500ms", "pause_timeout: 2", "pooler.pause_timeout", "2",
                        "with a unit (ms, s or m)"),
                row("unknown key", "target_node: 1", "target_nodes: 1", "pooler.target_nodes", "1", "did you mean target_node?"),
                row("admin missing", "  - admin: \"host=10.0.0.9 port=6432 dbname=pgbouncer user=pgbouncer\"\n      include_file",
                        "  - include_file", "pooler.pgbouncer[1].admin", "(missing)", "admin console"),
                row("instance twice", "host=10.0.0.9 port=6432", "host=127.0.0.1 port=6432", "pooler.pgbouncer[1].admin",
                        "\"host=127.0.0.1 port=6432 dbname=pgbouncer user=pgbouncer\"", "is listed twice"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rules")
    void reportsTheRule(String rule, String from, String to, String key, String value, String fragment) {
        String yaml = valid() + POOLER;
        assertThat(yaml).contains(from);
        List<Problem> problems = SpecValidationTest.problems(yaml.replace(from, to));
        assertThat(problems).as("problems for %s", rule).filteredOn(p -> p.key().equals(key)).hasSize(1)
                .first().satisfies(p -> {
                    assertThat(p.value()).isEqualTo(value);
                    assertThat(p.rule()).contains(fragment);
                });
    }

    @Test
    void reportsEveryProblemAtOnce() {
        String yaml = (valid() + POOLER).replace("databases: [app]", "databases: []").replace("target_node: 1", "target_node: 7")
                .replace("pause_timeout: 500ms", "pause_timeout: soon");
        assertThat(SpecValidationTest.problems(yaml)).extracting(Problem::key)
                .contains("pooler.pgbouncer[1].databases", "pooler.target_node", "pooler.pause_timeout");
    }
}
