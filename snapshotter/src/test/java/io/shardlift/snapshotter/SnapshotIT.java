package io.shardlift.snapshotter;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardlift.core.Lsn;
import io.shardlift.core.TableId;
import io.shardlift.core.catalog.SourceCatalog;
import io.shardlift.core.ledger.MetaLedger;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.plan.SchemaPlanner;
import io.shardlift.core.plan.TablePlan;
import io.shardlift.core.spec.MigrationSpec;
import io.shardlift.core.spec.SpecLoader;
import io.shardlift.testkit.Datasets;
import io.shardlift.embedded.PgCluster;
import io.shardlift.embedded.PgNode;
import io.shardlift.testkit.SpecWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The snapshot copy on a real source and four real nodes, compared row by row afterwards. */
class SnapshotIT {

    static PgCluster cluster;

    @BeforeAll
    static void start() {
        cluster = PgCluster.start("snap", 4, "postgres");
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    static ClusterPlan plan(String db) throws SQLException {
        return plan(cluster, db);
    }

    /** The sensor tables of {@code db} on {@code cluster}'s source, laid out on its nodes. */
    static ClusterPlan plan(PgCluster cluster, String db) throws SQLException {
        String yaml = SpecWriter.from(cluster, db).jobs(2).replication("slot_" + db, "pub_" + db).yaml();
        MigrationSpec spec = new SpecLoader().parse(yaml, db + ".yml");
        try (Connection c = cluster.source().connect(db)) {
            return SchemaPlanner.plan(spec, SourceCatalog.read(c, List.of("public")));
        }
    }

    static void createDb(String db, long events) throws SQLException {
        cluster.source().createDatabase(db);
        cluster.nodes().forEach(n -> n.createDatabase(db));
        try (Connection c = cluster.source().connect(db)) {
            Datasets.createSensors(c);
            Datasets.loadSensors(c, 10, 1000, events);
        }
    }

    static SnapshotResult snapshot(ClusterPlan plan, long chunkRows) throws InterruptedException {
        CopyProgress progress = new CopyProgress(new SimpleMeterRegistry(), plan.tables().stream().map(TablePlan::id).toList());
        SnapshotResult r = new Snapshotter(plan, new SnapshotOptions(2, chunkRows), progress).run();
        System.out.println(progress.line());
        return r;
    }

    /** One committed insert and the WAL insert positions just before it began and just after it committed. */
    record Write(long id, Lsn before, Lsn after) {
    }

    @Test
    void rowsCommittedBeforeTheConsistentPointAreCopiedAndRowsAfterItAreNot() throws Exception {
        createDb("live", 150_000);
        ClusterPlan plan = plan("live");
        List<Write> writes = new ArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        Thread writer = new Thread(() -> {
            try (Connection c = cluster.source().connect("live");
                 PreparedStatement lsn = c.prepareStatement("SELECT pg_current_wal_insert_lsn()::text");
                 PreparedStatement ins = c.prepareStatement(
                         "INSERT INTO events (device_id, payload) VALUES (?, '{\"temperature\": 99}') RETURNING event_id")) {
                while (!stop.get()) {
                    Lsn before = read(lsn);
                    ins.setInt(1, 1 + ThreadLocalRandom.current().nextInt(1000));
                    long id;
                    try (ResultSet rs = ins.executeQuery()) {
                        rs.next();
                        id = rs.getLong(1);
                    }
                    synchronized (writes) {
                        writes.add(new Write(id, before, read(lsn)));
                    }
                }
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        }, "writer");
        writer.start();
        Thread.sleep(300);
        SnapshotResult result;
        try {
            result = snapshot(plan, 20_000);
        } finally {
            Thread.sleep(200);
            stop.set(true);
            writer.join();
        }
        Lsn point = result.consistentPoint().orElseThrow();
        assertThat(result.chunksCopied()).isGreaterThan(5);

        List<Long> before = new ArrayList<>();
        List<Long> after = new ArrayList<>();
        for (Write w : writes) {
            if (!w.after().isAfter(point)) {
                before.add(w.id());
            } else if (!point.isAfter(w.before())) {
                after.add(w.id());
            }
        }
        System.out.printf("writer: %d commits, %d before the consistent point %s, %d after, %d straddling%n", writes.size(),
                before.size(), point, after.size(), writes.size() - before.size() - after.size());
        assertThat(before).as("commits before the consistent point").isNotEmpty();
        assertThat(after).as("commits after the consistent point").isNotEmpty();
        PgNode node = cluster.nodes().get(3);
        assertThat(idsPresent(node, "live", before)).as("copied: committed before the consistent point").isEqualTo(before.size());
        assertThat(idsPresent(node, "live", after)).as("not copied: committed after the consistent point").isZero();
        // and the recorded consistent point is the slot's
        assertThat(meta(cluster.nodes().get(0), "live", MetaLedger.CONSISTENT_POINT)).isEqualTo(point.toString());
    }

    @Test
    void chunkedCopyIsCompleteExactlyOnceRoutedAndIndexedAndHonoursPriorities() throws Exception {
        createDb("quiet", 120_000);
        ClusterPlan plan = plan("quiet");
        long[] sessionsBefore = new long[4];
        for (int k = 0; k < 4; k++) {
            sessionsBefore[k] = sessions(cluster.nodes().get(k), "quiet");
        }
        SnapshotResult first = snapshot(plan, 10_000);
        // a backend is a fork and a cold catalog cache (40 ms of node CPU each where this was measured): a node
        // gets the layout's, the control store's, the index builder's and one per copy job (2), whatever the
        // number of chunks and tables; two more allowed for this test's own sessions
        for (int k = 0; k < 4; k++) {
            assertThat(sessions(cluster.nodes().get(k), "quiet") - sessionsBefore[k])
                    .as("sessions the snapshot opened on node " + k).isLessThanOrEqualTo(5 + 2);
        }
        assertThat(first.chunksCopied()).isGreaterThanOrEqualTo(10);
        assertThat(first.chunksSkipped()).isZero();

        try (Connection src = cluster.source().connect("quiet")) {
            for (PgNode n : cluster.nodes()) {
                try (Connection dst = n.connect("quiet")) {
                    for (String t : List.of("device_types", "devices", "events")) {
                        String key = t.equals("events") ? "event_id" : t.equals("devices") ? "device_id" : "device_type_id";
                        assertThat(Datasets.tableDigest(dst, "public." + t, List.of(key)))
                                .as(t + " seen from " + n.name()).isEqualTo(Datasets.tableDigest(src, "public." + t, List.of(key)));
                    }
                    assertThat(Datasets.diffRows(src, dst, "public.events", List.of("event_id"), 10)).isEmpty();
                }
            }
        }
        // every row is in a local partition of the node the router sent it to: what each node holds locally
        // equals what its copy markers say it was sent
        for (int k = 0; k < 4; k++) {
            PgNode n = cluster.nodes().get(k);
            TablePlan events = plan.table(new TableId("public", "events")).orElseThrow();
            long local = 0;
            for (int p : events.partitionsOn(k, 4)) {
                local += count(n, "quiet", "SELECT count(*) FROM ONLY " + events.partition(p).quoted());
            }
            assertThat(local).isEqualTo(count(n, "quiet", "SELECT coalesce(sum(rows), 0) FROM shardlift.copy_done WHERE table_name = 'public.events'"));
            // keys built after the data: the widened primary key on each local partition, and ANALYZE ran
            assertThat(count(n, "quiet", "SELECT count(*) FROM pg_constraint WHERE contype = 'p' AND conrelid::regclass::text LIKE 'events\\_%'"))
                    .isEqualTo(2);
            assertThat(count(n, "quiet", "SELECT count(*) FROM pg_stat_user_tables WHERE relname LIKE 'events\\_%' AND last_analyze IS NOT NULL"))
                    .isEqualTo(2);
        }
        // priorities: a table starts only after every table of a higher priority is copied
        Timestamp typesDone = ts("SELECT copied_at FROM shardlift.copy_table WHERE table_name = 'public.device_types'");
        Timestamp devicesStart = ts("SELECT started_at FROM shardlift.copy_table WHERE table_name = 'public.devices'");
        Timestamp devicesDone = ts("SELECT copied_at FROM shardlift.copy_table WHERE table_name = 'public.devices'");
        Timestamp eventsStart = ts("SELECT started_at FROM shardlift.copy_table WHERE table_name = 'public.events'");
        assertThat(devicesStart).isAfterOrEqualTo(typesDone);
        assertThat(eventsStart).isAfterOrEqualTo(devicesDone);

        // run again: everything is there, nothing is copied twice
        SnapshotResult second = snapshot(plan, 10_000);
        assertThat(second.chunksCopied()).isZero();
        assertThat(second.chunksSkipped()).isEqualTo(first.chunksCopied());
        assertThat(count(cluster.nodes().get(1), "quiet", "SELECT count(*) FROM public.events")).isEqualTo(120_000);
    }

    @Test
    void theControlStoreRidesOutANodeRestartBetweenTwoCalls() throws Exception {
        createDb("ctl", 10);
        ClusterPlan plan = plan("ctl");
        snapshot(plan, 1_000); // lays the control schema out
        ControlStore store = new ControlStore(plan.spec().nodes());
        try {
            store.putMeta("probe", "before");
            List<Long> first = clientPids(cluster.nodes().get(0), "ctl");
            store.putMeta("probe", "again");
            assertThat(first).as("the store's one session on node 0").hasSize(1);
            assertThat(clientPids(cluster.nodes().get(0), "ctl")).as("the second call reuses the first one's session")
                    .isEqualTo(first);
            cluster.nodes().get(0).restart(); // the store's session is cut
            store.putMeta("probe", "after a restart");
            assertThat(store.meta("probe")).contains("after a restart");
        } finally {
            store.close();
        }
    }

    /** Backends of clients connected to the database now. */
    static List<Long> clientPids(PgNode n, String db) throws SQLException {
        List<Long> pids = new ArrayList<>();
        try (Connection c = n.connect("postgres"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT pid FROM pg_stat_activity WHERE datname = '" + db
                     + "' AND backend_type = 'client backend' ORDER BY pid")) {
            while (rs.next()) {
                pids.add(rs.getLong(1));
            }
        }
        return pids;
    }

    /** Sessions ever opened on the database, once every other session there has ended (and so reported). */
    static long sessions(PgNode n, String db) throws SQLException, InterruptedException {
        try (Connection c = n.connect("postgres"); Statement st = c.createStatement()) {
            for (int i = 0; i < 250; i++) {
                try (ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE datname = '" + db + "'")) {
                    rs.next();
                    if (rs.getLong(1) == 0) {
                        break;
                    }
                }
                Thread.sleep(20);
            }
            st.execute("SELECT pg_stat_clear_snapshot()");
            try (ResultSet rs = st.executeQuery("SELECT sessions FROM pg_stat_database WHERE datname = '" + db + "'")) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    static Lsn read(PreparedStatement lsn) throws SQLException {
        try (ResultSet rs = lsn.executeQuery()) {
            rs.next();
            return Lsn.parse(rs.getString(1));
        }
    }

    static int idsPresent(PgNode node, String db, List<Long> ids) throws SQLException {
        try (Connection c = node.connect(db); PreparedStatement ps = c.prepareStatement(
                "SELECT count(*) FROM public.events WHERE event_id = ANY (?)")) {
            ps.setArray(1, c.createArrayOf("bigint", ids.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    static long count(PgNode n, String db, String sql) throws SQLException {
        try (Connection c = n.connect(db); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static String meta(PgNode n, String db, String key) throws SQLException {
        try (Connection c = n.connect(db); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT value FROM shardlift.meta WHERE key = '" + key + "'")) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    static Timestamp ts(String sql) throws SQLException {
        try (Connection c = cluster.nodes().get(0).connect("quiet"); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getTimestamp(1);
        }
    }
}
