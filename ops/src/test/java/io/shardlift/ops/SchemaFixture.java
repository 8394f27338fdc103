package io.shardlift.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardlift.ops.cutover.CutoverReport;
import io.shardlift.ops.workflow.Migration;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.testkit.Datasets;
import io.shardlift.embedded.PgNode;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A source with a schema of the test's own, two nodes and a broker in the test's JVM: for the tests of real-world
 * schema shapes, which each migrate their schema online under a writer of their own and cut over.
 */
final class SchemaFixture extends MigrationServers {

    /** One write of the test's writer; a fenced source ends the writer. */
    interface Write {
        /** @return rows the write touched that the test counts (e.g. rows moved between partitions) */
        int run(Statement st) throws SQLException;
    }

    private SchemaFixture(String name, String db, String... sourceDdl) {
        super(name, 2, db, source -> source.execute(db, sourceDdl));
    }

    static SchemaFixture start(String name, String db, String... sourceDdl) {
        return new SchemaFixture(name, db, sourceDdl);
    }

    /** A spec over {@code schemas} (the YAML list items under {@code migrate.schemas}), the two nodes and the broker. */
    Path spec(Path dir, String schemas) throws Exception {
        return spec(2).schemas(schemas).write(dir.resolve("migrate.yml"));
    }

    /** What the writer did until the cutover fenced it. */
    record Written(long commits, long counted, String fenceMessage, CutoverReport cutover) {
    }

    /** The test's writer: {@code write} in a loop on the source from {@link #start} until the cutover fences it. */
    final class Writer implements AutoCloseable {
        final AtomicLong commits = new AtomicLong();
        final AtomicLong counted = new AtomicLong();
        final AtomicReference<String> fenced = new AtomicReference<>();
        final AtomicReference<Throwable> failed = new AtomicReference<>();
        private final Thread thread;

