package io.shardlift.core.spec;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * One PostgreSQL server and database as libpq would connect to it: parsed from a keyword/value string
 * ({@code host=db1 port=5432 dbname=demo user=app password='it\'s'}) or a URI
 * ({@code postgres://app:s%40cret@[::1]:5432/demo?sslmode=require}), with libpq's defaults and password
 * lookup applied. The password is never rendered by {@link #toString()}, {@link #masked()} or
 * {@link #label()}; only {@link #toLibpq()} and {@link #jdbcProperties()} carry it.
 */
public final class ConnInfo {

    public static final int DEFAULT_PORT = 5432;
    public static final String DEFAULT_USER = "postgres";
    public static final String DEFAULT_HOST = "localhost";
    static final String MASK = "******";

    private static final Set<String> SSLMODES = Set.of("disable", "allow", "prefer", "require", "verify-ca", "verify-full");
    private static final Map<String, String> TARGET_SERVER_TYPES = Map.of(
            "any", "any", "read-write", "primary", "primary", "primary",
            "read-only", "secondary", "standby", "secondary", "prefer-standby", "preferSecondary");
    private static final Set<String> LOOPBACK = Set.of("localhost", "127.0.0.1", "::1", "0:0:0:0:0:0:0:1");

    private final String host;
    private final int port;
    private final String dbname;
    private final String user;
    private final String password;
    private final Map<String, String> params;

    private ConnInfo(String host, int port, String dbname, String user, String password, Map<String, String> params) {
        this.host = host;
        this.port = port;
        this.dbname = dbname;
        this.user = user;
        this.password = password;
        this.params = params;
    }

    /** Parses with the process environment and libpq's password file. */
    public static ConnInfo parse(String connstr) {
        return parse(connstr, System::getenv, null);
    }

    /**
     * Parses and applies libpq's defaults: port 5432, user from {@code PGUSER} else {@code postgres},
     * dbname = user; the password is the one written in the string, else {@code PGPASSWORD}, else the first
     * matching line of the password file ({@code passfile} keyword, else {@code pgpassFile}, else
     * {@code PGPASSFILE}, else {@code ~/.pgpass}).
     *
     * @throws IllegalArgumentException if the string does not parse; the message never contains a password
     */
    public static ConnInfo parse(String connstr, Function<String, String> env, Path pgpassFile) {
        Objects.requireNonNull(connstr, "connstr");
        Objects.requireNonNull(env, "env");
        Map<String, String> kw = LibpqParser.parse(connstr);

        if (kw.containsKey("service")) {
            throw new IllegalArgumentException("service files (pg_service.conf) are not supported; write host, port and dbname");
        }
        String host = nonEmpty(kw.remove("host"));
        String hostaddr = kw.get("hostaddr");
        if (host == null && nonEmpty(hostaddr) != null) {
            host = kw.remove("hostaddr");
        }
        if (host == null) {
            host = DEFAULT_HOST;
        }
        if (host.contains(",")) {
            throw new IllegalArgumentException("more than one host; shardlift needs one server per connection string");
        }
        if (host.startsWith("/") || host.startsWith("@")) {
            throw new IllegalArgumentException("host \"" + host + "\" is a Unix-domain socket; shardlift connects over TCP, "
                    + "write host=127.0.0.1 (or the server's name)");
        }
        int port = parsePort(kw.remove("port"));
        String user = nonEmpty(kw.remove("user"));
        if (user == null) {
            user = nonEmpty(env.apply("PGUSER"));
        }
        if (user == null) {
            user = DEFAULT_USER;
        }
        String dbname = nonEmpty(kw.remove("dbname"));
        if (dbname == null) {
            dbname = user;
        }
        String password = nonEmpty(kw.remove("password"));
        String passfile = nonEmpty(kw.remove("passfile"));
        if (password == null) {
            password = nonEmpty(env.apply("PGPASSWORD"));
        }
        if (password == null) {
            Path file = passfile != null ? Path.of(passfile) : pgpassFile != null ? pgpassFile : Pgpass.defaultFile(env);
            password = Pgpass.lookup(file, host, port, dbname, user).orElse(null);
        }
        checkParams(kw);
        return new ConnInfo(host, port, dbname, user, password, Collections.unmodifiableMap(new LinkedHashMap<>(kw)));
    }

    private static void checkParams(Map<String, String> kw) {
        String sslmode = kw.get("sslmode");
        if (sslmode != null && !SSLMODES.contains(sslmode)) {
            throw new IllegalArgumentException("sslmode \"" + sslmode + "\" is not one of " + String.join(", ",
                    SSLMODES.stream().sorted().toList()));
        }
        String tsa = kw.get("target_session_attrs");
        if (tsa != null && !TARGET_SERVER_TYPES.containsKey(tsa)) {
            throw new IllegalArgumentException("target_session_attrs \"" + tsa + "\" is not one of "
                    + String.join(", ", TARGET_SERVER_TYPES.keySet().stream().sorted().toList()));
        }
        for (String key : new String[] {"connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval",
                "keepalives_count", "tcp_user_timeout"}) {
            String v = kw.get(key);
            if (v != null && !v.strip().matches("-?\\d{1,9}")) {
                throw new IllegalArgumentException(key + " \"" + v + "\" is not a whole number");
            }
        }
    }

    private static int parsePort(String text) {
        if (text == null || text.isEmpty()) {
            return DEFAULT_PORT;
        }
        if (text.contains(",")) {
            throw new IllegalArgumentException("more than one port; shardlift needs one server per connection string");
        }
        if (!text.matches("\\d{1,5}")) {
            throw new IllegalArgumentException("port \"" + text + "\" is not a number from 1 to 65535");
        }
        int port = Integer.parseInt(text);
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is not a number from 1 to 65535");
        }
        return port;
    }

    private static String nonEmpty(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public String dbname() {
        return dbname;
    }

    public String user() {
        return user;
    }

    /** The resolved password (written, {@code PGPASSWORD} or password file), if any. A secret: do not log it. */
    public Optional<String> password() {
        return Optional.ofNullable(password);
    }

    /** The other keywords (sslmode, application_name, connect_timeout, options, ...) as written. */
    public Map<String, String> params() {
        return params;
    }

    /** {@code host:port/dbname}, for logs and messages; IPv6 addresses in brackets. */
    public String label() {
        return hostForUri() + ":" + port + "/" + dbname;
    }

    /** True when both name the same database on the same server (loopback names count as one server). */
    public boolean sameDatabase(ConnInfo other) {
        return port == other.port && dbname.equals(other.dbname) && normalHost(host).equals(normalHost(other.host));
    }

    private static String normalHost(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        return LOOPBACK.contains(h) ? "localhost" : h;
    }

    private String hostForUri() {
        return host.contains(":") ? "[" + host + "]" : host;
    }

    /** {@code jdbc:postgresql://host:port/dbname}; user, password and the rest go in {@link #jdbcProperties()}. */
    public String jdbcUrl() {
        return "jdbc:postgresql://" + hostForUri() + ":" + port + "/" + URLEncoder.encode(dbname, StandardCharsets.UTF_8);
    }

    /**
     * pgjdbc connection properties: user, password and those libpq keywords pgjdbc has an equivalent for
     * (sslmode, sslcert, sslkey, sslrootcert, sslpassword, application_name, connect_timeout, options,
     * keepalives, target_session_attrs, gssencmode, krbsrvname, replication). Carries the password.
     */
    public Properties jdbcProperties() {
        Properties p = new Properties();
        p.setProperty("user", user);
        if (password != null) {
            p.setProperty("password", password);
        }
        params.forEach((key, value) -> {
            switch (key) {
                case "sslmode", "sslcert", "sslkey", "sslrootcert", "sslpassword", "options", "replication" ->
                        p.setProperty(key, value);
                case "application_name" -> p.setProperty("ApplicationName", value);
                case "fallback_application_name" -> {
                    if (!params.containsKey("application_name")) {
                        p.setProperty("ApplicationName", value);
                    }
                }
                case "connect_timeout" -> p.setProperty("connectTimeout", value.strip());
                case "keepalives" -> p.setProperty("tcpKeepAlive", String.valueOf(!value.strip().equals("0")));
                case "target_session_attrs" -> p.setProperty("targetServerType", TARGET_SERVER_TYPES.get(value));
                case "gssencmode" -> p.setProperty("gssEncMode", value);
                case "krbsrvname" -> p.setProperty("kerberosServerName", value);
                default -> {
                    // no pgjdbc equivalent (e.g. hostaddr, client_encoding: pgjdbc always speaks UTF8)
                }
            }
        });
        return p;
    }

    /** The one way shardlift opens a connection: {@link #jdbcUrl()} with {@link #jdbcProperties()}. */
    public java.sql.Connection connect() throws java.sql.SQLException {
        return java.sql.DriverManager.getConnection(jdbcUrl(), jdbcProperties());
    }

    /** {@link #connect()} with {@code extra} properties laid over this connection's own (e.g. an application name). */
    public java.sql.Connection connect(Properties extra) throws java.sql.SQLException {
        Properties p = jdbcProperties();
        p.putAll(extra);
        return java.sql.DriverManager.getConnection(jdbcUrl(), p);
    }

    /** Keyword/value form with every resolved value, password included: for handing to libpq tools only. */
    public String toLibpq() {
        return render(false);
    }

    /** Keyword/value form with {@code password=******}: safe to print. */
    public String masked() {
        return render(true);
    }

    private String render(boolean mask) {
        StringBuilder sb = new StringBuilder();
        sb.append("host=").append(LibpqParser.quote(host))
                .append(" port=").append(port)
                .append(" dbname=").append(LibpqParser.quote(dbname))
                .append(" user=").append(LibpqParser.quote(user));
        if (password != null) {
            sb.append(" password=").append(mask ? MASK : LibpqParser.quote(password));
        }
        params.forEach((key, value) -> sb.append(' ').append(key).append('=')
                .append(mask && LibpqParser.isSecretKeyword(key) ? MASK : LibpqParser.quote(value)));
        return sb.toString();
    }

    /** Same as {@link #masked()}. */
    @Override
    public String toString() {
        return masked();
    }

    /** Every secret value this connection carries (password, sslpassword), for scrubbing messages. */
    Set<String> secrets() {
        Set<String> s = params.entrySet().stream().filter(e -> LibpqParser.isSecretKeyword(e.getKey()))
                .map(Map.Entry::getValue).collect(Collectors.toCollection(HashSet::new));
        if (password != null) {
            s.add(password);
        }
        return s;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ConnInfo c && port == c.port && host.equals(c.host) && dbname.equals(c.dbname)
                && user.equals(c.user) && Objects.equals(password, c.password) && params.equals(c.params);
    }

    @Override
    public int hashCode() {
        return Objects.hash(host, port, dbname, user, params);
    }
}
