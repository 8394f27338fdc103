package io.shardlift.ops.demo;

import io.shardlift.embedded.SensorDataset;
import io.shardlift.embedded.PgNode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The application of seed 000 during the demo: sensors writing readings and a reader running the outlier
 * query, first against the source; when the source refuses writes (the cutover's write fence) they wait
 * until the demo switches them to the cluster, as an application's connection string would be switched.
 */
final class DemoTraffic implements AutoCloseable {

    private final String db;
    private final AtomicReference<PgNode> target;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicBoolean switched = new AtomicBoolean();
    final AtomicLong writes = new AtomicLong();
    final AtomicLong writeErrors = new AtomicLong();
    final AtomicLong fencedWrites = new AtomicLong();
    final AtomicLong reads = new AtomicLong();
    final AtomicLong readErrors = new AtomicLong();
    private final List<Thread> threads = new ArrayList<>();

    DemoTraffic(PgNode source, String db, int writers, int devices) {
        this.db = db;
        this.target = new AtomicReference<>(source);
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
    void switchTo(PgNode node) {
        target.set(node);
        switched.set(true);
    }

    boolean fenced() {
        return fencedWrites.get() > 0;
    }

    private void write(int devices) {
        PgNode current = null;
        Connection c = null;
        PreparedStatement ps = null;
        while (running.get()) {
            try {
                if (current != target.get()) {
                    close(c);
                    current = target.get();
                    c = current.connect(db);
                    ps = c.prepareStatement("INSERT INTO public.events (device_id, payload) VALUES (?, jsonb_build_object("
                            + "'temperature', round((40 + random() * 40)::numeric, 2), 'humidity', round((30 + random() * 60)::numeric, 2)))");
                }
                ps.setInt(1, 1 + ThreadLocalRandom.current().nextInt(devices));
                ps.executeUpdate();
                writes.incrementAndGet();
                Thread.sleep(2);
            } catch (SQLException e) {
                if ("25006".equals(e.getSQLState()) && !switched.get()) {
                    // the source refuses writes: the table moved; wait for the switch to the cluster
                    fencedWrites.incrementAndGet();
                    sleep(50);
                } else {
                    writeErrors.incrementAndGet();
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
            try (Connection c = target.get().connect(db); Statement st = c.createStatement()) {
                while (running.get()) {
                    PgNode at = target.get();
                    st.executeQuery(SensorDataset.OUTLIER_QUERY).close();
                    reads.incrementAndGet();
                    if (at != target.get()) {
                        break; // reconnect to the new target
                    }
                    Thread.sleep(50);
                }
            } catch (SQLException e) {
                readErrors.incrementAndGet();
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
