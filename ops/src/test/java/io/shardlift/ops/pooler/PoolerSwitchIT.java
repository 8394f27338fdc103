package io.shardlift.ops.pooler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlift.ops.pooler.IncludeFile.Target;
import io.shardlift.ops.pooler.PoolerSwitch.AliasState;
import io.shardlift.ops.pooler.PoolerSwitch.Check;
import io.shardlift.ops.pooler.PoolerSwitch.Points;
import io.shardlift.core.spec.ConnInfo;
import io.shardlift.core.spec.PoolerSpec;
import io.shardlift.core.spec.PoolerSpec.PgBouncerSpec;
import io.shardlift.testkit.PgBouncer;
import io.shardlift.embedded.PgNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * The switch through a real PgBouncer (transaction pooling) between two real PostgreSQL servers: A plays the
 * source, B the cluster's target node. Clients write through PgBouncer the whole time; they must see no error.
 */
class PoolerSwitchIT {

    static final String DB = "app";
    static PgNode a;
    static PgNode b;

    final List<PgBouncer> bouncers = new ArrayList<>();

    @BeforeAll
    static void servers() {
        requirePgBouncer();
        a = PgNode.start("pooler-a").createDatabase(DB);
        b = PgNode.start("pooler-b").createDatabase(DB);
    }

    /** Missing pgbouncer fails on CI (it installs it) and skips, saying why, elsewhere. */
    static void requirePgBouncer() {
        PgBouncer.unavailable().ifPresent(why -> {
            if ("true".equals(System.getenv("CI"))) {
                throw new IllegalStateException("CI=true but " + why);
            }
            Assumptions.abort(why);
        });
    }

    @AfterAll
    static void stopServers() {
        if (a != null) {
            a.close();
        }
        if (b != null) {
            b.close();
        }
    }

    @BeforeEach
    void freshTable(TestInfo info) {
        for (PgNode n : List.of(a, b)) {
            n.execute(DB, "DROP TABLE IF EXISTS writes", "CREATE TABLE writes (writer int, seq int, PRIMARY KEY (writer, seq))");
        }
    }

    @AfterEach
    void stopBouncers() {
        bouncers.forEach(PgBouncer::close);
    }

    PgBouncer bouncer(String name, Map<String, String> settings, String... lines) {
        PgBouncer bouncer = PgBouncer.start(name, List.of(lines), settings);
        bouncers.add(bouncer);
        return bouncer;
    }

    PgBouncer bouncerOnA(String name) {
        return bouncer(name, Map.of(), PgBouncer.databaseLine("app", a, DB, "pool_size=4"));
    }

    static PgBouncerSpec instance(PgBouncer bouncer, String... aliases) {
        return new PgBouncerSpec(ConnInfo.parse(bouncer.adminConnstr()), bouncer.includeFile(), List.of(aliases));
    }

    static PoolerSwitch switchOf(Duration pauseTimeout, PgBouncerSpec... instances) {
        return new PoolerSwitch(new PoolerSpec(List.of(instances), pauseTimeout, 0), ConnInfo.parse(a.connstr(DB)),
                new Target(b.host(), b.port(), DB));
    }

    /** Autocommit inserts through PgBouncer, each acknowledged one remembered; every error counted. */
    static final class Writers implements AutoCloseable {
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicInteger errors = new AtomicInteger();
        final AtomicReference<String> firstError = new AtomicReference<>();
        final Set<String> acknowledged = ConcurrentHashMap.newKeySet();
        /** Inserts begun after {@link #markResumed()}: they must land on B. */
        final Set<String> afterResume = ConcurrentHashMap.newKeySet();
        volatile boolean resumed;
        final List<Thread> threads = new ArrayList<>();

        Writers(List<PgBouncer> through, int perBouncer) {
            int id = 0;
            for (PgBouncer bouncer : through) {
                for (int i = 0; i < perBouncer; i++) {
                    int writer = id++;
                    Thread t = new Thread(() -> write(bouncer, writer), "writer-" + writer);
                    t.setDaemon(true);
                    threads.add(t);
                }
            }
            threads.forEach(Thread::start);
        }

