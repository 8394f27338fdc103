package io.shardlift.ops.pooler;

import io.shardlift.ops.pooler.IncludeFile.Target;
import io.shardlift.ops.pooler.PgBouncerAdmin.Client;
import io.shardlift.ops.pooler.PgBouncerAdmin.Database;
import io.shardlift.ops.pooler.PgBouncerAdmin.Pool;
import io.shardlift.core.spec.ConnInfo;
import io.shardlift.core.spec.MigrationSpec;
import io.shardlift.core.spec.PoolerSpec;
import io.shardlift.core.spec.PoolerSpec.PgBouncerSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The application's switch through PgBouncer: the operations the cutover calls, each safe to repeat. The order is
 * the cutover's: {@link #pauseAll()} (bounded, all or nothing), then the source is fenced and drained, then
 * {@link #switchToCluster()} (rewrite the include files, RELOAD), then {@link #resumeAll()}. {@link #recover()}
 * runs after a crash: it never leaves an alias paused and says where each alias points. {@link #switchBack()}
 * points the aliases at the source again (rollback). {@link #preflight()} checks, read-only, that all this can work.
 *
 * <p>Its size (about 430 lines) is the six operations, each with its all-or-nothing handling across instances; the
 * console protocol is in {@link AdminWire}, the include file in {@link IncludeFile}, the checks in {@code PoolerChecks}.
 */
public final class PoolerSwitch {

    private static final Logger LOG = LoggerFactory.getLogger(PoolerSwitch.class);

    /**
     * How long, beyond {@code pause_timeout}, clients may wait paused while the cutover fences, drains, verifies and
     * switches: what {@code query_wait_timeout} must exceed for waiting clients never to be disconnected.
     */
    public static final Duration FREEZE_ALLOWANCE = Duration.ofSeconds(10);

    private static final Set<String> LOOPBACK = Set.of("localhost", "127.0.0.1", "::1", "0:0:0:0:0:0:0:1");

    private final PoolerSpec spec;
    private final ConnInfo source;
    private final Target target;

    /** Where an alias points, compared with the source and the target node. */
    public enum Points { SOURCE, CLUSTER, ELSEWHERE, MISSING, UNKNOWN }

    /** One alias after {@link #recover()}: whether it was left paused (and is resumed now) and where it points. */
    public record AliasState(String instance, String alias, boolean wasPaused, boolean resumed, Points points,
                             String target, String error) {
        @Override
        public String toString() {
            return "pgbouncer " + instance + " alias " + alias + ": " + (error != null ? error
                    : (wasPaused ? (resumed ? "was paused, RESUMEd; " : "is paused and could not be RESUMEd; ") : "")
                    + "points at the " + points.name().toLowerCase(Locale.ROOT) + " (" + target + ")");
        }
    }

    /** One preflight result: a problem with what to change, or what was checked and found fine. */
    public record Check(boolean ok, String message) {
    }

    /** A completed pause: when PAUSE was issued (start of the client-visible pause) and how long it took. */
    public record Pause(Instant issued, Duration took) {
    }

    /** PAUSE could not complete everywhere in time; every alias was RESUMEd and nothing else changed. */
    public static final class PauseRefused extends RuntimeException {
        private static final long serialVersionUID = 1L;

        PauseRefused(String message) {
            super(message);
        }
    }

    PoolerSwitch(PoolerSpec spec, ConnInfo source, Target target) {
        this.spec = spec;
        this.source = source;
        this.target = target;
    }

    /** The switch of this spec's {@code pooler:} section, pointing at {@code pooler.target_node}; empty without one. */
    public static Optional<PoolerSwitch> of(MigrationSpec spec) {
        return spec.pooler().map(p -> {
            ConnInfo node = spec.nodes().get(p.targetNode());
            return new PoolerSwitch(p, spec.source(), new Target(node.host(), node.port(), node.dbname()));
        });
    }

    public PoolerSpec spec() {
        return spec;
    }

    /** {@code host:port/dbname} the aliases point at after the switch. */
    public String targetLabel() {
        return label(target.host(), target.port(), target.dbname());
    }

    // ------------------------------------------------------------------ preflight

    /** Every check, read-only; nothing is paused or written. Before a cutover: the aliases must lead to the source. */
    public List<Check> preflight() {
        return preflight(false);
    }

    /**
     * Every check, read-only. {@code cutOver}: node 0 records the cutover as done, so an alias that leads to the
     * cluster is where the cutover's switch left it (a restarted {@code run} then points it there again), not a
     * mistake to refuse.
     */
    public List<Check> preflight(boolean cutOver) {
        List<Check> out = Collections.synchronizedList(new ArrayList<>());
        List<CompletableFuture<Void>> all = new ArrayList<>();
        ExecutorService pool = daemonPool();
        try {
            for (int i = 0; i < spec.pgbouncers().size(); i++) {
                int index = i;
                all.add(CompletableFuture.runAsync(() -> new PoolerChecks(this, index, cutOver, out).run(), pool));
            }
            all.forEach(CompletableFuture::join);
        } finally {
            pool.shutdownNow();
        }
        return List.copyOf(out);
    }

    Duration pauseBudget() {
        return spec.pauseTimeout().plus(FREEZE_ALLOWANCE);
    }

    ConnInfo source() {
        return source;
    }

    Target target() {
        return target;
    }

    /**
     * Starts the cutover probe ({@link PoolerProbe}): a writer and a reader through every listed alias, logged in as the
     * source's user. {@code shardlift.cutover_probe} must exist on the source and on the target node.
     */
    public PoolerProbe startProbe(String cutoverId) {
        // a statement waiting longer than the pause could last is hung, not paused
        return PoolerProbe.start(spec.pgbouncers(), source, cutoverId, pauseBudget().plusSeconds(30));
    }

    // ------------------------------------------------------------------ pause

    /** {@link #pauseAll(Duration)} with {@code pooler.pause_timeout}. */
    public Pause pauseAll() {
        return pauseAll(spec.pauseTimeout());
    }

    /**
     * PAUSEs every listed alias on every PgBouncer at once and waits, at most {@code timeout}, until all have
     * released their server connections. All or nothing: if one does not pause in time (or fails), every alias
     * is RESUMEd and {@link PauseRefused} names the instance, the alias and what holds it.
     */
    public Pause pauseAll(Duration timeout) {
        Instant issued = Instant.now();
        long start = System.nanoTime();
        List<PauseTask> tasks = new ArrayList<>();
        ExecutorService pool = daemonPool();
        try {
            for (PgBouncerSpec b : spec.pgbouncers()) {
                for (String alias : b.databases()) {
                    PauseTask t = new PauseTask(b, alias);
                    t.future = CompletableFuture.runAsync(t, pool);
                    tasks.add(t);
                }
            }
            long deadline = start + timeout.toNanos();
            List<String> failures = new ArrayList<>();
            List<PauseTask> pending = new ArrayList<>();
            for (PauseTask t : tasks) {
                try {
                    t.future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (TimeoutException e) {
                    pending.add(t);
                } catch (ExecutionException e) {
                    Throwable c = e.getCause() != null ? e.getCause() : e;
                    failures.add("pgbouncer " + t.instance.label() + ": PAUSE " + t.alias + " failed: " + c.getMessage());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    pending.add(t);
                }
            }
            if (pending.isEmpty() && failures.isEmpty()) {
                Duration took = Duration.ofNanos(System.nanoTime() - start);
                LOG.info("pooler: {} alias(es) paused on {} PgBouncer(s) in {} ms", tasks.size(), spec.pgbouncers().size(),
                        took.toMillis());
                return new Pause(issued, took);
            }
            for (PauseTask t : pending) {
                failures.add("pgbouncer " + t.instance.label() + ": PAUSE " + t.alias + " did not complete within "
                        + millis(timeout) + ": " + holders(t.instance, t.alias));
            }
            // every task must be over before RESUME: one still connecting would otherwise PAUSE after it
            tasks.forEach(PauseTask::abandon);
            for (PauseTask t : tasks) {
                try {
                    t.future.get(PgBouncerAdmin.CONNECT_TIMEOUT_S + 1L, TimeUnit.SECONDS);
                } catch (ExecutionException | TimeoutException e) {
                    // abandoned: its connection is closed, or it never got one
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            List<String> resumeProblems = resumeEverywhere();
            String message = String.join("; ", failures) + (resumeProblems.isEmpty()
                    ? "; every alias was RESUMEd and nothing changed"
                    : "; RESUME failed: " + String.join("; ", resumeProblems) + " — RESUME those aliases by hand");
            throw new PauseRefused(message);
        } finally {
            tasks.forEach(PauseTask::abandon);
            pool.shutdownNow();
        }
    }

    /** One PAUSE on a connection of its own, so a slow alias does not hold up the others. */
    private static final class PauseTask implements Runnable {
        final PgBouncerSpec instance;
        final String alias;
        volatile PgBouncerAdmin admin;
        volatile boolean abandoned;
        volatile CompletableFuture<Void> future;

        PauseTask(PgBouncerSpec instance, String alias) {
            this.instance = instance;
            this.alias = alias;
        }

        @Override
        public void run() {
            try {
                PgBouncerAdmin a = PgBouncerAdmin.connect(instance);
                synchronized (this) {
                    admin = a;
                    if (abandoned) {
                        a.abort();
                        return;
                    }
                }
                a.pause(alias);
            } catch (IOException e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
        }

        /** Closes the connection under a PAUSE in flight; a task still connecting will not PAUSE at all. */
        synchronized void abandon() {
            abandoned = true;
            if (admin != null) {
                admin.abort();
            }
        }
    }

    /** What keeps {@code alias} from pausing: its active server connections and the clients linked to them. */
    private String holders(PgBouncerSpec instance, String alias) {
        try (PgBouncerAdmin admin = PgBouncerAdmin.connect(instance)) {
            int svActive = 0;
            int clActive = 0;
            int clWaiting = 0;
            for (Pool p : admin.pools()) {
                if (alias.equals(p.database())) {
                    svActive += p.svActive();
                    clActive += p.clActive();
                    clWaiting += p.clWaiting();
                }
            }
            List<String> linked = admin.clients().stream().filter(c -> alias.equals(c.database()) && c.linked())
                    .map(Client::describe).toList();
            return svActive + " server connection" + (svActive == 1 ? "" : "s") + " still active (SHOW POOLS: sv_active "
                    + svActive + ", cl_active " + clActive + ", cl_waiting " + clWaiting + ")"
                    + (linked.isEmpty() ? "" : ", held by " + String.join(", ", linked.subList(0, Math.min(5, linked.size())))
                    + (linked.size() > 5 ? " and " + (linked.size() - 5) + " more" : ""))
                    + " — a transaction open through the pooler keeps its server connection until it ends";
        } catch (IOException e) {
            return "(SHOW POOLS failed: " + e.getMessage() + ")";
        }
    }

    // ------------------------------------------------------------------ switch, resume, recover

    /**
     * Points every listed alias at the target node: rewrites each include file (atomically, the previous version
     * kept), RELOADs, and checks PgBouncer now says so. Call only with the source fenced and drained.
     */
    public void switchToCluster() {
        for (PgBouncerSpec b : spec.pgbouncers()) {
            try {
                boolean changed = IncludeFile.switchTo(b.includeFile(), b.databases(), target);
                reloadAndCheck(b, Points.CLUSTER);
                LOG.info("pooler: {} {} now point at {}{}", b.label(), b.databases(), targetLabel(),
                        changed ? "" : " (the include file already said so)");
            } catch (IOException e) {
                throw new IllegalStateException("pgbouncer " + b.label() + ": cannot rewrite " + b.includeFile() + ": "
                        + e.getMessage(), e);
            }
        }
    }

    /** Puts back each include file's previous version and RELOADs: the aliases point at the source again. */
    public void switchBack() {
        for (PgBouncerSpec b : spec.pgbouncers()) {
            try {
                IncludeFile.restorePrevious(b.includeFile());
                reloadAndCheck(b, Points.SOURCE);
                LOG.info("pooler: {} {} point at the source again", b.label(), b.databases());
            } catch (IOException e) {
                throw new IllegalStateException("pgbouncer " + b.label() + ": cannot restore " + b.includeFile() + ": "
                        + e.getMessage(), e);
            }
        }
    }

    private void reloadAndCheck(PgBouncerSpec b, Points expected) {
        try (PgBouncerAdmin admin = PgBouncerAdmin.connect(b)) {
            admin.reload();
            Map<String, Database> dbs = admin.databases().stream().collect(Collectors.toMap(Database::name, d -> d, (x, y) -> x));
            for (String alias : b.databases()) {
                Database d = dbs.get(alias);
                Points p = d == null ? Points.MISSING : points(d);
                if (p != expected) {
                    throw new IllegalStateException("pgbouncer " + b.label() + ": after RELOAD alias " + alias + " points at "
                            + (d == null ? "nothing (no such alias)" : d.target()) + ", not at the "
                            + expected.name().toLowerCase(Locale.ROOT) + " — is " + b.includeFile()
                            + " the file pgbouncer.ini pulls in with %include?");
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("pgbouncer " + b.label() + ": RELOAD failed: " + e.getMessage(), e);
        }
    }

    /**
     * RESUMEs every listed alias that is paused, on every PgBouncer; tries them all before failing.
     *
     * @return when the last RESUME was done (the end of the client-visible pause)
     */
    public Instant resumeAll() {
        Instant before = Instant.now();
        List<String> problems = resumeEverywhere();
        if (!problems.isEmpty()) {
            throw new IllegalStateException("RESUME failed: " + String.join("; ", problems)
                    + " — the aliases named are still paused; RESUME them on the admin console");
        }
        // not now: after the last RESUME the pool's first login is awaited (withoutLoginRetry), clients run meanwhile
        Instant last = lastResumed;
        return last != null && last.isAfter(before) ? last : Instant.now();
    }

    /** When the last RESUME answered. */
    private volatile Instant lastResumed;

    private List<String> resumeEverywhere() {
        List<String> problems = new ArrayList<>();
        for (AliasState s : recover()) {
            if (s.error() != null || (s.wasPaused() && !s.resumed())) {
                problems.add(s.toString());
            }
        }
        return problems;
    }

    /**
     * After a crash, or whenever in doubt: RESUMEs whatever listed alias is paused (a paused alias is an outage),
     * and says for each alias where it points. Never throws for one instance: an unreachable one is reported.
     *
     * <p>Every RESUME goes through here, and each is wrapped in {@link #withoutLoginRetry}: PAUSE closes the server
     * connections of the alias, those still logging in too, and PgBouncer takes a closed login for a failed one, after
     * which it opens no new server connection for {@code server_login_retry} (15 s by default). Clients resumed then
     * find no server connection and wait the rest of those seconds: the 7-11 s stalls the cutover probe saw. (Shown on
     * PgBouncer 1.18 with pgbench through it: PAUSE/RESUME while the pool grows, then no transaction for 14 s;
     * janitor.c closes {@code new_server_list} in pause mode, objects.c sets {@code last_connect_failed} for a server
     * closed in login.)
     */
    public List<AliasState> recover() {
        List<AliasState> out = new ArrayList<>();
        for (PgBouncerSpec b : spec.pgbouncers()) {
            try (PgBouncerAdmin admin = PgBouncerAdmin.connect(b)) {
                Map<String, Database> dbs = admin.databases().stream()
                        .collect(Collectors.toMap(Database::name, d -> d, (x, y) -> x));
                List<String> paused = b.databases().stream().filter(a -> dbs.get(a) != null && dbs.get(a).paused()).toList();
                Map<String, String> errors = new java.util.HashMap<>();
                withoutLoginRetry(admin, paused, () -> {
                    for (String alias : paused) {
                        try {
                            admin.resume(alias);
                            lastResumed = Instant.now();
                            LOG.info("pooler: {} alias {} was paused: RESUMEd", b.label(), alias);
                        } catch (IOException e) {
                            errors.put(alias, "pgbouncer " + b.label() + " alias " + alias + ": RESUME failed: " + e.getMessage());
                        }
                    }
                });
                for (String alias : b.databases()) {
                    Database d = dbs.get(alias);
                    if (d == null) {
                        out.add(new AliasState(b.label(), alias, false, false, Points.MISSING, "-", null));
                        continue;
                    }
                    String error = errors.get(alias);
                    out.add(new AliasState(b.label(), alias, d.paused(), d.paused() && error == null, points(d), d.target(), error));
                }
            } catch (IOException e) {
                for (String alias : b.databases()) {
                    out.add(new AliasState(b.label(), alias, false, false, Points.UNKNOWN, "-",
                            "pgbouncer " + b.label() + ": cannot reach the admin console: " + e.getMessage()));
                }
            }
        }
        return out;
    }

    /** How long the pool may take to log in a server connection after RESUME before the setting is put back. */
    private static final Duration LOGIN_SETTLE = Duration.ofSeconds(2);

    /**
     * Runs {@code resume} with {@code server_login_retry} at 0, then waits until every resumed alias's pool that has
     * clients has a logged-in server connection again (at most {@link #LOGIN_SETTLE}: what clears PgBouncer's
     * failed-login mark is a login that succeeds) and SETs the value back. The value lives in memory only: a crash
     * in between leaves 0 until PgBouncer's next RELOAD or restart (it then retries a server that refuses logins at
     * once rather than every 15 s); the operator is told in the log.
     */
    private static void withoutLoginRetry(PgBouncerAdmin admin, List<String> aliases, Runnable resume) throws IOException {
        String before = aliases.isEmpty() ? null : admin.config().get("server_login_retry");
        boolean lifted = false;
        if (before != null && before.strip().matches("[0-9.]+") && Double.parseDouble(before.strip()) > 0) {
            try {
                admin.set("server_login_retry", "0");
                lifted = true;
            } catch (IOException e) {
                LOG.warn("pooler: {}: could not SET server_login_retry = 0 before RESUME ({}); clients may wait up to"
                        + " server_login_retry for a server connection", admin.instance().label(), e.getMessage());
            }
        }
        resume.run();
        if (!lifted) {
            return;
        }
        long deadline = System.nanoTime() + LOGIN_SETTLE.toNanos();
        try {
            while (System.nanoTime() < deadline && !settled(admin, aliases)) {
                Thread.sleep(20);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            try {
                admin.set("server_login_retry", before.strip());
            } catch (IOException e) {
                LOG.warn("pooler: {}: server_login_retry is still 0 after RESUME ({}); RELOAD that PgBouncer to restore"
                        + " {} from its configuration", admin.instance().label(), e.getMessage(), before.strip());
            }
        }
    }

    private static boolean settled(PgBouncerAdmin admin, List<String> aliases) throws IOException {
        for (Pool p : admin.pools()) {
            // a pool with clients and no server connection has not logged one in since RESUME yet
            if (aliases.contains(p.database()) && p.clActive() + p.clWaiting() > 0 && p.serversUp() == 0) {
                return false;
            }
        }
        return true;
    }

    // ------------------------------------------------------------------ helpers

    Points points(Database d) {
        if (same(d.host(), d.port(), d.database(), source.host(), source.port(), source.dbname())) {
            return Points.SOURCE;
        }
        if (same(d.host(), d.port(), d.database(), target.host(), target.port(), target.dbname())) {
            return Points.CLUSTER;
        }
        return Points.ELSEWHERE;
    }

    static boolean same(String h1, int p1, String d1, String h2, int p2, String d2) {
        return p1 == p2 && d1 != null && d1.equals(d2) && h1 != null && normalHost(h1).equals(normalHost(h2));
    }

    private static String normalHost(String h) {
        String l = h.toLowerCase(Locale.ROOT);
        return LOOPBACK.contains(l) ? "localhost" : l;
    }

    static String label(String host, int port, String dbname) {
        return (host != null && host.contains(":") ? "[" + host + "]" : host) + ":" + port + "/" + dbname;
    }

    static String millis(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    private static ExecutorService daemonPool() {
        return Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "shardlift-pooler");
            t.setDaemon(true);
            return t;
        });
    }

    static boolean writable(Path file) {
        Path dir = file.toAbsolutePath().getParent();
        return Files.isWritable(file) && dir != null && Files.isWritable(dir);
    }
}
