package io.shardlift.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A real PgBouncer, started by the demo and by the test kit: a {@code pgbouncer.ini} whose {@code [databases]}
 * section pulls in an include file (the file shardlift rewrites), trust authentication for the embedded nodes'
 * {@code postgres} user, a free port on 127.0.0.1, {@code postgres} as admin user. PgBouncer refuses to run as root,
 * so as root it is started as the {@code postgres} OS user; its directory (under java.io.tmpdir) is world-writable
 * for that reason. Stopped by its PID.
 */
public class PgBouncer implements AutoCloseable {

    /** Where Debian's package installs it; the PATH is searched too. */
    private static final List<Path> CANDIDATES = List.of(Path.of("/usr/sbin/pgbouncer"), Path.of("/usr/bin/pgbouncer"));

    private final String name;
    private final Path dir;
    private final Path ini;
    private final Path includeFile;
    private final int port;
    private final Map<String, String> settings;
    private volatile ProcessHandle process;

    private PgBouncer(String name, Path dir, Path includeFile, int port, Map<String, String> settings) {
        this.name = name;
        this.dir = dir;
        this.ini = dir.resolve("pgbouncer.ini");
        this.includeFile = includeFile;
        this.port = port;
        this.settings = settings;
    }

    /** The pgbouncer executable, if installed. */
    public static Optional<Path> executable() {
        for (Path p : CANDIDATES) {
            if (Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        String path = System.getenv("PATH");
        if (path != null) {
            for (String d : path.split(":")) {
                Path p = Path.of(d, "pgbouncer");
                if (!d.isEmpty() && Files.isExecutable(p)) {
                    return Optional.of(p);
                }
            }
        }
        return Optional.empty();
    }

    /**
     * Why PgBouncer tests cannot run here, or empty when they can. On CI ({@code CI=true}) its absence is a failure
     * of the machine's setup, so callers fail rather than skip.
     */
    public static Optional<String> unavailable() {
        if (executable().isEmpty()) {
            return Optional.of("pgbouncer is not installed (Debian: apt-get install -y pgbouncer); .ci/run installs it");
        }
        // PgBouncer refuses to run as root: it is started as postgres, which needs runuser and that user
        if (runningAsRoot()) {
            if (!Files.isExecutable(Path.of("/usr/sbin/runuser")) && !Files.isExecutable(Path.of("/sbin/runuser"))) {
                return Optional.of("pgbouncer refuses to run as root and runuser is missing to start it as postgres");
            }
            if (!postgresUserExists()) {
                return Optional.of("pgbouncer refuses to run as root and there is no 'postgres' OS user to start it as");
            }
        }
        return Optional.empty();
    }

    private static boolean runningAsRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    private static boolean postgresUserExists() {
        try {
            return Files.readAllLines(Path.of("/etc/passwd")).stream().anyMatch(l -> l.startsWith("postgres:"));
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Starts a PgBouncer named {@code name} whose include file holds {@code includeLines} (the {@code [databases]}
     * lines shardlift will switch), with {@code settings} added to or overriding the {@code [pgbouncer]} section
     * (default pool_mode transaction).
     */
    public static PgBouncer start(String name, List<String> includeLines, Map<String, String> settings) {
        return start(name, includeLines, settings, Map.of("postgres", ""));
    }

    /**
     * As {@link #start(String, List, Map)}, with {@code users} (name → plain password) as the auth_file: what
     * PgBouncer checks client passwords against when auth_type is md5 or scram-sha-256.
     */
    public static PgBouncer start(String name, List<String> includeLines, Map<String, String> settings,
                                  Map<String, String> users) {
        return new PgBouncer(name, includeLines, settings, users);
    }

    /** Prepares the directory and configuration and starts PgBouncer; for {@link #start} and the test kit's subclass. */
    protected PgBouncer(String name, List<String> includeLines, Map<String, String> settings, Map<String, String> users) {
        this(name, prepare(name, includeLines, settings, users));
        try {
            launch(executable().orElseThrow(() -> new IllegalStateException(unavailable().orElseThrow())));
        } catch (IOException e) {
            throw new UncheckedIOException("could not start PgBouncer '" + name + "'", e);
        }
    }

    private PgBouncer(String name, Prepared p) {
        this(name, p.dir(), p.include(), Integer.parseInt(p.settings().get("listen_port")), p.settings());
    }

    private record Prepared(Path dir, Path include, Map<String, String> settings) {
    }

    private static Prepared prepare(String name, List<String> includeLines, Map<String, String> settings,
                                    Map<String, String> users) {
        unavailable().ifPresent(why -> {
            throw new IllegalStateException(why);
        });
        try {
            // under the temporary directory: a work tree under /root is not reachable for postgres
            Path dir = Files.createTempDirectory("shardlift-pgbouncer-" + name + "-");
            // pgbouncer runs as postgres: it writes its pid file and log here
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
            Path include = dir.resolve("shardlift-databases.ini");
            Files.write(include, includeLines);
            Map<String, String> all = new LinkedHashMap<>();
            all.put("listen_addr", "127.0.0.1");
            all.put("listen_port", String.valueOf(freePort()));
            all.put("unix_socket_dir", "");
            all.put("auth_type", "trust");
            all.put("auth_file", dir.resolve("userlist.txt").toString());
            all.put("admin_users", "postgres");
            all.put("pool_mode", "transaction");
            // pgjdbc sends extra_float_digits at startup; PgBouncer refuses unknown startup parameters
            all.put("ignore_startup_parameters", "extra_float_digits");
            all.put("pidfile", dir.resolve("pgbouncer.pid").toString());
            all.put("logfile", dir.resolve("pgbouncer.log").toString());
            all.put("default_pool_size", "10");
            all.put("max_client_conn", "200");
            all.putAll(settings);
            StringBuilder userlist = new StringBuilder();
            users.forEach((u, pw) -> userlist.append('"').append(u).append("\" \"").append(pw).append("\"\n"));
            Files.writeString(dir.resolve("userlist.txt"), userlist);
            StringBuilder ini = new StringBuilder("[databases]\n%include ").append(include).append("\n\n[pgbouncer]\n");
            all.forEach((k, v) -> ini.append(k).append(" = ").append(v).append('\n'));
            Files.writeString(dir.resolve("pgbouncer.ini"), ini.toString());
            return new Prepared(dir, include, Map.copyOf(all));
        } catch (IOException e) {
            throw new UncheckedIOException("could not prepare PgBouncer '" + name + "'", e);
        }
    }

    private void launch(Path exe) throws IOException {
        List<String> cmd = runningAsRoot() ? List.of("runuser", "-u", "postgres", "--", exe.toString(), ini.toString())
                : List.of(exe.toString(), ini.toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve("stdout.log").toFile()).start();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            if (accepts()) {
                // runuser forks pgbouncer as a child; stopping means stopping pgbouncer itself, by its pid file
                process = pidFromFile().flatMap(ProcessHandle::of).orElse(p.toHandle());
                return;
            }
            if (!p.isAlive()) {
                throw new IllegalStateException("PgBouncer '" + name + "' exited with " + p.exitValue() + ": " + logTail());
            }
            sleep(50);
        }
        p.destroyForcibly();
        throw new IllegalStateException("PgBouncer '" + name + "' did not listen on port " + port + " within 30 s: " + logTail());
    }

    private Optional<ProcessHandle> pidFromFileHandle() {
        return pidFromFile().flatMap(ProcessHandle::of);
    }

    private Optional<Long> pidFromFile() {
        try {
            Path pid = dir.resolve("pgbouncer.pid");
            return Files.exists(pid) ? Optional.of(Long.parseLong(Files.readString(pid).strip())) : Optional.empty();
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    private boolean accepts() {
        try (Socket s = new Socket("127.0.0.1", port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The last lines of PgBouncer's log, for failure messages. */
    public String logTail() {
        StringBuilder sb = new StringBuilder();
        for (String f : List.of("stdout.log", "pgbouncer.log")) {
            try {
                Path p = dir.resolve(f);
                if (Files.exists(p)) {
                    List<String> lines = Files.readAllLines(p);
                    sb.append(String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()))).append('\n');
                }
            } catch (IOException e) {
                sb.append("(cannot read ").append(f).append(")\n");
            }
        }
        return sb.toString();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** A {@code [databases]} line pointing {@code alias} at {@code database} on {@code node}, plus extra parameters. */
    public static String databaseLine(String alias, PgNode node, String database, String extra) {
        return alias + " = host=" + node.host() + " port=" + node.port() + " dbname=" + database
                + (extra == null || extra.isBlank() ? "" : " " + extra.strip());
    }

    public String name() {
        return name;
    }

    public int port() {
        return port;
    }

    public Path dir() {
        return dir;
    }

    public Path includeFile() {
        return includeFile;
    }

    public Map<String, String> settings() {
        return settings;
    }

    /** The admin console as a libpq connection string, as {@code pooler.pgbouncer[].admin} holds it. */
    public String adminConnstr() {
        return "host=127.0.0.1 port=" + port + " dbname=pgbouncer user=postgres";
    }

    /** pgjdbc URL of {@code alias} through this PgBouncer; 1.18 has no prepared statements in transaction mode. */
    public String jdbcUrl(String alias) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + alias + "?preferQueryMode=simple";
    }

    /** Stops PgBouncer (SIGTERM, then SIGKILL), by its PID. */
    public void stop() {
        ProcessHandle h = process;
        if (h == null) {
            h = pidFromFileHandle().orElse(null);
        }
        if (h != null && h.isAlive()) {
            h.destroy();
            try {
                h.onExit().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                h.destroyForcibly();
            }
        }
        process = null;
    }

    /** Stops PgBouncer and deletes its directory. */
    @Override
    public void close() {
        stop();
        PgNode.deleteQuietly(dir);
    }

    @Override
    public String toString() {
        return "pgbouncer " + name + " on 127.0.0.1:" + port;
    }
}
