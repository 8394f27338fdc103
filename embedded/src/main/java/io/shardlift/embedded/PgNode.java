package io.shardlift.embedded;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * One real PostgreSQL server from the embedded (zonky) binaries, configured for logical decoding.
 *
 * <p>Data lives under {@link EmbeddedDir#baseDir()} (by default {@code target/embedded}), never in /tmp, so
 * a test run leaves nothing behind outside the build directory. {@link #close()} stops the server;
 * {@link #kill()} sends SIGKILL to the postmaster, for crash tests.
 */
public final class PgNode implements AutoCloseable {

    /** Settings every node gets; tests and the demo rely on logical decoding being on. */
    static final Map<String, String> BASE_CONFIG = Map.ofEntries(
            Map.entry("wal_level", "logical"),
            // zonky starts with synchronous_commit=off; decoding then lags behind commits
            Map.entry("synchronous_commit", "on"),
            Map.entry("max_wal_senders", "16"),
            Map.entry("max_replication_slots", "16"),
            Map.entry("max_connections", "120"),
            Map.entry("shared_buffers", "64MB"),
            Map.entry("max_worker_processes", "16"),
            Map.entry("max_prepared_transactions", "0"),
            Map.entry("timezone", "UTC"),
            Map.entry("lc_messages", "C"),
            Map.entry("listen_addresses", "127.0.0.1"));

    private final String name;
    private final Path dataDir;
    private final EmbeddedPostgres pg;
    private volatile boolean closed;

    private PgNode(String name, Path dataDir, EmbeddedPostgres pg) {
        this.name = name;
        this.dataDir = dataDir;
        this.pg = pg;
    }

    /** Starts a node named {@code name} with a fresh data directory under {@link EmbeddedDir#baseDir()}. */
    public static PgNode start(String name) {
        return start(name, Map.of());
    }

    /**
     * Starts a node; {@code extraConfig} overrides or adds postgresql.conf settings.
     *
     * <p>Nodes started at the same time may be handed the same free port. PostgreSQL starts as long as it can bind
     * any one of its listen addresses, so two servers could share a port (one on IPv4, one on IPv6) and both nodes'
     * clients reach the same server (seen once in a full run: two CREATE DATABASE raced on one server). So the
     * server listens on 127.0.0.1 only (a taken port then fails the start), and a start whose server is not the one
     * on this node's data directory is retried on another port.
     */
    public static PgNode start(String name, Map<String, String> extraConfig) {
        RuntimeException last = null;
        for (int attempt = 1; attempt <= 3; attempt++) {
            try {
                PgNode node = startOnce(name, extraConfig);
                if (node.servesOwnDataDirectory()) {
                    return node;
                }
                node.close();
                last = new IllegalStateException("node '" + name + "': the server on port " + node.port()
                        + " is another node's (port handed out twice)");
            } catch (UncheckedIOException e) {
                last = e;
            }
        }
        throw last;
    }

    private boolean servesOwnDataDirectory() {
        try (Connection c = connect("postgres"); Statement st = c.createStatement();
             var rs = st.executeQuery("SHOW data_directory")) {
            rs.next();
            return Path.of(rs.getString(1)).toRealPath().equals(dataDir.toRealPath());
        } catch (SQLException | IOException e) {
            return false;
        }
    }

    private static PgNode startOnce(String name, Map<String, String> extraConfig) {
        Path base = EmbeddedDir.baseDir();
        Path dataDir = base.resolve("pg").resolve(name + "-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        Map<String, String> config = new LinkedHashMap<>(BASE_CONFIG);
        config.putAll(extraConfig);
        try {
            Files.createDirectories(dataDir);
            // a copy of the template, not initdb (the data directory is then kept: close() deletes it)
            boolean copied = DataDirTemplate.copyTo(dataDir);
            EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                    .setDataDirectory(dataDir)
                    .setCleanDataDirectory(!copied)
                    .setOverrideWorkingDirectory(EmbeddedDir.binariesDir().toFile())
                    .setPGStartupWait(Duration.ofSeconds(60));
            config.forEach(builder::setServerConfig);
            return new PgNode(name, dataDir, builder.start());
        } catch (IOException e) {
            throw new UncheckedIOException("could not start embedded PostgreSQL node '" + name + "' in " + dataDir, e);
        }
    }

    public String name() {
        return name;
    }

    public String host() {
        return "127.0.0.1";
    }

    public int port() {
        return pg.getPort();
    }

    public String user() {
        return "postgres";
    }

    public Path dataDir() {
        return dataDir;
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://" + host() + ":" + port() + "/" + database;
    }

    /** libpq keyword/value connection string, as a migration spec would hold it. */
    public String connstr(String database) {
        return "host=" + host() + " port=" + port() + " dbname=" + database + " user=" + user();
    }

    /** postgres:// URL form of {@link #connstr(String)}. */
    public String url(String database) {
        return "postgres://" + user() + "@" + host() + ":" + port() + "/" + database;
    }

    public Connection connect(String database) throws SQLException {
        return DriverManager.getConnection(jdbcUrl(database), user(), "");
    }

    /** Creates {@code database} if it does not exist yet. */
    public PgNode createDatabase(String database) {
        try (Connection c = connect("postgres"); Statement st = c.createStatement()) {
            var rs = st.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + database.replace("'", "''") + "'");
            if (!rs.next()) {
                st.execute("CREATE DATABASE \"" + database.replace("\"", "\"\"") + "\"");
            }
            return this;
        } catch (SQLException e) {
            throw new IllegalStateException("could not create database " + database + " on node " + name, e);
        }
    }

    /** Runs SQL statements (separated by the caller) on {@code database}, autocommit. */
    public void execute(String database, String... statements) {
        try (Connection c = connect(database); Statement st = c.createStatement()) {
            for (String sql : statements) {
                st.execute(sql);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("SQL failed on node " + name + ": " + e.getMessage(), e);
        }
    }

    /** PID of the postmaster, read from postmaster.pid. */
    public Optional<Long> postmasterPid() {
        try {
            Path pidFile = dataDir.resolve("postmaster.pid");
            if (!Files.exists(pidFile)) {
                return Optional.empty();
            }
            String first = Files.readAllLines(pidFile).get(0).trim();
            return Optional.of(Long.parseLong(first));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * Stops the server (fast: open sessions are cut, as in a real restart) and starts it again on the same data
     * and port. Clients see their connections drop and must reconnect.
     */
    public void restart() {
        pgCtl("restart", "-m", "fast");
    }

    /** Stops the server (fast shutdown) and leaves it stopped: a node that is down, until {@link #startAgain()}. */
    public void stop() {
        try {
            // pg_ctl start does not read postmaster.opts: keep the command line (port, settings) for startAgain
            Files.copy(dataDir.resolve("postmaster.opts"), dataDir.resolve("postmaster.opts.kept"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        pgCtl("stop", "-m", "fast");
    }

    /** Starts a server {@link #stop()} stopped, on the same data, port and settings. */
    public void startAgain() {
        String opts;
        try {
            opts = Files.readString(dataDir.resolve("postmaster.opts.kept")).trim();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // the first word is the postgres binary, the rest its quoted arguments, which pg_ctl -o passes on
        pgCtl("start", "-o", opts.substring(opts.indexOf(' ') + 1));
    }

    private void pgCtl(String action, String... args) {
        Path bin;
        try (var dirs = Files.list(EmbeddedDir.binariesDir())) {
            bin = dirs.filter(d -> Files.isExecutable(d.resolve("bin").resolve("pg_ctl"))).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no pg_ctl under " + EmbeddedDir.binariesDir()))
                    .resolve("bin").resolve("pg_ctl");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // as zonky does: PostgreSQL refuses to run as root, a user namespace makes it not root
        boolean root = "root".equals(System.getProperty("user.name"));
        java.util.List<String> cmd = new java.util.ArrayList<>();
        if (root) {
            cmd.addAll(java.util.List.of("unshare", "-U"));
        }
        Path log = dataDir.resolve("restart.log");
        cmd.addAll(java.util.List.of(bin.toString(), "-D", dataDir.toString(), "-l", log.toString(), "-w", "-t", "60"));
        cmd.addAll(java.util.List.of(args));
        cmd.add(action);
        try {
            // not a pipe: the restarted postmaster would inherit it and hold it open for its whole life
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.resolveSibling("restart-ctl.log").toFile()).start();
            if (p.waitFor() != 0) {
                throw new IllegalStateException(action + " of node " + name + " failed: "
                        + Files.readString(log.resolveSibling("restart-ctl.log")) + (Files.exists(log) ? Files.readString(log) : ""));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted during " + action + " of node " + name, e);
        }
    }

    /** SIGKILL to the postmaster: a crash, not a shutdown. The node cannot be used afterwards. */
    public void kill() {
        postmasterPid().flatMap(ProcessHandle::of).ifPresent(ProcessHandle::destroyForcibly);
        closed = true;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            pg.close();
        } catch (IOException e) {
            throw new UncheckedIOException("could not stop node " + name, e);
        } finally {
            deleteQuietly(dataDir);
        }
    }

    /** Deletes a directory tree, best effort. */
    public static void deleteQuietly(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort: the build directory is cleaned by mvn clean anyway
        }
    }

    @Override
    public String toString() {
        return "PgNode[" + name + " @" + host() + ":" + port() + "]";
    }
}
