package io.shardlift.ops.pooler;

import io.shardlift.core.spec.ConnInfo;
import io.shardlift.core.spec.PoolerSpec.PgBouncerSpec;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One connection to a PgBouncer's admin console, over {@link AdminWire} (pgjdbc cannot log in to it). Rows are
 * read by column name because the columns of the SHOW commands grow between PgBouncer versions.
 */
final class PgBouncerAdmin implements AutoCloseable {

    /** How long connecting to a console may take: a PgBouncer that does not answer in this is not usable. */
    static final int CONNECT_TIMEOUT_S = 5;
    /** How long a SHOW, RESUME or RELOAD may take; a PAUSE waits without limit and is abandoned by closing. */
    static final int READ_TIMEOUT_MS = 30_000;

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
                int svLogin, String poolMode) {
        /** Server connections logged in (active, idle or used). */
        int serversUp() {
            return svActive + svIdle + svUsed;
        }
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
    private final AdminWire wire;

    private PgBouncerAdmin(PgBouncerSpec instance, AdminWire wire) {
        this.instance = instance;
        this.wire = wire;
    }

    static PgBouncerAdmin connect(PgBouncerSpec instance) throws IOException {
        ConnInfo admin = instance.admin();
        String sslmode = admin.params().getOrDefault("sslmode", "prefer");
        if (!List.of("disable", "allow", "prefer").contains(sslmode)) {
            throw new IOException("sslmode=" + sslmode + ": shardlift speaks to the admin console without TLS only; "
                    + "reach it over loopback or a private network and drop sslmode from admin:");
        }
        if (admin.host().startsWith("/")) {
            throw new IOException("host=" + admin.host() + " is a Unix socket directory: give the console's TCP address, "
                    + "e.g. host=127.0.0.1 port=6432");
        }
        int connectMs = CONNECT_TIMEOUT_S * 1000;
        String ct = admin.params().get("connect_timeout");
        if (ct != null && ct.strip().matches("\\d{1,6}") && Integer.parseInt(ct.strip()) > 0) {
            connectMs = Integer.parseInt(ct.strip()) * 1000;
        }
        return new PgBouncerAdmin(instance, AdminWire.connect(admin.host(), admin.port(), admin.dbname(), admin.user(),
                admin.password().orElse(null), connectMs, READ_TIMEOUT_MS));
    }

    PgBouncerSpec instance() {
        return instance;
    }

    List<Database> databases() throws IOException {
        List<Database> out = new ArrayList<>();
        for (Map<String, String> r : show("SHOW DATABASES")) {
            out.add(new Database(r.get("name"), r.get("host"), integer(r.get("port")), r.get("database"),
                    r.get("pool_mode"), integer(r.get("paused")) != 0, integer(r.get("disabled")) != 0));
        }
        return out;
    }

    /** SHOW CONFIG as key → value. */
    Map<String, String> config() throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map<String, String> r : show("SHOW CONFIG")) {
            out.put(r.get("key"), r.get("value"));
        }
        return out;
    }

    List<Pool> pools() throws IOException {
        List<Pool> out = new ArrayList<>();
        for (Map<String, String> r : show("SHOW POOLS")) {
            out.add(new Pool(r.get("database"), r.get("user"), integer(r.get("cl_active")), integer(r.get("cl_waiting")),
                    integer(r.get("sv_active")), integer(r.get("sv_idle")), integer(r.get("sv_used")), integer(r.get("sv_login")),
                    r.get("pool_mode")));
        }
        return out;
    }

    List<Client> clients() throws IOException {
        List<Client> out = new ArrayList<>();
        for (Map<String, String> r : show("SHOW CLIENTS")) {
            String link = r.get("link");
            out.add(new Client(r.get("user"), r.get("database"), r.get("state"), r.get("addr"), integer(r.get("port")),
                    r.get("application_name"), link != null && !link.isEmpty() && !link.equals("0x0") && !link.equals("(nil)")));
        }
        return out;
    }

    /** PAUSE {@code alias}: returns once every server connection of the alias is released (blocks until then). */
    void pause(String alias) throws IOException {
        wire.readTimeout(0);
        try {
            command("PAUSE " + alias);
        } finally {
            wire.readTimeout(READ_TIMEOUT_MS);
        }
    }

    void resume(String alias) throws IOException {
        command("RESUME " + alias);
    }

    /** SET {@code key} = {@code value} at run time (until the next RELOAD or restart). */
    void set(String key, String value) throws IOException {
        if (!key.matches("[a-z_]+") || !value.matches("[0-9.]+")) {
            throw new IllegalArgumentException("not a numeric PgBouncer setting: " + key);
        }
        command("SET " + key + " = " + value);
    }

    /** RELOAD: re-reads pgbouncer.ini and what it includes. */
    void reload() throws IOException {
        command("RELOAD");
    }

    /** Abandons a command in flight (a PAUSE that does not complete): the connection is closed under it. */
    void abort() {
        wire.close();
    }

    private void command(String sql) throws IOException {
        wire.query(sql);
    }

    private List<Map<String, String>> show(String sql) throws IOException {
        List<Map<String, String>> rows = new ArrayList<>();
        for (Map<String, String> r : wire.query(sql)) {
            Map<String, String> row = new LinkedHashMap<>();
            r.forEach((k, v) -> row.put(k.toLowerCase(Locale.ROOT), v));
            rows.add(row);
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
        wire.close();
    }
}
