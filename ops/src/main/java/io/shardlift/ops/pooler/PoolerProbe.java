package io.shardlift.ops.pooler;

import static io.shardlift.core.Sql.literal;

import io.shardlift.core.spec.ConnInfo;
import io.shardlift.core.spec.PoolerSpec.PgBouncerSpec;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cutover probe: while a cutover switches the aliases, a small writer and a small reader per alias go through each
 * PgBouncer exactly as the application does, and measure what it feels: the worst latency of a statement (the pause
 * is in it) and the errors. It connects to the alias on the address of the instance's admin console: PgBouncer's admin
 * console is the virtual database {@code pgbouncer} on its one client listener, so the address that reaches the console
 * reaches the aliases (SHOW CONFIG's {@code listen_addr} may be {@code *} and says nothing about routes or NAT).
 *
 * <p>It logs in as the user of {@code migrate.connstr} (with its password), whom PgBouncer must accept; after the
 * switch PgBouncer logs in to the target node as that user (unless the alias's line sets {@code user=}).
 *
 * <p>The reader runs {@code SELECT 1}. The writer upserts one row per alias in {@code shardlift.cutover_probe}, a table
 * of shardlift's own that the cutover creates beforehand on the source AND on the target node ({@link #TABLE_DDL}):
 * before the switch the alias leads to the source's copy, after it to the node's, so the same statement is a real
 * write on whichever side answers, never a write to a migrated table (no fence refuses it, no stream carries it: the
 * publication lists the migrated tables only, so neither the applier nor the content proof ever sees it). Each side's
 * copy has its own default for {@code side}, which the write returns: the probe knows where its last write landed.
 * One row per alias and side: the table does not grow.
 */
public final class PoolerProbe implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PoolerProbe.class);

    /** The probe's table; {@code %s} is the side's name ('source' or 'cluster'), the default of {@code side}. */
    public static final String TABLE_DDL = "CREATE SCHEMA IF NOT EXISTS \"shardlift\";\n"
            + "CREATE TABLE IF NOT EXISTS \"shardlift\".\"cutover_probe\" (\"probe\" text PRIMARY KEY,"
            + " \"side\" text NOT NULL DEFAULT %s, \"cutover\" text NOT NULL, \"writes\" bigint NOT NULL,"
            + " \"at\" timestamptz NOT NULL)";

    static final String APPLICATION_NAME = "shardlift-cutover-probe";
    /** Between two statements of one loop: a small load, about 50 statements a second per loop. */
    private static final long PAUSE_BETWEEN_MS = 20;

    /** What one alias's writer and reader saw. */
    public record AliasResult(String alias, long writes, long reads, long errors, long worstWriteMs, long worstReadMs,
                              String lastWriteOn, String firstError) {
    }

    private final List<Loop> loops = new ArrayList<>();

    private PoolerProbe() {
    }

    /** Starts a writer and a reader through every listed alias of every instance; returns at once. */
    static PoolerProbe start(List<PgBouncerSpec> instances, ConnInfo login, String cutoverId, Duration statementBound) {
        PoolerProbe p = new PoolerProbe();
        for (PgBouncerSpec b : instances) {
            for (String alias : b.databases()) {
                String name = alias + " on " + b.label();
                String url = "jdbc:postgresql://" + (b.admin().host().contains(":") ? "[" + b.admin().host() + "]" : b.admin().host())
                        + ":" + b.admin().port() + "/" + alias;
                Properties props = new Properties();
                props.setProperty("user", login.user());
                login.password().ifPresent(pw -> props.setProperty("password", pw));
                // PgBouncer in transaction mode keeps no prepared statement between transactions
                props.setProperty("preferQueryMode", "simple");
                props.setProperty("ApplicationName", APPLICATION_NAME);
                props.setProperty("connectTimeout", "5");
                // a statement waits through the pause; longer than the whole pause budget is a hang, counted as an error
                props.setProperty("socketTimeout", String.valueOf(statementBound.toSeconds() + 1));
                String write = "INSERT INTO \"shardlift\".\"cutover_probe\" AS p (\"probe\", \"cutover\", \"writes\", \"at\") VALUES ("
                        + literal(name) + ", " + literal(cutoverId) + ", 1, now()) ON CONFLICT (\"probe\") DO UPDATE SET"
                        + " \"cutover\" = EXCLUDED.\"cutover\", \"writes\" = p.\"writes\" + 1, \"at\" = now() RETURNING p.\"side\"";
                Loop w = new Loop(name, true, url, props, write);
                Loop r = new Loop(name, false, url, props, "SELECT 1");
                p.loops.add(w);
                p.loops.add(r);
            }
        }
        p.loops.forEach(Loop::start);
        return p;
    }

    /**
     * Waits until every loop got one statement through, at most {@code max}.
     *
     * @return empty when they did, else what the first one that did not saw
     */
    public Optional<String> awaitFirst(Duration max) throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        while (System.nanoTime() < deadline) {
            if (loops.stream().allMatch(l -> l.ok.get() > 0)) {
                return Optional.empty();
            }
            Thread.sleep(10);
        }
        return loops.stream().filter(l -> l.ok.get() == 0).findFirst()
                .map(l -> l.alias + ": " + (l.firstError.get() != null ? l.firstError.get() : "no answer within " + max.toMillis() + " ms"));
    }

    /**
     * Lets every loop finish one statement begun from now on (the tail: clients go on after the pause), at least
     * {@code tail} and at most {@code maxTail}, then stops them; a statement still waiting then counts as an error.
     */
    public List<AliasResult> stop(Duration tail, Duration maxTail) throws InterruptedException {
        long from = System.nanoTime();
        long min = from + tail.toNanos();
        long deadline = from + maxTail.toNanos();
        while (System.nanoTime() < deadline && (System.nanoTime() < min || !loops.stream().allMatch(l -> l.lastDoneStart.get() >= from))) {
            Thread.sleep(10);
        }
        close();
        List<AliasResult> out = new ArrayList<>();
        for (int i = 0; i < loops.size(); i += 2) {
            Loop w = loops.get(i);
            Loop r = loops.get(i + 1);
            String first = w.firstError.get() != null ? w.firstError.get() : r.firstError.get();
            out.add(new AliasResult(w.alias, w.ok.get(), r.ok.get(), w.errors.get() + r.errors.get(), w.worstMs(), r.worstMs(),
                    w.lastSide.get(), first));
        }
        return out;
    }

    /** Stops every loop; a statement in flight is cut off (its connection closed) and counted as an error. */
    @Override
    public void close() {
        loops.forEach(l -> l.stop = true);
        for (Loop l : loops) {
            try {
                l.thread.join(2_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (l.thread.isAlive()) {
                l.cutOff();
            }
        }
    }

    /** One writer or reader: one connection, one statement at a time, reconnecting after an error. */
    private static final class Loop implements Runnable {
        final String alias;
        final boolean writer;
        final String url;
        final Properties props;
        final String sql;
        final Thread thread;
        volatile boolean stop;
        volatile Connection conn;
        /** System.nanoTime() when the statement in flight began; 0 when none is. */
        final AtomicLong inFlightSince = new AtomicLong();
        /** When the last statement that completed (ok or not) began. */
        final AtomicLong lastDoneStart = new AtomicLong();
        final AtomicLong worstNanos = new AtomicLong();
        final AtomicLong ok = new AtomicLong();
        final AtomicLong errors = new AtomicLong();
        final AtomicReference<String> firstError = new AtomicReference<>();
        final AtomicReference<String> lastSide = new AtomicReference<>("none");

        Loop(String alias, boolean writer, String url, Properties props, String sql) {
            this.alias = alias;
            this.writer = writer;
            this.url = url;
            this.props = props;
            this.sql = sql;
            this.thread = new Thread(this, "shardlift-probe-" + (writer ? "writer" : "reader"));
            this.thread.setDaemon(true);
        }

        void start() {
            thread.start();
        }

        @Override
        public void run() {
            while (!stop) {
                long t = System.nanoTime();
                inFlightSince.set(t);
                try {
                    if (conn == null) {
                        conn = DriverManager.getConnection(url, props);
                    }
                    try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery(sql)) {
                        if (rs.next() && writer) {
                            lastSide.set(rs.getString(1));
                        }
                    }
                    ok.incrementAndGet();
                } catch (SQLException e) {
                    if (!stop) {
                        failed(e.getMessage());
                    }
                    closeQuietly();
                }
                done(t);
                sleep(PAUSE_BETWEEN_MS);
            }
            closeQuietly();
        }

        private void done(long start) {
            worstNanos.accumulateAndGet(System.nanoTime() - start, Math::max);
            lastDoneStart.set(start);
            inFlightSince.set(0);
        }

        private void failed(String message) {
            errors.incrementAndGet();
            if (firstError.compareAndSet(null, (writer ? "writer: " : "reader: ") + message)) {
                LOG.warn("cutover probe through {}: {} failed: {}", alias, writer ? "write" : "read", message);
            }
        }

        /** A statement still waiting when the probe stops: the application would still be waiting too. */
        void cutOff() {
            long since = inFlightSince.get();
            if (since != 0) {
                worstNanos.accumulateAndGet(System.nanoTime() - since, Math::max);
                failed("still waiting after " + (System.nanoTime() - since) / 1_000_000 + " ms when the probe stopped");
            }
            closeQuietly();
        }

        long worstMs() {
            return worstNanos.get() / 1_000_000;
        }

        private void closeQuietly() {
            Connection c = conn;
            conn = null;
            if (c != null) {
                try {
                    c.close();
                } catch (SQLException ignored) {
                    // gone already
                }
            }
        }

        private void sleep(long ms) {
            try {
                Thread.sleep(ms);
            } catch (InterruptedException e) {
                stop = true;
                Thread.currentThread().interrupt();
            }
        }
    }
}
