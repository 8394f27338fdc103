package io.shardlift.snapshotter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardlift.core.SourceException;
import io.shardlift.core.TableId;
import io.shardlift.core.ledger.CopyLedger.Chunk;
import io.shardlift.core.ledger.CopyLedger;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.plan.TablePlan;
import io.shardlift.testkit.Datasets;
import io.shardlift.embedded.PgCluster;
import io.shardlift.embedded.PgNode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A copy that dies in the middle of a table (the source ends the copy jobs' sessions, as a restarted source or a
 * killed process would) and the copy run again: every chunk a node recorded is there whole with its copy_done row,
 * nothing else is, and the second run copies only the rest, so no row is lost or doubled (compared row by row).
 */
class SnapshotResumeIT {

    static final String DB = "resume";
    static final TableId EVENTS = new TableId("public", "events");
    static final long CHUNK_ROWS = 2_000;
    static PgCluster cluster;

    @BeforeAll
    static void start() throws SQLException {
        cluster = PgCluster.start("resume", 2, "postgres");
        cluster.source().createDatabase(DB);
        cluster.nodes().forEach(n -> n.createDatabase(DB));
        try (Connection c = cluster.source().connect(DB)) {
            Datasets.createSensors(c);
            Datasets.loadSensors(c, 10, 1000, 200_000);
            try (Statement st = c.createStatement()) {
                st.execute("ANALYZE");
            }
        }
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aCopyKilledMidTableResumesWithEveryChunkCommittedExactlyOnce() throws Exception {
        ClusterPlan plan = SnapshotIT.plan(cluster, DB);
        TablePlan events = plan.table(EVENTS).orElseThrow();

        // first run: one job, so chunks go one after another; the source ends its session a few chunks into events
        CopyProgress progress = new CopyProgress(new SimpleMeterRegistry(), plan.tables().stream().map(TablePlan::id).toList());
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger doneWhenKilled = new AtomicInteger(-1);
        Thread killer = new Thread(() -> {
            while (!stop.get()) {
                int done = progress.tables().stream().filter(t -> t.table().equals(EVENTS)).findFirst().orElseThrow().chunksDone();
                if (done >= 3) {
                    doneWhenKilled.set(done);
                    terminateCopySessions();
                    return;
                }
                Thread.onSpinWait();
            }
        }, "killer");
        killer.start();
        try {
            assertThatThrownBy(() -> new Snapshotter(plan, new SnapshotOptions(1, CHUNK_ROWS), progress).run())
                    .isInstanceOf(SourceException.class).hasMessageContaining("run the command again");
        } finally {
            stop.set(true);
            killer.join();
        }
        assertThat(doneWhenKilled.get()).as("killed during the copy of events").isPositive();

        int chunks;
        try (Connection n0 = cluster.nodes().get(0).connect(DB)) {
            CopyLedger.TableState state = CopyLedger.tableState(n0, EVENTS.toString()).orElseThrow();
            assertThat(state.copied()).isFalse();
            chunks = state.chunks().size();
            for (int k = 0; k < cluster.nodes().size(); k++) {
                try (Connection n = cluster.nodes().get(k).connect(DB)) {
                    assertThat(CopyLedger.doneChunks(n, EVENTS.toString()).size()).as("node " + k + ": some chunks, not all")
                            .isBetween(1, chunks - 1);
                    assertChunksWhole(n, k, events, state.chunks());
                }
            }
        }

        // second run: only what is missing
        CopyProgress again = new CopyProgress(new SimpleMeterRegistry(), plan.tables().stream().map(TablePlan::id).toList());
        SnapshotResult second = new Snapshotter(plan, new SnapshotOptions(2, CHUNK_ROWS), again).run();
        assertThat(second.chunksSkipped()).as("chunks every node had").isPositive();
        assertThat(second.chunksCopied()).isPositive();

        try (Connection src = cluster.source().connect(DB)) {
            for (int k = 0; k < cluster.nodes().size(); k++) {
                PgNode node = cluster.nodes().get(k);
                try (Connection n = node.connect(DB)) {
                    CopyLedger.TableState state = CopyLedger.tableState(n, EVENTS.toString()).orElse(null);
                    if (k == 0) {
                        assertThat(state.copied()).isTrue();
                        assertThat(state.chunks()).hasSize(chunks);
                    }
                    assertThat(count(n, "SELECT count(*) FROM shardlift.copy_done WHERE table_name = 'public.events'"))
                            .as("node " + k + ": one copy_done row per chunk").isEqualTo(chunks);
                    try (Connection n0 = cluster.nodes().get(0).connect(DB)) {
                        assertChunksWhole(n, k, events, CopyLedger.tableState(n0, EVENTS.toString()).orElseThrow().chunks());
                    }
                    // the parent reaches every node's partitions: the whole table, compared row by row with the source
                    assertThat(Datasets.diffRows(src, n, "public.events", List.of("event_id"), 10)).as("events seen from node " + k)
                            .isEmpty();
                    assertThat(Datasets.tableDigest(n, "public.events", List.of("event_id")))
                            .isEqualTo(Datasets.tableDigest(src, "public.events", List.of("event_id")));
                }
            }
        }
    }

    /**
     * Each chunk node {@code k} recorded is there in full and once (its local rows in the chunk's key range are the
     * rows recorded), and the node holds no row of a chunk it did not record.
     */
    static void assertChunksWhole(Connection n, int k, TablePlan events, List<Chunk> chunks) throws SQLException {
        String locals = events.partitionsOn(k, cluster.nodes().size()).stream()
                .map(p -> "SELECT event_id FROM ONLY " + events.partition(p).quoted()).collect(Collectors.joining(" UNION ALL "));
        java.util.Set<Integer> done = CopyLedger.doneChunks(n, EVENTS.toString());
        for (Chunk c : chunks) {
            String where = c.lo().map(lo -> "event_id >= " + Long.parseLong(lo)).orElse("true") + " AND "
                    + c.hi().map(hi -> "event_id < " + Long.parseLong(hi)).orElse("true");
            long local = count(n, "SELECT count(*) FROM (" + locals + ") l WHERE " + where);
            long distinct = count(n, "SELECT count(DISTINCT event_id) FROM (" + locals + ") l WHERE " + where);
            assertThat(distinct).as("node " + k + " chunk " + c.index() + ": no row twice").isEqualTo(local);
            if (done.contains(c.index())) {
                assertThat(local).as("node " + k + " chunk " + c.index() + ": the rows its copy_done row counts")
                        .isEqualTo(recordedRows(n, c.index()));
            } else {
                assertThat(local).as("node " + k + " chunk " + c.index() + " not recorded: none of its rows").isZero();
            }
        }
    }

    static long recordedRows(Connection n, int chunk) throws SQLException {
        try (PreparedStatement ps = n.prepareStatement("SELECT rows FROM shardlift.copy_done WHERE table_name = ? AND chunk = ?")) {
            ps.setString(1, EVENTS.toString());
            ps.setInt(2, chunk);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** Ends the source sessions of the copy jobs, as the server does to its clients when it restarts. */
    static void terminateCopySessions() {
        try (Connection c = cluster.source().connect("postgres"); Statement st = c.createStatement()) {
            st.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + DB
                    + "' AND backend_type = 'client backend' AND pid <> pg_backend_pid()");
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    static long count(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
