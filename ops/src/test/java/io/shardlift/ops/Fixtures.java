package io.shardlift.ops;

import io.shardlift.embedded.PgCluster;
import java.nio.file.Path;

/** The end-to-end fixtures, for tests outside this package. */
public final class Fixtures {

    public static final String DB = SensorsMigration.DB;

    private Fixtures() {
    }

    public static Env sensors(String name, long events) throws Exception {
        return new Env(SensorsMigration.start(name, events));
    }

    /** A source with the sensor data and the writer's tables, four nodes, an external broker. */
    public static final class Env implements AutoCloseable {
        private final SensorsMigration m;

        Env(SensorsMigration m) {
            this.m = m;
        }

        public PgCluster cluster() {
            return m.cluster;
        }

        public Path spec(Path dir) throws Exception {
            return m.spec(dir);
        }

        /** Source and cluster equal row by row, seen through every node. */
        public void assertEqual() throws java.sql.SQLException {
            Migrations.assertEqual(m.cluster, DB);
        }

        public Writer writer() {
            return new Writer(new LiveWriter(m.cluster.source(), DB));
        }

        @Override
        public void close() {
            m.close();
        }
    }

    /** The live writer, seen from outside the package. */
    public static final class Writer implements AutoCloseable {
        private final LiveWriter w;

        Writer(LiveWriter w) {
            this.w = w;
        }

        public long commits() {
            return w.commits.get();
        }

        public boolean fenced() {
            return w.fenced.get();
        }

        public String fenceMessage() {
            return w.fenceMessage;
        }

        /** Waits until the source refused one of the writer's writes (it then stops). */
        public void awaitFenced() throws InterruptedException {
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (!w.fenced.get() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            if (!w.fenced.get()) {
                throw new AssertionError("the source still accepts the writer's writes after the cutover");
            }
        }

        @Override
        public void close() throws InterruptedException {
            w.close();
        }
    }
}
