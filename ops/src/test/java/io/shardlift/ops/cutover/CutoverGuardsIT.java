package io.shardlift.ops.cutover;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.shardlift.ops.Fixtures;
import io.shardlift.ops.workflow.Planning;
import io.shardlift.ops.control.ControlPlane;
import io.shardlift.ops.workflow.Migration;
import io.shardlift.ops.workflow.MigrationBackend;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.spec.ControlSpec;
import io.shardlift.core.spec.SpecLoader;
import io.shardlift.embedded.PgNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cutover's guards over the real HTTP control plane of a real migration, with four writers inserting steadily
 * into the source the whole time: a form or JSON body asking for a dry run runs a dry run; a body that cannot be
 * honoured is refused; the write freeze is counted from the first LOCK attempt while a long transaction holds the
 * tables when the fence begins; and once cut over, every later request is 409 naming the cutover and changes nothing
 * (sequences, recorded state), also after the migration is restarted.
 */
class CutoverGuardsIT {

    static final String TOKEN_ENV = "SHARDLIFT_IT_TOKEN"; // set by failsafe (ops/pom.xml)
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    /** Inserts per second offered by the four writers together, as pgbench --rate would. */
    static final int RATE = Integer.getInteger("guards.rate", 2_000);

    static Fixtures.Env env;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        env = Fixtures.sensors("guards", 50_000);
    }

    @AfterAll
    static void stop() {
        if (env != null) {
            env.close();
        }
    }

    record Answer(int status, Map<String, Object> json) {
    }

    @Test
    void bodiesAreHonouredTheFreezeCountsFromTheFirstLockAndACutoverRunsOnce() throws Exception {
        ClusterPlan plan = Planning.plan(new SpecLoader().load(env.spec(dir)));
        String token = System.getenv(TOKEN_ENV);
        assertThat(token).as(TOKEN_ENV + " is set by failsafe (ops/pom.xml): run this test through Maven").isNotBlank();
        Migration.Options options = new Migration.Options(2, 20_000, dir.resolve("data"), Optional.of("guards-it"));
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Migration m = Migration.start(plan, options, registry);
        ControlPlane cp = ControlPlane.start(new ControlSpec("127.0.0.1", 0, TOKEN_ENV), new MigrationBackend(m), registry);
        try (SteadyWriters writers = new SteadyWriters(env.cluster().source(), 4, RATE)) {
            long deadline = System.nanoTime() + 240_000_000_000L;
            while (!m.caughtUp()) {
                assertThat(m.failure()).isEmpty();
                assertThat(System.nanoTime()).as(m.statusLine()).isLessThan(deadline);
                Thread.sleep(200);
            }

            // what curl -d 'dryRun=true' and a JSON client send: dry runs, nothing changed on the source
            for (String[] body : new String[][] {{"application/x-www-form-urlencoded", "dryRun=true"},
                    {"application/json", "{\"dryRun\": true}"}}) {
                Answer dry = post(cp, token, body[0], body[1]);
                assertThat(dry.status()).as(body[1] + ": " + dry.json()).isEqualTo(200);
                assertThat(dry.json()).containsEntry("dryRun", true).containsEntry("outcome", "DONE");
                assertThat(triggersOnSource()).as(body[1]).isZero();
                assertThat(m.cutoverState()).as(body[1]).isEmpty();
            }
            // bodies that cannot be honoured are refused before anything runs
            for (String[] body : new String[][] {{"text/plain", "dryRun=true"}, {"application/json", "{\"dryRun\": \"maybe\"}"},
                    {"application/x-www-form-urlencoded", "dry_run=true"}, {"application/json", "{\"dryRun\": true, \"now\": 1}"}}) {
                Answer bad = post(cp, token, body[0], body[1]);
                assertThat(bad.status()).as(body[1] + ": " + bad.json()).isEqualTo(400);
            }
            assertThat(triggersOnSource()).isZero();
            assertThat(m.cutoverState()).isEmpty();
            assertThat(writers.fenced()).isZero();

            // a transaction that holds the tables past the fence's bound: refused (422) naming it, nothing fenced
            try (Holder stuck = new Holder(env.cluster().source(), true)) {
                Answer refused = post(cp, token, "application/json", "{\"dryRun\": true}");
                while (refused.status() == 422 && steps(refused.json()).stream().anyMatch(st -> "gate".equals(st.get("name"))
                        && "REFUSED".equals(st.get("status")))) { // the lag gate, while the pipeline catches up: ask again
                    assertThat(System.nanoTime()).as(m.statusLine()).isLessThan(deadline);
                    Thread.sleep(1_000);
                    refused = post(cp, token, "application/json", "{\"dryRun\": true}");
                }
                assertThat(refused.status()).as(refused.json().toString()).isEqualTo(422);
                assertThat((String) refused.json().get("reason")).contains("pid " + stuck.pid(), "application_name 'guards-it-holder'",
                        "state 'idle in transaction'", "nothing was fenced");
                assertThat(steps(refused.json())).extracting(st -> st.get("name")).doesNotContain("fence");
            }
            assertThat(triggersOnSource()).isZero();

            // a node whose sequence is already past the source's (ids handed out there, an earlier attempt's move):
            // the cutover must not move it back
            long ahead = single(env.cluster().source(), "SELECT last_value FROM public.events_event_id_seq") + 1_000_000;
            single(env.cluster().nodes().get(1), "SELECT setval('public.events_event_id_seq', " + ahead + ")");

            // the real cutover, with a transaction holding the tables when the fence begins
            Answer done = null;
            writers.resetWorst(); // the copy's load is not the cutover's
            long writersBefore = writers.inserts();
            while (done == null) {
                assertThat(System.nanoTime()).as(m.statusLine()).isLessThan(deadline);
                try (Holder holder = new Holder(env.cluster().source(), false)) {
                    Answer a = post(cp, token, null, null);
                    if (a.status() == 422) { // the lag gate: the pipeline catching up after the dry runs
                        Thread.sleep(1_000);
                        continue;
                    }
                    assertThat(a.status()).as(a.json().toString()).isEqualTo(200);
                    done = a;
                    System.out.printf("lock holder: held the tables %d ms; a LOCK waited behind it: %s%n", holder.heldMs(), holder.sawLock());
                }
            }
            long freeze = ((Number) done.json().get("writeFreezeMs")).longValue();
            List<Map<String, Object>> steps = steps(done.json());
            System.out.printf("cutover at %d inserts/s offered by 4 writers (%d inserted during the cutover's request): writes frozen %d ms;"
                    + " writers' worst statement latency %s ms; statements over 100 ms: %d; steps %s%n", RATE, writers.inserts() - writersBefore,
                    freeze, writers.worstMs(), writers.over100ms(), steps);
            // the freeze covers everything from the first LOCK attempt to the release: the fence's wait after its first
            // attempt and every step wholly inside. (Not the fence and release steps' whole times: the fence step's
            // setup comes before the first attempt and the release step's end after the release, so their sum may
            // exceed the freeze by a millisecond, as a CI run saw: 269 vs 268.)
            long fromFirstLock = 0;
            for (Map<String, Object> s : steps) {
                if (List.of("marker", "drain", "verify", "sequences", "write-fence", "reverse-slots").contains(s.get("name"))) {
                    fromFirstLock += ((Number) s.get("ms")).longValue();
                }
                if ("fence".equals(s.get("name"))) {
                    java.util.regex.Matcher granted = java.util.regex.Pattern.compile("granted (\\d+) ms after the first attempt")
                            .matcher(String.valueOf(s.get("detail")));
                    assertThat(granted.find()).as("the fence step says when the LOCK was granted: " + s).isTrue();
                    fromFirstLock += Long.parseLong(granted.group(1));
                }
            }
            assertThat(freeze).as("freeze vs the steps from the first LOCK attempt to the release: " + steps).isGreaterThanOrEqualTo(fromFirstLock);
            // and the LOCK was asked for once the tables were quiet, not retried behind the long transaction
            assertThat(steps).extracting(s -> s.get("name")).contains("fence-wait", "fence", "release");
            assertThat(m.phase()).isEqualTo(Migration.Phase.CUT_OVER);
            writers.awaitFenced();
            // every node continues past the one that was ahead, each on its own residue: no node moved backwards
            java.util.Set<Long> residues = new java.util.HashSet<>();
            for (PgNode n : env.cluster().nodes()) {
                long next = single(n, "SELECT CASE WHEN is_called THEN last_value + (SELECT seqincrement FROM pg_sequence"
                        + " WHERE seqrelid = 'public.events_event_id_seq'::regclass) ELSE last_value END FROM public.events_event_id_seq");
                assertThat(next).as(n.name() + "'s next id").isGreaterThan(ahead);
                residues.add(Math.floorMod(next, (long) env.cluster().nodes().size()));
            }
            assertThat(residues).as("nodes hand out distinct ids").hasSize(env.cluster().nodes().size());

            // once cut over, every later request is 409, names the cutover, and changes nothing
            Recorded recorded = recorded();
            assertThat(recorded.state()).isEqualTo("CUT_OVER");
            List<String> sequences = sequences();
            String meta = meta();
            assertRefusedAsDone(cp, token, recorded);
            assertThat(sequences()).isEqualTo(sequences);
            assertThat(meta()).isEqualTo(meta);
            assertThat(m.phase()).isEqualTo(Migration.Phase.CUT_OVER);

            // the same after a restart of the migration and its control plane
            cp.close();
            m.close();
            registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            m = Migration.start(plan, options, registry);
            cp = ControlPlane.start(new ControlSpec("127.0.0.1", 0, TOKEN_ENV), new MigrationBackend(m), registry);
            assertRefusedAsDone(cp, token, recorded);
            assertThat(sequences()).isEqualTo(sequences);
            assertThat(meta()).isEqualTo(meta);
            assertThat(m.phase()).isEqualTo(Migration.Phase.CUT_OVER);
            Answer status = get(cp, "/status");
            assertThat(status.json()).containsEntry("phase", "CUT_OVER");

            // the fenced source equals the cluster, and the cluster's next ids do not collide with the source's
            env.assertEqual();
            long sourceNext = single(env.cluster().source(), "SELECT last_value FROM public.events_event_id_seq");
            for (PgNode n : env.cluster().nodes()) {
                try (Connection c = n.connect(Fixtures.DB); Statement st = c.createStatement()) {
                    st.execute("INSERT INTO public.events (device_id, payload) VALUES (" + (1 + ThreadLocalRandom.current().nextInt(1000))
                            + ", '{\"after\": \"cutover\"}')");
                }
                assertThat(single(n, "SELECT last_value FROM public.events_event_id_seq")).isGreaterThan(sourceNext);
            }
        } finally {
            cp.close();
            m.close();
        }
    }

    /** The cutover as node 0 records it: state, id, and when. */
    record Recorded(String state, String id, String at) {
    }

    static Recorded recorded() throws SQLException {
        try (Connection c = env.cluster().nodes().get(0).connect(Fixtures.DB); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT split_part(value, ' ', 1), split_part(value, ' ', 2), updated_at"
                     + " FROM shardlift.meta WHERE key = 'cutover'")) {
            assertThat(rs.next()).as("a cutover recorded on node 0").isTrue();
            return new Recorded(rs.getString(1), rs.getString(2), rs.getObject(3, java.time.OffsetDateTime.class).toInstant().toString());
        }
    }

    private static void assertRefusedAsDone(ControlPlane cp, String token, Recorded recorded) throws Exception {
        for (String[] request : new String[][] {{null, null}, {"application/json", "{\"dryRun\": true}"},
                {"application/x-www-form-urlencoded", "dryRun=false"}}) {
            Answer again = post(cp, token, request[0], request[1]);
            assertThat(again.status()).as(again.json().toString()).isEqualTo(409);
            assertThat((String) again.json().get("error")).contains(recorded.id(), recorded.at(), "CUT_OVER");
            @SuppressWarnings("unchecked")
            Map<String, Object> cutover = (Map<String, Object>) again.json().get("cutover");
            assertThat(cutover).containsEntry("state", "CUT_OVER").containsEntry("id", recorded.id())
                    .containsEntry("at", recorded.at());
        }
        assertThat(post(cp, token, null, null).status()).isEqualTo(409);
    }

    static Answer post(ControlPlane cp, String token, String contentType, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + cp.port() + "/cutover"))
                .timeout(Duration.ofMinutes(3)).header("Authorization", "Bearer " + token)
                .POST(body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Answer(r.statusCode(), JSON.readValue(r.body(), new TypeReference<Map<String, Object>>() { }));
    }

    static Answer get(ControlPlane cp, String path) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + cp.port() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
        return new Answer(r.statusCode(), JSON.readValue(r.body(), new TypeReference<Map<String, Object>>() { }));
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> steps(Map<String, Object> result) {
        return (List<Map<String, Object>>) result.get("steps");
    }

    /** Every node's sequence of events, as it stands. */
    static List<String> sequences() throws SQLException {
        List<String> out = new ArrayList<>();
        for (PgNode n : env.cluster().nodes()) {
            try (Connection c = n.connect(Fixtures.DB); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT last_value, is_called FROM public.events_event_id_seq")) {
                rs.next();
                out.add(n.name() + ": " + rs.getLong(1) + (rs.getBoolean(2) ? " called" : ""));
            }
        }
        return out;
    }

    /** The cutover's row on node 0, its time included. */
    static String meta() throws SQLException {
        try (Connection c = env.cluster().nodes().get(0).connect(Fixtures.DB); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT value || ' @ ' || updated_at FROM shardlift.meta WHERE key = 'cutover'")) {
            return rs.next() ? rs.getString(1) : "";
        }
    }

    static long triggersOnSource() throws SQLException {
        return single(env.cluster().source(), "SELECT count(*) FROM pg_trigger WHERE tgname = 'shardlift_moved'");
    }

    static long single(PgNode n, String sql) throws SQLException {
        try (Connection c = n.connect(Fixtures.DB); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /**
     * A transaction that holds the events table (an uncommitted insert) when the cutover's fence begins, as a slow
     * writer would. It ends 600 ms after a LOCK is seen waiting behind it (a fence that queues), or 1.5 s after the
     * cutover created its fence function, the step just before the fence (a fence that waits for it without queueing:
     * well within the 5 s it waits at most), or when closed; with {@code untilClosed}, only when closed.
     */
    static final class Holder implements AutoCloseable {
        private final Connection c;
        private final Thread thread;
        private final long began = System.nanoTime();
        private volatile long heldMs;
        private volatile boolean sawLock;
        private volatile boolean stop;
        private final boolean untilClosed;
        private final int pid;

        Holder(PgNode source, boolean untilClosed) throws SQLException {
            this.untilClosed = untilClosed;
            c = source.connect(Fixtures.DB);
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_backend_pid()")) {
                rs.next();
                pid = rs.getInt(1);
            }
            try (Statement st = c.createStatement()) {
                st.execute("SET application_name = 'guards-it-holder'");
                c.setAutoCommit(false);
                st.execute("INSERT INTO public.events (device_id, payload) VALUES (1, '{\"held\": true}')");
            }
            thread = new Thread(this::hold, "lock-holder");
            thread.start();
        }

        private void hold() {
            try (Connection watch = env.cluster().source().connect(Fixtures.DB);
                 PreparedStatement seen = watch.prepareStatement("SELECT (SELECT count(*) FROM pg_locks l JOIN pg_class k ON k.oid = l.relation"
                         + " WHERE k.relname = 'events' AND l.mode = 'ExclusiveLock' AND NOT l.granted),"
                         + " (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                         + " WHERE n.nspname = 'shardlift' AND p.proname = 'refuse_writes_moved')")) {
                long until = began + 60_000_000_000L;
                boolean functionAtStart = false;
                boolean first = true;
                while (System.nanoTime() < until && !stop) {
                    try (ResultSet rs = seen.executeQuery()) {
                        rs.next();
                        if (!untilClosed && rs.getLong(1) > 0 && !sawLock) {
                            sawLock = true;
                            until = Math.min(until, System.nanoTime() + 600_000_000L);
                        }
                        boolean function = rs.getLong(2) > 0;
                        if (first) {
                            functionAtStart = function;
                            first = false;
                        } else if (!untilClosed && function && !functionAtStart) {
                            functionAtStart = true; // once
                            until = Math.min(until, System.nanoTime() + 1_500_000_000L);
                        }
                    }
                    Thread.sleep(5);
                }
                c.commit();
                heldMs = (System.nanoTime() - began) / 1_000_000;
            } catch (SQLException | InterruptedException e) {
                heldMs = -1;
            }
        }

        int pid() {
            return pid;
        }

        long heldMs() {
            return heldMs;
        }

        boolean sawLock() {
            return sawLock;
        }

        @Override
        public void close() throws Exception {
            stop = true; // a cutover the gate refused never came to the fence
            thread.join(10_000);
            c.close();
        }
    }

    /**
     * Four clients inserting single rows at a steady offered rate, as pgbench --rate does, each recording its worst
     * statement latency, the one the write fence refused included; a writer stops when the source refuses it.
     */
    static final class SteadyWriters implements AutoCloseable {
        private final List<Thread> threads = new ArrayList<>();
        private final long[] worstNanos;
        private final AtomicLong inserts = new AtomicLong();
        private final AtomicLong over100ms = new AtomicLong();
        private final AtomicLong fenced = new AtomicLong();
        private volatile boolean running = true;
        private volatile Throwable failure;

        SteadyWriters(PgNode source, int clients, int perSecond) {
            worstNanos = new long[clients];
            long interval = 1_000_000_000L * clients / perSecond;
            for (int i = 0; i < clients; i++) {
                int me = i;
                Thread t = new Thread(() -> loop(source, me, interval), "steady-writer-" + i);
                threads.add(t);
                t.start();
            }
        }

        private void loop(PgNode source, int me, long interval) {
            ThreadLocalRandom r = ThreadLocalRandom.current();
            try (Connection c = source.connect(Fixtures.DB);
                 PreparedStatement insert = c.prepareStatement("INSERT INTO public.events (device_id, payload)"
                         + " VALUES (?, jsonb_build_object('temperature', ?::numeric))")) {
                long next = System.nanoTime();
                while (running) {
                    long now = System.nanoTime();
                    if (now < next) {
                        LockSupport.parkNanos(next - now);
                    }
                    insert.setInt(1, 1 + r.nextInt(1000));
                    insert.setInt(2, r.nextInt(100));
                    long t0 = System.nanoTime();
                    try {
                        insert.executeUpdate();
                        inserts.incrementAndGet();
                    } finally {
                        // the statements the freeze held end refused by the write fence: they waited all the same
                        long took = System.nanoTime() - t0;
                        if (took > 100_000_000L) {
                            over100ms.incrementAndGet();
                        }
                        synchronized (worstNanos) {
                            worstNanos[me] = Math.max(worstNanos[me], took);
                        }
                    }
                    // behind schedule after a stall: go on at the offered rate, no burst to catch up
                    next = Math.max(next + interval, System.nanoTime() - interval);
                }
            } catch (SQLException e) {
                if ("25006".equals(e.getSQLState())) {
                    fenced.incrementAndGet();
                } else {
                    failure = e;
                }
            }
        }

        long inserts() {
            return inserts.get();
        }

        void resetWorst() {
            synchronized (worstNanos) {
                java.util.Arrays.fill(worstNanos, 0);
            }
            over100ms.set(0);
        }

        long over100ms() {
            return over100ms.get();
        }

        long fenced() {
            return fenced.get();
        }

        List<Long> worstMs() {
            synchronized (worstNanos) {
                List<Long> out = new ArrayList<>();
                for (long w : worstNanos) {
                    out.add(w / 1_000_000);
                }
                return out;
            }
        }

        void awaitFenced() throws InterruptedException {
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (fenced.get() < threads.size() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(fenced.get()).as("writers refused by the source after the cutover").isEqualTo(threads.size());
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            for (Thread t : threads) {
                t.join(30_000);
            }
            if (failure != null) {
                throw new IllegalStateException("a writer failed: " + failure.getMessage(), failure);
            }
        }
    }
}