        void write(PgBouncer bouncer, int writer) {
            Properties p = new Properties();
            p.setProperty("user", "postgres");
            try (Connection c = DriverManager.getConnection(bouncer.jdbcUrl(DB), p); Statement st = c.createStatement()) {
                for (int seq = 0; !stop.get(); seq++) {
                    boolean after = resumed;
                    try {
                        st.executeUpdate("INSERT INTO writes VALUES (" + writer + ", " + seq + ")");
                        acknowledged.add(writer + ":" + seq);
                        if (after) {
                            afterResume.add(writer + ":" + seq);
                        }
                    } catch (SQLException e) {
                        errors.incrementAndGet();
                        firstError.compareAndSet(null, e.getMessage());
                    }
                    Thread.sleep(2);
                }
            } catch (SQLException e) {
                errors.incrementAndGet();
                firstError.compareAndSet(null, "connect: " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        void markResumed() {
            resumed = true;
        }

        int count() {
            return acknowledged.size();
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            for (Thread t : threads) {
                t.join(30_000);
            }
        }
    }

    static void waitForWrites(Writers w, int more) throws InterruptedException {
        int target = w.count() + more;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (w.count() < target && System.nanoTime() < deadline && w.errors.get() == 0) {
            Thread.sleep(20);
        }
    }

    static Set<String> rows(PgNode node) throws SQLException {
        Set<String> out = new HashSet<>();
        try (Connection c = node.connect(DB); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT writer, seq FROM writes")) {
            while (rs.next()) {
                out.add(rs.getInt(1) + ":" + rs.getInt(2));
            }
        }
        return out;
    }

    /** Every acknowledged write is on A or on B, once; everything begun after RESUME is on B. */
    static void assertWritesLanded(Writers w) throws SQLException {
        assertThat(w.errors.get()).as("client errors (first: %s)", w.firstError.get()).isZero();
        Set<String> onA = rows(a);
        Set<String> onB = rows(b);
        assertThat(onA).doesNotContainAnyElementsOf(onB);
        Set<String> both = new HashSet<>(onA);
        both.addAll(onB);
        assertThat(both).isEqualTo(w.acknowledged);
        assertThat(w.afterResume).isNotEmpty();
        assertThat(onB).containsAll(w.afterResume);
        assertThat(onA).isNotEmpty();
    }

    @Test
    void clientsWritingThroughTheSwitchSeeNoErrorAndLandOnTheTarget() throws Exception {
        PgBouncer bouncer = bouncerOnA("one");
        PoolerSwitch sw = switchOf(Duration.ofSeconds(5), instance(bouncer, "app"));
        assertThat(sw.preflight()).allMatch(Check::ok, "every check passes");
        PoolerSwitch.Pause pause;
        java.time.Instant resumed;
        try (Writers w = new Writers(List.of(bouncer), 4)) {
            waitForWrites(w, 200);
            pause = sw.pauseAll();
            sw.switchToCluster();
            resumed = sw.resumeAll();
            w.markResumed();
            waitForWrites(w, 200);
            w.close();
            assertWritesLanded(w);
        }
        System.out.printf("pause: PAUSE took %d ms, PAUSE issued -> RESUME done %d ms%n", pause.took().toMillis(),
                Duration.between(pause.issued(), resumed).toMillis());
        assertThat(sw.recover()).extracting(AliasState::points).containsOnly(Points.CLUSTER);
        // a run restarted before the cutover finds the alias switched and refuses; after a recorded CUT_OVER that is
        // where the cutover left it (a restarted run was refused with exit 4 before)
        assertThat(sw.preflight()).filteredOn(c -> !c.ok()).extracting(Check::message)
                .singleElement().asString().contains("points at the cluster already");
        assertThat(sw.preflight(true)).allMatch(Check::ok, "every check passes once the cutover is done")
                .extracting(Check::message).anyMatch(m -> m.contains("alias app points at") && m.contains("switched by the cutover"));
        assertThat(Files.readString(IncludeFile.previous(bouncer.includeFile()))).contains("port=" + a.port());
        assertThat(Files.readString(bouncer.includeFile())).contains("port=" + b.port()).contains("pool_size=4");

        // and back: the previous version, RELOADed
        sw.switchBack();
        assertThat(sw.recover()).extracting(AliasState::points).containsOnly(Points.SOURCE);
    }

    /**
     * PAUSE closes the alias's server connections, those still logging in too, and PgBouncer then takes the pool for
     * one whose logins fail: no new server connection for {@code server_login_retry}. Clients resumed after such a
     * PAUSE found no server and waited up to 15 s (the default), the cutover probe's 7-11 s stalls. Here the setting is
     * 600 s, so a stall is a hang: PAUSE/RESUME cycles while the pool grows back after each RESUME (servers logging in
     * when the next PAUSE comes), then every client must get through again, and the setting must be back.
     */
    @Test
    void clientsResumedAfterAPauseThatClosedServersStillLoggingInGetAServerAtOnce() throws Exception {
        PgBouncer bouncer = bouncer("retry", Map.of("server_login_retry", "600"),
                PgBouncer.databaseLine("app", a, DB, "pool_size=10"));
        PoolerSwitch sw = switchOf(Duration.ofSeconds(5), instance(bouncer, "app"));
        int writers = 8;
        java.util.Random random = new java.util.Random(7);
        try (Writers w = new Writers(List.of(bouncer), writers)) {
            waitForWrites(w, 100);
            for (int cycle = 0; cycle < 12; cycle++) {
                sw.pauseAll();
                Thread.sleep(30);
                if (cycle == 11) {
                    w.markResumed();
                }
                sw.resumeAll();
                // the next PAUSE while the pool logs its servers in again, one at a time
                Thread.sleep(5 + random.nextInt(60));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < deadline && writersThrough(w) < writers) {
                Thread.sleep(20);
            }
            assertThat(writersThrough(w)).as("writers with a write after the last RESUME (a stalled pool: fewer)"
                    + "; PgBouncer's log: " + bouncer.logTail()).isEqualTo(writers);
            w.close();
            assertThat(w.errors.get()).as("client errors (first: %s)", w.firstError.get()).isZero();
        }
        try (PgBouncerAdmin admin = PgBouncerAdmin.connect(instance(bouncer, "app"))) {
            assertThat(admin.config()).as("the setting is put back after RESUME").containsEntry("server_login_retry", "600");
        }
        assertThat(rows(a)).hasSizeGreaterThan(100);
    }

    private static long writersThrough(Writers w) {
        return w.afterResume.stream().map(k -> k.substring(0, k.indexOf(':'))).distinct().count();
    }

    @Test
    void aPauseThatCannotCompleteIsRefusedNamingWhatHoldsItAndEverythingIsResumed() throws Exception {
        PgBouncer bouncer = bouncerOnA("held");
        PoolerSwitch sw = switchOf(Duration.ofSeconds(1), instance(bouncer, "app"));
        String includeBefore = Files.readString(bouncer.includeFile());
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("ApplicationName", "long-report");
        try (Connection holder = DriverManager.getConnection(bouncer.jdbcUrl(DB), p)) {
            holder.setAutoCommit(false);
            try (Statement st = holder.createStatement()) {
                st.executeUpdate("INSERT INTO writes VALUES (99, 1)");
            }
            assertThatThrownBy(sw::pauseAll).isInstanceOf(PoolerSwitch.PauseRefused.class)
                    .hasMessageContaining("pgbouncer " + instance(bouncer).label() + ": PAUSE app did not complete within 1 s")
                    .hasMessageContaining("1 server connection still active")
                    .hasMessageContaining("held by postgres@127.0.0.1")
                    .hasMessageContaining("long-report")
                    .hasMessageContaining("every alias was RESUMEd and nothing changed");
            // the holder goes on: its transaction commits through the pooler
            holder.commit();
        }
        assertThat(sw.recover()).singleElement().satisfies(s -> {
            assertThat(s.wasPaused()).isFalse();
            assertThat(s.points()).isEqualTo(Points.SOURCE);
        });
        assertThat(Files.readString(bouncer.includeFile())).isEqualTo(includeBefore);
        assertThat(IncludeFile.previous(bouncer.includeFile())).doesNotExist();
        // new clients get through: nothing is left paused
        try (Connection c = DriverManager.getConnection(bouncer.jdbcUrl(DB), "postgres", "");
             Statement st = c.createStatement()) {
            st.setQueryTimeout(30);
            assertThat(st.executeUpdate("INSERT INTO writes VALUES (99, 2)")).isEqualTo(1);
        }
        assertThat(rows(a)).contains("99:1", "99:2");
    }

    @Test
    void oneInstanceThatCannotPauseResumesTheOtherToo() throws Exception {
        PgBouncer free = bouncerOnA("free");
        PgBouncer held = bouncerOnA("busy");
        PoolerSwitch sw = switchOf(Duration.ofMillis(800), instance(free, "app"), instance(held, "app"));
        try (Connection holder = DriverManager.getConnection(held.jdbcUrl(DB), "postgres", "")) {
            holder.setAutoCommit(false);
            try (Statement st = holder.createStatement()) {
                st.executeUpdate("INSERT INTO writes VALUES (98, 1)");
            }
            assertThatThrownBy(sw::pauseAll).isInstanceOf(PoolerSwitch.PauseRefused.class)
                    .hasMessageStartingWith("pgbouncer 127.0.0.1:" + held.port() + ": PAUSE app did not complete within 800 ms")
                    .hasMessageNotContaining("127.0.0.1:" + free.port())
                    .hasMessageEndingWith("every alias was RESUMEd and nothing changed");
            holder.rollback();
        }
        assertThat(sw.recover()).hasSize(2).noneMatch(AliasState::wasPaused);
    }

    @Test
    void aPauseLeftInPlaceIsPausedAgainAndSwitchedAsIs() throws Exception {
        PgBouncer bouncer = bouncerOnA("again");
        PoolerSwitch sw = switchOf(Duration.ofSeconds(5), instance(bouncer, "app"));
        sw.pauseAll();
        // a cutover that restarts after a crash may find its own PAUSE still in place
        sw.pauseAll();
        sw.switchToCluster();
        sw.switchToCluster();
        sw.resumeAll();
        assertThat(sw.recover()).singleElement().satisfies(s -> {
            assertThat(s.wasPaused()).isFalse();
            assertThat(s.points()).isEqualTo(Points.CLUSTER);
        });
        assertThat(Files.readString(IncludeFile.previous(bouncer.includeFile()))).contains("port=" + a.port());
    }

    @Test
    void anIncludeFilePgBouncerDoesNotReadIsNamedAfterReload() throws Exception {
        PgBouncer bouncer = bouncerOnA("elsewhere");
        Path stray = bouncer.dir().resolve("not-included.ini");
        Files.writeString(stray, PgBouncer.databaseLine("app", a, DB, "") + "\n");
        PoolerSwitch sw = new PoolerSwitch(new PoolerSpec(List.of(new PgBouncerSpec(ConnInfo.parse(bouncer.adminConnstr()),
                stray, List.of("app"))), Duration.ofSeconds(2), 0), ConnInfo.parse(a.connstr(DB)), new Target(b.host(), b.port(), DB));
        assertThatThrownBy(sw::switchToCluster).hasMessage("pgbouncer 127.0.0.1:" + bouncer.port() + ": after RELOAD alias app "
                + "points at 127.0.0.1:" + a.port() + "/app, not at the cluster — is " + stray
                + " the file pgbouncer.ini pulls in with %include?");
    }

    @Test
    void twoPgBouncersAreSwitchedTogether() throws Exception {
        PgBouncer one = bouncerOnA("first");
        PgBouncer two = bouncerOnA("second");
        PoolerSwitch sw = switchOf(Duration.ofSeconds(5), instance(one, "app"), instance(two, "app"));
        try (Writers w = new Writers(List.of(one, two), 2)) {
            waitForWrites(w, 200);
            sw.pauseAll();
            assertThat(sw.recover().stream().filter(AliasState::wasPaused).count())
                    .as("recover() RESUMEs: called here only to check both were paused").isEqualTo(2);
            sw.pauseAll();
            sw.switchToCluster();
            sw.resumeAll();
            w.markResumed();
            waitForWrites(w, 200);
            w.close();
            assertWritesLanded(w);
        }
        assertThat(sw.recover()).hasSize(2).allSatisfy(s -> assertThat(s.points()).isEqualTo(Points.CLUSTER));
    }

    @Test
    void recoverResumesAnAliasLeftPausedByAKilledProcess() throws Exception {
        PgBouncer bouncer = bouncerOnA("crash");
        PoolerSwitch sw = switchOf(Duration.ofSeconds(5), instance(bouncer, "app"));
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), PauseAndWait.class.getName(), String.valueOf(bouncer.port()), "app")
                .redirectErrorStream(true).start();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            assertThat(r.readLine()).isEqualTo("paused");
            child.destroyForcibly().waitFor(30, TimeUnit.SECONDS); // SIGKILL: nothing of it runs on
        }
        List<AliasState> states = sw.recover();
        assertThat(states).singleElement().satisfies(s -> {
            assertThat(s.wasPaused()).isTrue();
            assertThat(s.resumed()).isTrue();
            assertThat(s.points()).isEqualTo(Points.SOURCE);
            assertThat(s.toString()).contains("alias app: was paused, RESUMEd; points at the source (127.0.0.1:" + a.port());
        });
        try (Connection c = DriverManager.getConnection(bouncer.jdbcUrl(DB), "postgres", "");
             Statement st = c.createStatement()) {
            st.setQueryTimeout(30);
            assertThat(st.executeUpdate("INSERT INTO writes VALUES (7, 7)")).isEqualTo(1);
        }
        assertThat(sw.recover()).singleElement().satisfies(s -> assertThat(s.wasPaused()).isFalse());
    }