        Writer(Write write) {
            thread = new Thread(() -> {
                try (Connection c = cluster.source().connect(db); Statement st = c.createStatement()) {
                    while (!Thread.currentThread().isInterrupted()) {
                        try {
                            counted.addAndGet(write.run(st));
                            commits.incrementAndGet();
                        } catch (SQLException e) {
                            if (String.valueOf(e.getMessage()).contains("moved to the sharded cluster")) {
                                fenced.set(e.getMessage());
                                return;
                            }
                            throw e;
                        }
                        Thread.sleep(2);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (Throwable e) {
                    failed.set(e);
                }
            }, "schema-writer");
            thread.start();
        }

        /** Waits until the fence stopped the writer, and checks it did not fail otherwise. */
        void awaitFenced() throws InterruptedException {
            thread.join(30_000);
            assertThat(failed.get()).isNull();
            assertThat(fenced.get()).as("the writer was fenced").contains("moved to the sharded cluster");
        }

        @Override
        public void close() throws InterruptedException {
            thread.interrupt();
            thread.join(10_000);
        }
    }

    Writer writer(Write write) {
        return new Writer(write);
    }

    /** Starts the migration and waits until it has caught up, checking that neither it nor {@code w} failed. */
    Migration startCaughtUp(ClusterPlan plan, Path dir, Writer w) throws Exception {
        Migration m = start(plan, dir);
        awaitCaughtUp(m, w);
        return m;
    }

    /** Starts the migration; returns at once. */
    Migration start(ClusterPlan plan, Path dir) {
        return Migration.start(plan, options(dir), new SimpleMeterRegistry());
    }

    /** The options every migration of these tests runs with, in {@code dir}. */
    static Migration.Options options(Path dir) {
        return new Migration.Options(2, 5_000, dir.resolve("data"), Optional.of("schema-it"));
    }

    /** Waits until {@code m} has caught up, checking that neither it nor {@code w} failed. */
    void awaitCaughtUp(Migration m, Writer w) throws Exception {
        long deadline = System.nanoTime() + 240_000_000_000L;
        while (!m.caughtUp()) {
            assertThat(m.failure()).as(m.statusLine()).isEmpty();
            assertThat(w.failed.get()).isNull();
            assertThat(System.nanoTime()).as(m.statusLine()).isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    /** Cuts over, asking again while the gate refuses (the stream is a moment behind), up to ten times. */
    static CutoverReport cutOver(Migration m) throws InterruptedException {
        CutoverReport done = null;
        for (int i = 0; i < 10 && (done == null || done.outcome() == CutoverReport.Outcome.REFUSED); i++) {
            if (done != null) {
                Thread.sleep(2_000);
            }
            done = m.cutover(false);
        }
        assertThat(done.outcome()).as(done.toString()).isEqualTo(CutoverReport.Outcome.DONE);
        return done;
    }

    /**
     * Migrates online with {@code write} running in a loop from before the copy until the cutover fences the source;
     * {@code whileCaughtUp} runs once the stream has caught up, before the cutover.
     */
    Written migrateAndCutOver(ClusterPlan plan, Path dir, Write write, Runnable whileCaughtUp) throws Exception {
        try (Writer w = writer(write); Migration m = startCaughtUp(plan, dir, w)) {
            whileCaughtUp.run();
            CutoverReport done = cutOver(m);
            w.awaitFenced();
            return new Written(w.commits.get(), w.counted.get(), w.fenced.get(), done);
        }
    }

    /** {@code table} equal row by row on the source and seen through every node. */
    void assertEqual(String table, List<String> keys) throws SQLException {
        try (Connection src = cluster.source().connect(db)) {
            for (PgNode n : cluster.nodes()) {
                try (Connection dst = n.connect(db)) {
                    assertThat(Datasets.diffRows(src, dst, table, keys, 20)).as(table + " via " + n.name()).isEmpty();
                }
            }
        }
    }

    /** Columns (name, type, default, not null, generated) and CHECKs of a table on {@code node}. */
    java.util.Map<String, String> shape(PgNode node, String schema, String table) throws SQLException {
        java.util.Map<String, String> out = new java.util.TreeMap<>();
        try (Connection c = node.connect(db); Statement st = c.createStatement();
             java.sql.ResultSet rs = st.executeQuery("SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,"
                     + " pg_get_expr(d.adbin, d.adrelid), a.attgenerated FROM pg_attribute a LEFT JOIN pg_attrdef d"
                     + " ON d.adrelid = a.attrelid AND d.adnum = a.attnum WHERE a.attrelid = '" + schema + "." + table
                     + "'::regclass AND a.attnum > 0 AND NOT a.attisdropped")) {
            while (rs.next()) {
                out.put("column " + rs.getString(1), rs.getString(2) + " notnull=" + rs.getBoolean(3) + " default=" + rs.getString(4)
                        + " generated=" + rs.getString(5));
            }
        }
        try (Connection c = node.connect(db); Statement st = c.createStatement();
             java.sql.ResultSet rs = st.executeQuery("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = '"
                     + schema + "." + table + "'::regclass AND contype = 'c'")) {
            while (rs.next()) {
                out.put("check " + rs.getString(1), rs.getString(2));
            }
        }
        return out;
    }

    /** The table's shape ({@link #shape}) on the source and on every node's parent are the same. */
    void assertShapeEqual(String schema, String table) throws SQLException {
        java.util.Map<String, String> source = shape(cluster.source(), schema, table);
        for (PgNode n : cluster.nodes()) {
            assertThat(shape(n, schema, table)).as(schema + "." + table + " on " + n.name()).isEqualTo(source);
        }
    }

    /** Waits until the marker reached {@code partitions} Kafka partitions on node 0, the migration not failing. */
    void awaitMarker(Migration m, String marker, int partitions, int seconds) throws Exception {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        long seen = 0;
        while (System.nanoTime() < deadline) {
            try (Connection c = cluster.nodes().get(0).connect(db)) {
                seen = io.shardlift.core.ledger.Markers.count(c, marker);
                if (seen >= partitions) {
                    return;
                }
            }
            assertThat(m.failure()).as(m.statusLine()).isEmpty();
            Thread.sleep(300);
        }
        throw new AssertionError("marker reached " + seen + " of " + partitions + " partitions: " + m.statusLine());
    }
}
