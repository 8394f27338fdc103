package io.shardlift.core.spec;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class PgpassTest {

    @TempDir
    Path dir;

    Path pgpass(String... lines) throws IOException {
        Path f = dir.resolve(".pgpass-" + System.nanoTime());
        Files.writeString(f, String.join("\n", lines) + "\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        return f;
    }

    /** line, host, port, db, user, expected password or null. */
    static Stream<Arguments> lines() {
        return Stream.of(
                Arguments.of("db1:5432:demo:app:pw", "db1", "5432", "demo", "app", "pw"),
                Arguments.of("db1:5432:demo:app:pw", "db2", "5432", "demo", "app", null),
                Arguments.of("db1:5432:demo:app:pw", "db1", "6432", "demo", "app", null),
                Arguments.of("*:*:*:*:pw", "any", "1", "x", "y", "pw"),
                Arguments.of("db1:*:*:app:pw", "db1", "7000", "x", "app", "pw"),
                Arguments.of("db1:*:*:app:pw", "db1", "7000", "x", "bob", null),
                Arguments.of("\\*:*:*:*:pw", "any", "1", "x", "y", null),
                Arguments.of("\\*:*:*:*:pw", "*", "1", "x", "y", "pw"),
                Arguments.of("fe80\\:\\:1:5432:demo:app:pw", "fe80::1", "5432", "demo", "app", "pw"),
                Arguments.of("db1:5432:demo:app:p\\:w\\\\x", "db1", "5432", "demo", "app", "p:w\\x"),
                Arguments.of("db1:5432:demo:app:pw:trailing", "db1", "5432", "demo", "app", "pw"),
                Arguments.of("db1:5432:demo:app", "db1", "5432", "demo", "app", null),
                Arguments.of("#db1:5432:demo:app:pw", "#db1", "5432", "demo", "app", null),
                Arguments.of("db1:5432:demo:app:", "db1", "5432", "demo", "app", ""));
    }

    @ParameterizedTest(name = "{0} for {1}:{2}:{3}:{4}")
    @MethodSource("lines")
    void matchesLikeLibpq(String line, String host, String port, String db, String user, String expected) {
        assertThat(Pgpass.match(line, host, port, db, user)).isEqualTo(Optional.ofNullable(expected));
    }

    @Test
    void firstMatchingLineWins() throws IOException {
        Path f = pgpass("# comment", "", "db1:5432:other:app:nope", "db1:5432:demo:*:first", "*:*:*:*:second");
        assertThat(Pgpass.lookup(f, "db1", 5432, "demo", "app")).contains("first");
        assertThat(Pgpass.lookup(f, "db2", 5432, "demo", "app")).contains("second");
    }

    @Test
    void fileReadableByOthersIsIgnored() throws IOException {
        Path f = pgpass("*:*:*:*:pw");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
        assertThat(Pgpass.lookup(f, "db1", 5432, "demo", "app")).isEmpty();
    }

    @Test
    void missingFileIsNoPassword() {
        assertThat(Pgpass.lookup(dir.resolve("absent"), "db1", 5432, "demo", "app")).isEmpty();
    }

    @Test
    void precedenceIsWrittenThenPgpasswordThenFile() throws IOException {
        Path f = pgpass("*:*:*:*:from-file");
        Map<String, String> env = Map.of("PGPASSWORD", "from-env");
        assertThat(ConnInfo.parse("host=db1 password=written", env::get, f).password()).contains("written");
        assertThat(ConnInfo.parse("host=db1", env::get, f).password()).contains("from-env");
        assertThat(ConnInfo.parse("host=db1", k -> null, f).password()).contains("from-file");
        assertThat(ConnInfo.parse("host=db1 password=''", k -> null, f).password()).contains("from-file");
    }

    @Test
    void fileIsMatchedOnResolvedDefaults() throws IOException {
        Path f = pgpass("localhost:5432:carol:carol:pw");
        assertThat(ConnInfo.parse("host=db1", k -> k.equals("PGUSER") ? "carol" : null, f).password()).isEmpty();
        assertThat(ConnInfo.parse("port=5432", k -> k.equals("PGUSER") ? "carol" : null, f).password()).contains("pw");
    }

    @Test
    void passfileKeywordThenPgpassfileThenHome() throws IOException {
        Path viaKeyword = pgpass("*:*:*:*:keyword");
        Path viaEnv = pgpass("*:*:*:*:env");
        Files.writeString(dir.resolve(".pgpass"), "*:*:*:*:home\n");
        Files.setPosixFilePermissions(dir.resolve(".pgpass"), PosixFilePermissions.fromString("rw-------"));
        Map<String, String> env = Map.of("PGPASSFILE", viaEnv.toString(), "HOME", dir.toString());
        assertThat(ConnInfo.parse("host=db1 passfile=" + viaKeyword, env::get, null).password()).contains("keyword");
        assertThat(ConnInfo.parse("host=db1", env::get, null).password()).contains("env");
        assertThat(ConnInfo.parse("host=db1", Map.of("HOME", dir.toString())::get, null).password()).contains("home");
        // the loader's explicit file stands in for PGPASSFILE
        assertThat(new SpecLoader(env::get, viaKeyword).parse(SpecFixtures.valid(), "t").source().password())
                .contains("keyword");
    }
}