    @Test
    void preflightNamesWhatWouldBreakTheSwitch() {
        PgBouncer bouncer = bouncer("findings", Map.of("pool_mode", "session", "query_wait_timeout", "5"),
                PgBouncer.databaseLine("app", a, DB, "pool_size=4"),
                PgBouncer.databaseLine("stray", b, DB, ""));
        PoolerSwitch sw = switchOf(Duration.ofSeconds(2), instance(bouncer, "app", "stray", "ghost"));
        List<String> problems = sw.preflight().stream().filter(c -> !c.ok()).map(Check::message).toList();
        String key = "pooler.pgbouncer[0] (127.0.0.1:" + bouncer.port() + "): ";
        assertThat(problems).contains(
                key + "has no database alias ghost (SHOW DATABASES) — define it in " + bouncer.includeFile()
                        + " pointing at the source 127.0.0.1:" + a.port() + "/app, or fix pooler.pgbouncer databases:",
                key + "include_file " + bouncer.includeFile() + " has no line for ghost — move each switched alias's "
                        + "[databases] line from pgbouncer.ini into " + bouncer.includeFile(),
                key + "query_wait_timeout is 5 s, not longer than the pause budget of 12 s (pooler.pause_timeout 2 s + 10 s for "
                        + "the freeze): clients waiting through the pause would be disconnected with an error — set "
                        + "query_wait_timeout to at least 13 (or 0) in pgbouncer.ini and RELOAD");
        assertThat(problems).anySatisfy(m -> assertThat(m).startsWith(key + "alias stray points at 127.0.0.1:" + b.port()
                + "/app but the source (migrate.connstr) is 127.0.0.1:" + a.port() + "/app (it points at the cluster already"));
        assertThat(problems).anySatisfy(m -> assertThat(m).startsWith(key + "alias app uses pool_mode session: PAUSE waits "
                + "until every client disconnects").contains("pool_mode = transaction"));
    }

