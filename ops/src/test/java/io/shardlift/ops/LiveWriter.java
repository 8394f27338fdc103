package io.shardlift.ops;

import io.shardlift.embedded.PgNode;
import io.shardlift.testkit.SpecWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writes to the source the whole time a test migrates it: inserts, updates (some leaving a TOASTed column
 * unchanged), sharding-key changes, deletes, and now and then a TRUNCATE of a reference table. Every
 * statement it counts was committed (acknowledged) by the source.
 */
final class LiveWriter implements AutoCloseable {

    static final String SCHEMA = """
            CREATE TABLE public.device_notes (device_id int PRIMARY KEY, revision int NOT NULL, note text NOT NULL);
            ALTER TABLE public.device_notes ALTER COLUMN note SET STORAGE EXTERNAL;
            INSERT INTO public.device_notes SELECT g, 0, repeat(md5(g::text), 100) FROM generate_series(1, 500) g;
            CREATE TABLE public.settings (name text PRIMARY KEY, value text);
            INSERT INTO public.settings SELECT 'k' || g, 'v' || g FROM generate_series(1, 20) g;
            """;

    /** The spec tables for the sensor schema plus the writer's two tables. */
    static final String TABLES = SpecWriter.sensorTables(8)
            + "        - {name: settings, type: global, priority: 3}\n"
            + "        - {name: device_notes, type: sharded, distributedby: device_id, colocatewith: devices, priority: 1}\n";

    private final PgNode source;
    private final String db;
    private final AtomicBoolean running = new AtomicBoolean(true);
    final AtomicLong commits = new AtomicLong();
    final AtomicLong truncates = new AtomicLong();
    /** Set when the source refused a write because the table moved (after the cutover); the writer then stops. */
    final AtomicBoolean fenced = new AtomicBoolean();
    volatile String fenceMessage;
    private final Thread thread;
    private volatile Throwable failure;

    LiveWriter(PgNode source, String db) {
        this.source = source;
        this.db = db;
        this.thread = new Thread(this::loop, "live-writer");
        thread.start();
    }

    private void loop() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        try (Connection c = source.connect(db)) {
            PreparedStatement insert = c.prepareStatement("INSERT INTO public.events (device_id, payload) VALUES (?, jsonb_build_object('temperature', ?::numeric))");
            PreparedStatement update = c.prepareStatement("UPDATE public.events SET payload = jsonb_build_object('humidity', ?::numeric)"
                    + " WHERE event_id = (SELECT max(event_id) - ? FROM public.events)");
            PreparedStatement move = c.prepareStatement("UPDATE public.events SET device_id = ? WHERE event_id = (SELECT max(event_id) - ? FROM public.events)");
            PreparedStatement delete = c.prepareStatement("DELETE FROM public.events WHERE event_id = (SELECT max(event_id) - ? FROM public.events)");
            PreparedStatement toast = c.prepareStatement("UPDATE public.device_notes SET revision = revision + 1 WHERE device_id = ?");
            PreparedStatement rekey = c.prepareStatement("UPDATE public.device_notes SET device_id = device_id + 100000 WHERE device_id = ?");
            int round = 0;
            while (running.get()) {
                round++;
                insert.setInt(1, 1 + r.nextInt(1000));
                insert.setInt(2, r.nextInt(100));
                insert.executeUpdate();
                update.setInt(1, r.nextInt(100));
                update.setInt(2, r.nextInt(50));
                update.executeUpdate();
                if (round % 3 == 0) {
                    move.setInt(1, 1 + r.nextInt(1000));
                    move.setInt(2, r.nextInt(50));
                    move.executeUpdate();
                }
                if (round % 4 == 0) {
                    delete.setInt(1, r.nextInt(50));
                    delete.executeUpdate();
                }
                toast.setInt(1, 1 + r.nextInt(500));
                toast.executeUpdate();
                if (round % 25 == 0) {
                    rekey.setInt(1, 1 + r.nextInt(500));
                    rekey.executeUpdate();
                }
                if (round % 400 == 0) {
                    try (Statement st = c.createStatement()) {
                        st.execute("TRUNCATE public.settings");
                        st.execute("INSERT INTO public.settings SELECT 'k' || g, 'round " + round + "' FROM generate_series(1, 10) g");
                    }
                    truncates.incrementAndGet();
                }
                commits.addAndGet(1);
                if (round % 20 == 0) {
                    Thread.sleep(5);
                }
            }
        } catch (SQLException e) {
            if ("25006".equals(e.getSQLState())) {
                fenced.set(true);
                fenceMessage = e.getMessage();
            } else {
                failure = e;
            }
        } catch (InterruptedException | RuntimeException e) {
            failure = e;
        }
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        thread.join();
        if (failure != null) {
            throw new IllegalStateException("the writer failed: " + failure.getMessage(), failure);
        }
    }
}
