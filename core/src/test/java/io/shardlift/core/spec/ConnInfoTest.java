package io.shardlift.core.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ConnInfoTest {

    static final Function<String, String> NO_ENV = k -> null;
    static final Path NO_PGPASS = Path.of("/nonexistent/shardlift-test/.pgpass");

    static ConnInfo parse(String s) {
        return ConnInfo.parse(s, NO_ENV, NO_PGPASS);
    }

    /** connstr, host, port, dbname, user, password (null = none), params. */
    static Stream<Arguments> parsed() {
        return Stream.of(
                Arguments.of("host=db1 port=6432 dbname=demo user=app password=pw",
                        "db1", 6432, "demo", "app", "pw", Map.of()),
                Arguments.of("  host = db1   port= 6432 dbname =demo  ", "db1", 6432, "demo", "postgres", null, Map.of()),
                Arguments.of("host=db1 password='it\\'s a \\\\ secret' application_name='my app'",
                        "db1", 5432, "postgres", "postgres", "it's a \\ secret", Map.of("application_name", "my app")),
                Arguments.of("host=db1 password=a\\ b\\'c", "db1", 5432, "postgres", "postgres", "a b'c", Map.of()),
                Arguments.of("host=db1 password=''", "db1", 5432, "postgres", "postgres", null, Map.of()),
                Arguments.of("dbname=demo host=single-pg-instance port=5432 user=postgres password=******",
                        "single-pg-instance", 5432, "demo", "postgres", "******", Map.of()),
                Arguments.of("user=alice", "localhost", 5432, "alice", "alice", null, Map.of()),
                Arguments.of("host=a host=b", "b", 5432, "postgres", "postgres", null, Map.of()),
                Arguments.of("hostaddr=10.0.0.7 sslmode=verify-full connect_timeout=5 options='-c search_path=x'",
                        "10.0.0.7", 5432, "postgres", "postgres", null,
                        Map.of("sslmode", "verify-full", "connect_timeout", "5", "options", "-c search_path=x")),
                Arguments.of("postgres://postgres@127.0.0.1:6002/demo", "127.0.0.1", 6002, "demo", "postgres", null, Map.of()),
                Arguments.of("postgresql://us%40er:p%3As%2Fs%40@db.example.com:6000/my%20db?sslmode=require&application_name=a%26b",
                        "db.example.com", 6000, "my db", "us@er", "p:s/s@",
                        Map.of("sslmode", "require", "application_name", "a&b")),
                Arguments.of("postgres://app:pw@[::1]:6001/demo", "::1", 6001, "demo", "app", "pw", Map.of()),
                Arguments.of("postgres://[fe80::1%25eth0]/demo", "fe80::1%eth0", 5432, "demo", "postgres", null, Map.of()),
                Arguments.of("postgresql://", "localhost", 5432, "postgres", "postgres", null, Map.of()),
                Arguments.of("postgresql://db1/demo?user=bob&port=7000&ssl=true", "db1", 7000, "demo", "bob", null,
                        Map.of("sslmode", "require")),
                Arguments.of("postgresql://db1?dbname=x", "db1", 5432, "x", "postgres", null, Map.of()),
                Arguments.of("POSTGRES://db1/d+b", "db1", 5432, "d+b", "postgres", null, Map.of()),
                Arguments.of("postgres://:secret@db1/demo", "db1", 5432, "demo", "postgres", "secret", Map.of()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("parsed")
    void parsesKeywordValueAndUri(String connstr, String host, int port, String db, String user, String password,
                                  Map<String, String> params) {
        ConnInfo c = parse(connstr);
        assertThat(c.host()).isEqualTo(host);
        assertThat(c.port()).isEqualTo(port);
        assertThat(c.dbname()).isEqualTo(db);
        assertThat(c.user()).isEqualTo(user);
        assertThat(c.password().orElse(null)).isEqualTo(password);
        assertThat(c.params()).containsExactlyInAnyOrderEntriesOf(params);
    }

    @Test
    void userDefaultsToPguserThenPostgres() {
        ConnInfo c = ConnInfo.parse("host=db1", Map.of("PGUSER", "carol")::get, NO_PGPASS);
        assertThat(c.user()).isEqualTo("carol");
        assertThat(c.dbname()).isEqualTo("carol");
        assertThat(parse("host=db1").user()).isEqualTo("postgres");
    }

    static Stream<Arguments> rejected() {
        return Stream.of(
                Arguments.of("host=db1 port", "missing \"=\" after \"port\""),
                Arguments.of("demo", "expected keyword=value pairs"),
                Arguments.of("host=db1 password='open", "unterminated quoted value of \"password\""),
                Arguments.of("host=db1 port=abc", "port \"abc\" is not a number from 1 to 65535"),
                Arguments.of("host=db1 port=70000", "port 70000 is not a number from 1 to 65535"),
                Arguments.of("host=db1 pasword=x", "unknown connection option \"pasword\" (did you mean password?)"),
                Arguments.of("host=db1 sslmode=always", "sslmode \"always\" is not one of"),
                Arguments.of("host=a,b", "more than one host"),
                Arguments.of("postgres://a:1,b:2/db", "more than one host"),
                Arguments.of("host=/var/run/postgresql", "Unix-domain socket"),
                Arguments.of("service=prod", "service files"),
                Arguments.of("postgres://db1/demo?sslmode", "lacks \"=value\""),
                Arguments.of("postgres://db1/de%zzmo", "invalid percent-encoding in the database name"),
                Arguments.of("postgres://[::1/demo", "lacks its closing \"]\""),
                Arguments.of("", "empty"));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("rejected")
    void rejectsWithAReason(String connstr, String reason) {
        assertThatThrownBy(() -> parse(connstr)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(reason);
    }

    @Test
    void rendersLibpqJdbcAndLabel() {
        ConnInfo c = parse("host=db1 port=6432 dbname='my db' user=app password='p w\\'x' sslmode=require "
                + "application_name=shardlift connect_timeout=7 keepalives=0 target_session_attrs=read-write");
        assertThat(c.label()).isEqualTo("db1:6432/my db");
        assertThat(c.jdbcUrl()).isEqualTo("jdbc:postgresql://db1:6432/my+db");
        assertThat(c.jdbcProperties()).containsEntry("user", "app").containsEntry("password", "p w'x")
                .containsEntry("sslmode", "require").containsEntry("ApplicationName", "shardlift")
                .containsEntry("connectTimeout", "7").containsEntry("tcpKeepAlive", "false")
                .containsEntry("targetServerType", "primary");
        assertThat(c.toLibpq()).isEqualTo("host=db1 port=6432 dbname='my db' user=app password='p w\\'x' sslmode=require "
                + "application_name=shardlift connect_timeout=7 keepalives=0 target_session_attrs=read-write");
        assertThat(parse(c.toLibpq())).isEqualTo(c);
        assertThat(c.masked()).isEqualTo("host=db1 port=6432 dbname='my db' user=app password=****** sslmode=require "
                + "application_name=shardlift connect_timeout=7 keepalives=0 target_session_attrs=read-write");
        assertThat(c).hasToString(c.masked());
    }

    @Test
    void ipv6InBracketsWhereAUrlNeedsThem() {
        ConnInfo c = parse("postgres://[::1]:6001/demo");
        assertThat(c.label()).isEqualTo("[::1]:6001/demo");
        assertThat(c.jdbcUrl()).isEqualTo("jdbc:postgresql://[::1]:6001/demo");
        assertThat(c.toLibpq()).isEqualTo("host=::1 port=6001 dbname=demo user=postgres");
        assertThat(parse(c.toLibpq())).isEqualTo(c);
    }

    @Test
    void noPasswordNoPasswordKeyword() {
        ConnInfo c = parse("host=db1");
        assertThat(c.masked()).doesNotContain("password");
        assertThat(c.jdbcProperties()).doesNotContainKey("password");
    }

    @Test
    void sameDatabaseTreatsLoopbackNamesAsOneServer() {
        assertThat(parse("host=localhost dbname=demo").sameDatabase(parse("postgres://127.0.0.1/demo"))).isTrue();
        assertThat(parse("host=DB1 dbname=demo user=a").sameDatabase(parse("host=db1 dbname=demo user=b"))).isTrue();
        assertThat(parse("host=db1 dbname=demo").sameDatabase(parse("host=db1 port=5433 dbname=demo"))).isFalse();
        assertThat(parse("host=db1 dbname=demo").sameDatabase(parse("host=db1 dbname=other"))).isFalse();
    }

    static Stream<Arguments> masking() {
        return Stream.of(
                Arguments.of("host=a password=Sekr1t port", "host=a password=****** port"),
                Arguments.of("host=a password = 'Sek r1t' x", "host=a password = ****** x"),
                Arguments.of("host=a pasword=Sekr1t", "host=a pasword=******"),
                Arguments.of("host=a sslpassword=Sekr1t", "host=a sslpassword=******"),
                Arguments.of("postgres://u:Sekr1t@h:x/db", "postgres://u:******@h:x/db"),
                Arguments.of("postgres://u:Sek@r1t@h/db", "postgres://u:******@h/db"),
                Arguments.of("postgres://h/db?password=Sekr1t&port=x", "postgres://h/db?password=******&port=x"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("masking")
    void masksUnparsedText(String raw, String masked) {
        assertThat(LibpqParser.maskRaw(raw)).isEqualTo(masked);
    }

    @Test
    void errorsNeverQuoteAPassword() {
        for (String s : new String[] {"host=a password='Sekr1tPW", "postgres://u:Sekr1tPW@h/d%zz", "password=Sekr1tPW port=x",
                "host=a passwd=Sekr1tPW", "postgres://u:Sekr1tPW@h/db?passwrd=Sekr1tPW"}) {
            assertThatThrownBy(() -> parse(s)).isInstanceOf(IllegalArgumentException.class)
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("Sekr1tPW"));
        }
    }
}