    @Test
    void theConsoleIsReachedWithAPasswordOverScramAndMd5() {
        for (String auth : List.of("scram-sha-256", "md5")) {
            PgBouncer bouncer = PgBouncer.start("auth-" + auth, List.of(PgBouncer.databaseLine("app", a, DB, "")),
                    Map.of("auth_type", auth, "admin_users", "shardlift_admin"),
                    Map.of("postgres", "", "shardlift_admin", "c0rrect-horse"));
            bouncers.add(bouncer);
            String console = "host=127.0.0.1 port=" + bouncer.port() + " dbname=pgbouncer user=shardlift_admin";
            PoolerSwitch good = switchOf(Duration.ofSeconds(2), new PgBouncerSpec(ConnInfo.parse(console
                    + " password=c0rrect-horse"), bouncer.includeFile(), List.of("app")));
            assertThat(good.preflight()).as(auth).filteredOn(c -> !c.ok()).isEmpty();
            good.pauseAll();
            assertThat(good.recover()).as(auth).singleElement().satisfies(s -> assertThat(s.resumed()).isTrue());

            PoolerSwitch bad = switchOf(Duration.ofSeconds(2), new PgBouncerSpec(ConnInfo.parse(console
                    + " password=wr0ng-horse"), bouncer.includeFile(), List.of("app")));
            assertThat(bad.preflight()).as(auth).filteredOn(c -> !c.ok()).singleElement().satisfies(c -> assertThat(c.message())
                    .startsWith("pooler.pgbouncer[0] (127.0.0.1:" + bouncer.port() + "): cannot reach the admin console: ")
                    .contains("check admin:").doesNotContain("wr0ng-horse"));
        }
    }

