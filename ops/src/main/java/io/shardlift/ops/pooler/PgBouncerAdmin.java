package io.shardlift.ops.pooler;

import io.shardlift.router.spec.ConnInfo;
import io.shardlift.router.spec.PoolerSpec.PgBouncerSpec;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * One connection to a PgBouncer's admin console. The console speaks only the simple query protocol, so pgjdbc
 * runs with {@code preferQueryMode=simple}; rows are read by column name because the columns of the SHOW
 * commands grow between PgBouncer versions.
 */
final class PgBouncerAdmin implements AutoCloseable {

    /** How long connecting to a console may take: a PgBouncer that does not answer in this is not usable. */
    static final int CONNECT_TIMEOUT_S = 5;

    /** A SHOW DATABASES row: where an alias points and whether it is paused. */
    record Database(String name, String host, int port, String database, String poolMode, boolean paused,
                    boolean disabled) {
        /** {@code host:port/dbname} as PgBouncer connects to it. */
        String target() {
            return (host == null || host.isEmpty() ? "(unix socket)" : host) + ":" + port + "/" + database;
        }
    }

    /** A SHOW POOLS row. */
    record Pool(String database, String user, int clActive, int clWaiting, int svActive, int svIdle, int svUsed,
                String poolMode) {
    }

    /** A SHOW CLIENTS row (no query text: PgBouncer does not know it). */
    record Client(String user, String database, String state, String addr, int port, String applicationName,
                  boolean linked) {
        String describe() {
            return user + "@" + addr + ":" + port + (applicationName == null || applicationName.isEmpty() ? ""
                    : " (application_name " + applicationName + ")") + " " + state + (linked ? " holding a server connection" : "");
        }
    }

    private final PgBouncerSpec instance;
    private final Connection connection;

    private PgBouncerAdmin(PgBouncerSpec instance, Connection connection) {
        this.instance = instance;
        this.connection = connection;
    }

    static PgBouncerAdmin connect(PgBouncerSpec instance) throws SQLException {
        ConnInfo admin = instance.admin();
        Properties p = admin.jdbcProperties();
        p.setProperty("preferQueryMode", "simple");
        p.putIfAbsent("connectTimeout", String.valueOf(CONNECT_TIMEOUT_S));
        p.setProperty("ApplicationName", "shardlift");
        return new PgBouncerAdmin(instance, DriverManager.getConnection(admin.jdbcUrl(), p));
    }

    PgBouncerSpec instance() {
        return instance;
    }

    List<Database> databases() throws SQLException {
        List<Database> out = new ArrayList<>();
        for (Map<String, String> r : show("SHOW DATABASES")) {
            out.add(new Database(r.get("name"), r.get("host"), integer(r.get("port")), r.get("database"),
                    r.get("pool_mode"), integer(r.get("paused")) != 0, integer(r.get("disabled")) != 0));
        }
        return out;
    }

    /** SHOW CONFIG as key → value. */
    Map<String, String> config() throws SQLException {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map<String, String> r : show("SHOW CONFIG")) {
            out.put(r.get("key"), r.get("value"));
        }
        return out;
    }

    List<Pool> pools() throws SQLException {
        List<Pool> out = new ArrayList<>();
        for (Map<String, String> r : show("SHOW POOLS")) {
            out.add(new Pool(r.get("database"), r.get("user"), integer(r.get("cl_active")), integer(r.get("cl_waiting")),
                    integer(r.get("sv_active")), integer(r.get("sv_idle")), integer(r.get("sv_used")), r.get("pool_mode")));
        }
        return out;
    }

    List<Client> clients() throws SQLException {
        List<Client> out = new ArrayList<>();
        for (Map<String, String> r : show("SHOW CLIENTS")) {
            String link = r.get("link");
            out.add(new Client(r.get("user"), r.get("database"), r.get("state"), r.get("addr"), integer(r.get("port")),
                    r.get("application_name"), link != null && !link.isEmpty() && !link.equals("0x0") && !link.equals("(nil)")));
        }
        return out;
    }

    /** PAUSE {@code alias}: returns once every server connection of the alias is released (blocks until then). */
    void pause(String alias) throws SQLException {
        command("PAUSE " + alias);
    }

    void resume(String alias) throws SQLException {
        command("RESUME " + alias);
    }

    /** RELOAD: re-reads pgbouncer.ini and what it includes. */
    void reload() throws SQLException {
        command("RELOAD");
    }

    /** Abandons a command in flight (a PAUSE that does not complete): the connection is closed under it. */
    void abort() {
        try {
            connection.abort(Runnable::run);
        } catch (SQLException | RuntimeException e) {
            // already gone: what matters is that it no longer waits
        }
    }

    private void command(String sql) throws SQLException {
        try (Statement st = connection.createStatement()) {
            st.execute(sql);
        }
    }

    private List<Map<String, String>> show(String sql) throws SQLException {
        List<Map<String, String>> rows = new ArrayList<>();
        try (Statement st = connection.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            ResultSetMetaData md = rs.getMetaData();
            while (rs.next()) {
                Map<String, String> row = new LinkedHashMap<>();
                for (int i = 1; i <= md.getColumnCount(); i++) {
                    row.put(md.getColumnLabel(i).toLowerCase(Locale.ROOT), rs.getString(i));
                }
                rows.add(row);
            }
        }
        return rows;
    }

    private static int integer(String s) {
        if (s == null || s.isBlank()) {
            return 0;
        }
        try {
            return Integer.parseInt(s.strip());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    @Override
    public void close() {
        try {
            connection.close();
        } catch (SQLException e) {
            // closing a console connection has nothing left to do on failure
        }
    }
}
