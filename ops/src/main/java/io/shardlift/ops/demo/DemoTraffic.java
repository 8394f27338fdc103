package io.shardlift.ops.demo;

import io.shardlift.embedded.SensorDataset;
import io.shardlift.embedded.PgNode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The application of seed 000 during the demo: sensors writing readings and a reader running the outlier
 * query. Without PgBouncer they connect to the source; when it refuses writes (the cutover's write fence) they wait
 * until the demo switches them to the cluster, as an application's connection string would be switched. Through
 * PgBouncer they connect to its alias the whole time and never switch: the cutover moves the alias. Each sensor
 * keeps the ids of the rows its database acknowledged, so the demo can look every one up on the cluster.
 */
final class DemoTraffic implements AutoCloseable {

    /** Where the application connects: a server, or PgBouncer's alias. */
    @FunctionalInterface
    interface Target {
        Connection connect() throws SQLException;
    }

    private final AtomicReference<Target> target;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicBoolean switched = new AtomicBoolean();
    final AtomicLong writes = new AtomicLong();
    final AtomicLong writeErrors = new AtomicLong();
    final AtomicLong fencedWrites = new AtomicLong();
    final AtomicLong reads = new AtomicLong();
    final AtomicLong readErrors = new AtomicLong();
    final Set<Long> acknowledged = ConcurrentHashMap.newKeySet();
    private final AtomicReference<String> firstError = new AtomicReference<>();
    private final List<Thread> threads = new ArrayList<>();

    DemoTraffic(Target start, int writers, int devices) {
        this.target = new AtomicReference<>(start);
        for (int i = 0; i < writers; i++) {
            threads.add(start("sensor-" + i, () -> write(devices)));
        }
        threads.add(start("outlier-reader", this::read));
    }

    private Thread start(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** From now on the sensors and the reader use the cluster (node 0 answers for every shard). */
    void switchTo(PgNode node, String db) {
        target.set(() -> node.connect(db));
        switched.set(true);
    }

    /** The first error a sensor or the reader saw (SQLSTATE and message, no row data), if any. */
    Optional<String> firstError() {
        return Optional.ofNullable(firstError.get());
    }

    private void error(SQLException e) {
        firstError.compareAndSet(null, e.getSQLState() + " " + e.getMessage());
    }

    boolean fenced() {
        return fencedWrites.get() > 0;
    }

    private void write(int devices) {
        Target current = null;
        Connection c = null;
        PreparedStatement ps = null;
        while (running.get()) {
            try {
                if (current != target.get()) {
                    close(c);
                    current = target.get();
                    c = current.connect();
                    ps = c.prepareStatement("INSERT INTO public.events (device_id, payload) VALUES (?, jsonb_build_object("
                            + "'temperature', round((40 + random() * 40)::numeric, 2), 'humidity', round((30 + random() * 60)::numeric, 2)))"
                            + " RETURNING event_id");
                }
                ps.setInt(1, 1 + ThreadLocalRandom.current().nextInt(devices));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    acknowledged.add(rs.getLong(1));
                }
                writes.incrementAndGet();
                Thread.sleep(2);
            } catch (SQLException e) {
                if ("25006".equals(e.getSQLState()) && !switched.get()) {
                    // the source refuses writes: the table moved; wait for the switch to the cluster
                    fencedWrites.incrementAndGet();
                    error(e);
                    sleep(50);
                } else {
                    writeErrors.incrementAndGet();
                    error(e);
                    close(c);
                    c = null;
                    current = null;
                    sleep(100);
                }
            } catch (InterruptedException e) {
                return;
            }
        }
        close(c);
    }

    private void read() {
        while (running.get()) {
            try (Connection c = target.get().connect(); Statement st = c.createStatement()) {
                while (running.get()) {
                    Target at = target.get();
                    st.executeQuery(SensorDataset.OUTLIER_QUERY).close();
                    reads.incrementAndGet();
                    if (at != target.get()) {
                        break; // reconnect to the new target
                    }
                    Thread.sleep(50);
                }
            } catch (SQLException e) {
                readErrors.incrementAndGet();
                error(e);
                sleep(100);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void close(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // reconnecting anyway
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        for (Thread t : threads) {
            t.interrupt();
            t.join(5_000);
        }
    }
}