    @Test
    void preflightNamesAnAliasInSessionModeOnItsOwnLineAndAnAliasPausedNow() {
        PgBouncer bouncer = bouncer("alias-mode", Map.of(), PgBouncer.databaseLine("app", a, DB, "pool_mode=session"));
        PoolerSwitch sw = switchOf(Duration.ofSeconds(2), instance(bouncer, "app"));
        sw.pauseAll();
        try {
            String key = "pooler.pgbouncer[0] (127.0.0.1:" + bouncer.port() + "): ";
            // paused now is said, not refused: `run` must start after a cutover killed while paused, to RESUME it
            assertThat(sw.preflight()).filteredOn(Check::ok).extracting(Check::message).contains(key + "alias app is paused now:"
                    + " its clients wait — shardlift run RESUMEs it on start (a cutover interrupted while paused leaves it so),"
                    + " or RESUME app on the admin console");
            assertThat(sw.preflight()).filteredOn(c -> !c.ok()).extracting(Check::message).containsExactlyInAnyOrder(
                    key + "alias app uses pool_mode session: PAUSE waits until every client disconnects, so it cannot "
                            + "complete while the application is connected — set pool_mode=transaction on the alias's line in "
                            + bouncer.includeFile() + " and RELOAD");
        } finally {
            sw.resumeAll();
        }
    }

