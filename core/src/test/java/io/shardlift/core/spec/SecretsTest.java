package io.shardlift.core.spec;

import static io.shardlift.core.spec.SpecFixtures.loader;
import static io.shardlift.core.spec.SpecFixtures.valid;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The password never shows up in anything printable: toString, masked(), describe(), problems, messages. */
class SecretsTest {

    static final String PW = "Zq9-sekr1t-PW";

    static void assertNoSecret(String text) {
        assertThat(text).doesNotContain(PW).doesNotContain("sekr1t");
    }

    @Test
    void connInfoCarriesThePasswordOnlyWhereAConnectionNeedsIt() {
        for (String s : new String[] {"host=db1 dbname=demo password=" + PW, "host=db1 password='" + PW + "' sslpassword=" + PW,
                "postgres://app:" + PW.replace("-", "%2D") + "@db1/demo", "postgres://db1/demo?password=" + PW}) {
            ConnInfo c = ConnInfo.parse(s, k -> null, SpecFixtures.NO_PGPASS);
            assertThat(c.password()).contains(PW);
            assertNoSecret(c.toString());
            assertNoSecret(c.masked());
            assertNoSecret(c.label());
            assertNoSecret(c.jdbcUrl());
            assertThat(c.masked()).contains("password=******");
            assertThat(c.toLibpq()).contains(PW);
            assertThat(c.jdbcProperties().getProperty("password")).isEqualTo(PW);
        }
    }

    @Test
    void describeMasksEveryPasswordWhereverItCameFrom(@TempDir Path dir) throws IOException {
        Path pgpass = dir.resolve("pgpass");
        Files.writeString(pgpass, "n2:*:*:*:" + PW + "-file\n");
        Files.setPosixFilePermissions(pgpass, PosixFilePermissions.fromString("rw-------"));
        String yaml = valid()
                .replace("host=src", "host=src password=" + PW)
                .replace("\"host=n1 dbname=demo\"", "\"postgres://u:${NODE_PW}@n1/demo\"");
        MigrationSpec spec = new SpecLoader(Map.of("NODE_PW", PW + "-env")::get, pgpass).parse(yaml, "s.yml");
        assertThat(spec.source().password()).contains(PW);
        assertThat(spec.nodes().get(0).password()).contains(PW + "-env");
        assertThat(spec.nodes().get(1).password()).contains(PW + "-file");
        assertNoSecret(spec.describe());
        assertNoSecret(spec.toString());
        assertThat(spec.describe()).contains("password=******");

        MigrationSpec viaPgpassword = loader(Map.of("PGPASSWORD", PW)).parse(valid(), "s.yml");
        assertThat(viaPgpassword.source().password()).contains(PW);
        assertNoSecret(viaPgpassword.describe());
    }

    static Stream<Arguments> brokenSpecs() {
        String base = valid();
        return Stream.of(
                Arguments.of("another problem elsewhere", base.replace("host=src", "host=src password=" + PW)
                        .replace("migrate:\n", "migrate:\n  jobs: 0\n")),
                Arguments.of("unparseable kv connstr", base.replace("host=src", "host=src port=x password=" + PW)),
                Arguments.of("unterminated quote", base.replace("host=src", "host=src password='" + PW)),
                Arguments.of("quoted with spaces", base.replace("host=src", "host=src password='a " + PW + " b' port=y")),
                Arguments.of("misspelt keyword", base.replace("host=src", "host=src pasword=" + PW)),
                Arguments.of("unparseable URI", base.replace("\"host=src dbname=demo user=postgres\"",
                        "\"postgres://app:" + PW + "@src:port/demo\"")),
                Arguments.of("URI query password", base.replace("\"host=src dbname=demo user=postgres\"",
                        "\"postgres://src:port/demo?password=" + PW + "\"")),
                Arguments.of("node equals source", base.replace("\"host=n1 dbname=demo\"",
                        "\"host=src dbname=demo password=" + PW + "\"")),
                Arguments.of("two equal nodes", base.replace("\"host=n2 dbname=demo\"",
                        "\"postgres://x:" + PW + "@n1/demo\"")),
                Arguments.of("interpolated password, bad port", base.replace("host=src", "host=src port=x password=${PW}")),
                Arguments.of("interpolated password reused in a wrong place", base.replace("host=src", "host=src password=${PW}")
                        .replace("migrate:\n", "migrate:\n  jobs: ${PW}\n")),
                Arguments.of("yaml error on the password line", base.replace("host=src", "host=src password=" + PW + "\" x: \"")),
                Arguments.of("password as an unknown key", base + "password: " + PW + "\n"),
                Arguments.of("password under control", base + "control: {passwd: " + PW + "}\n"),
                Arguments.of("token instead of its variable name", base + "control: {token_env: " + PW + "}\n"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("brokenSpecs")
    void problemsAndMessagesNeverQuoteThePassword(String why, String yaml) {
        assertThatThrownBy(() -> loader(Map.of("PW", PW)).parse(yaml, "broken.yml"))
                .isInstanceOfSatisfying(SpecException.class, e -> {
                    assertNoSecret(e.getMessage());
                    assertNoSecret(e.toString());
                    StringWriter trace = new StringWriter();
                    e.printStackTrace(new PrintWriter(trace));
                    assertNoSecret(trace.toString());
                    e.problems().forEach(p -> {
                        assertNoSecret(p.key());
                        assertNoSecret(p.value());
                        assertNoSecret(p.rule());
                    });
                });
    }
}
