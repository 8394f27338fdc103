package io.shardlift.ops;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The application of the pooler tests: clients inserting device notes through a PgBouncer alias, autocommit, each
 * with ids of its own ({@code firstId + client * 1,000,000 + n}), every acknowledged id remembered and every error
 * counted. What the cutover promises them: no error, and every acknowledged id on the cluster.
 */
final class PoolerClients implements AutoCloseable {

    final AtomicBoolean stop = new AtomicBoolean();
    final AtomicInteger errors = new AtomicInteger();
    final AtomicReference<String> firstError = new AtomicReference<>();
    final Set<Integer> acknowledged = ConcurrentHashMap.newKeySet();
    private final List<Thread> threads = new ArrayList<>();
    private final String jdbcUrl;
    private final int firstId;
    private final long pauseMs;
    /** After each acknowledged insert, a statement of the client's own (client, n), or null for none. */
    private final java.util.function.BiFunction<Integer, Integer, String> then;

    /** Starts {@code clients} clients on {@code jdbcUrl} (an alias of a PgBouncer), {@code pauseMs} between inserts. */
    PoolerClients(String jdbcUrl, int clients, int firstId, long pauseMs) {
        this(jdbcUrl, clients, firstId, pauseMs, (client, n) -> null);
    }

    /** As above, each insert followed by {@code then}'s statement (for example an update of a row of the client's own). */
    PoolerClients(String jdbcUrl, int clients, int firstId, long pauseMs, java.util.function.BiFunction<Integer, Integer, String> then) {
        this.jdbcUrl = jdbcUrl;
        this.firstId = firstId;
        this.pauseMs = pauseMs;
        this.then = then;
        for (int i = 0; i < clients; i++) {
            int client = i;
            Thread t = new Thread(() -> write(client), "pooler-client-" + client);
            t.setDaemon(true);
            threads.add(t);
        }
        threads.forEach(Thread::start);
    }

    private void write(int client) {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        try (Connection c = DriverManager.getConnection(jdbcUrl, p); Statement st = c.createStatement()) {
            for (int n = 0; !stop.get(); n++) {
                int id = firstId + client * 1_000_000 + n;
                try {
                    st.executeUpdate("INSERT INTO public.device_notes (device_id, revision, note) VALUES (" + id
                            + ", 0, 'through the pooler')");
                    acknowledged.add(id);
                    String next = then.apply(client, n);
                    if (next != null) {
                        st.executeUpdate(next);
                    }
                } catch (SQLException e) {
                    errors.incrementAndGet();
                    firstError.compareAndSet(null, e.getMessage());
                }
                Thread.sleep(pauseMs);
            }
        } catch (SQLException e) {
            errors.incrementAndGet();
            firstError.compareAndSet(null, "connect: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits for {@code more} acknowledged inserts (at most {@code maxSeconds}; stops early at the first error). */
    void awaitMore(int more, long maxSeconds) throws InterruptedException {
        int target = acknowledged.size() + more;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(maxSeconds);
        while (acknowledged.size() < target && System.nanoTime() < deadline && errors.get() == 0) {
            Thread.sleep(20);
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop.set(true);
        for (Thread t : threads) {
            t.join(60_000);
        }
    }
}