    @Test
    void preflightNamesAnAdminConsoleUserWithoutAdminRights() {
        PgBouncer bouncer = bouncer("rights", Map.of("admin_users", "someone_else", "stats_users", "postgres"),
                PgBouncer.databaseLine("app", a, DB, ""));
        PoolerSwitch sw = switchOf(Duration.ofSeconds(2), instance(bouncer, "app"));
        assertThat(sw.preflight()).filteredOn(c -> !c.ok()).extracting(Check::message).containsExactly(
                "pooler.pgbouncer[0] (127.0.0.1:" + bouncer.port() + "): user postgres is not in admin_users "
                        + "(\"someone_else\"): it can SHOW but not PAUSE, RESUME or RELOAD — add postgres to admin_users in "
                        + "pgbouncer.ini and RELOAD");
    }

    @Test
    void preflightNamesAnIncludeFileShardliftCannotWrite() throws Exception {
        PgBouncer bouncer = bouncerOnA("readonly");
        Path dir = bouncer.includeFile().getParent();
        boolean root = "root".equals(System.getProperty("user.name"));
        // root writes anywhere permissions say no: an immutable directory is what stops it
        Process lock = new ProcessBuilder(root ? List.of("chattr", "+i", dir.toString()) : List.of("chmod", "555", dir.toString()))
                .redirectErrorStream(true).start();
        Assumptions.assumeTrue(lock.waitFor() == 0, "cannot make " + dir + " read-only here (chattr +i failed)");
        try {
            PoolerSwitch sw = switchOf(Duration.ofSeconds(2), instance(bouncer, "app"));
            assertThat(sw.preflight()).filteredOn(c -> !c.ok()).extracting(Check::message).containsExactly(
                    "pooler.pgbouncer[0] (127.0.0.1:" + bouncer.port() + "): include_file " + bouncer.includeFile()
                            + " is not writable by this user, or its directory is not (the switch writes a temporary file "
                            + "next to it and renames it) — give shardlift's user write access to both");
        } finally {
            new ProcessBuilder(root ? List.of("chattr", "-i", dir.toString()) : List.of("chmod", "777", dir.toString()))
                    .start().waitFor();
        }
    }
}
