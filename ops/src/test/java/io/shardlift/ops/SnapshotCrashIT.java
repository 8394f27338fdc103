package io.shardlift.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlift.testkit.Datasets;
import io.shardlift.embedded.PgCluster;
import io.shardlift.embedded.PgNode;
import io.shardlift.testkit.SpecWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code shardlift snapshot} killed with SIGKILL twice in the middle of the large table, restarted each
 * time: the cluster ends equal to the source, row by row, with every chunk on every node exactly once.
 */
class SnapshotCrashIT {

    static final long EVENTS = 400_000;
    static PgCluster cluster;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        cluster = PgCluster.start("crash", 4, "demo");
        try (Connection c = cluster.source().connect("demo")) {
            Datasets.createSensors(c);
            Datasets.loadSensors(c, 10, 1000, EVENTS);
        }
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void killedTwiceMidTableAndRestartedEndsEqualToTheSource() throws Exception {
        Path spec = SpecWriter.from(cluster, "demo").jobs(2).write(dir.resolve("migrate.yml"));
        Path log = dir.resolve("shardlift.log");
        String[] args = {"snapshot", "--config", spec.toString(), "--chunk-rows", "10000", "--progress-interval", "1"};

        int[] killedAt = new int[2];
        for (int round = 0; round < 2; round++) {
            ShardliftProcess p = ShardliftProcess.start(log, args);
            // wait until the copy of events is under way (some of its chunks committed on the nodes, not all), then kill
            int threshold = round == 0 ? 8 : 25;
            long deadline = System.nanoTime() + 120_000_000_000L;
            int done;
            while ((done = eventChunksOnAllNodes()) < threshold) {
                assertThat(p.isAlive()).as("shardlift ended before it could be killed; log:\n" + Files.readString(log)).isTrue();
                assertThat(System.nanoTime()).as("copy progress").isLessThan(deadline);
                Thread.sleep(20);
            }
            p.kill();
            killedAt[round] = done;
            Files.writeString(log, "\n==== SIGKILL with " + done + " chunks of events on all nodes ====\n",
                    java.nio.file.StandardOpenOption.APPEND);
        }
        int chunks = (int) count(cluster.nodes().get(0), "SELECT chunks FROM shardlift.copy_table WHERE table_name = 'public.events'");
        assertThat(killedAt[1]).as("killed in the middle of the table").isLessThan(chunks);

        ShardliftProcess last = ShardliftProcess.start(log, args);
        int code = last.waitFor(300);
        String output = Files.readString(log);
        assertThat(code).as(output).isZero();
        assertThat(output).containsPattern("chunks copied, [1-9][0-9]* chunks already on the nodes");

        // row by row, through every node
        try (Connection src = cluster.source().connect("demo")) {
            for (PgNode n : cluster.nodes()) {
                try (Connection dst = n.connect("demo")) {
                    assertThat(Datasets.diffRows(src, dst, "public.events", List.of("event_id"), 20)).as("events via " + n.name()).isEmpty();
                    assertThat(Datasets.diffRows(src, dst, "public.devices", List.of("device_id"), 20)).isEmpty();
                    assertThat(Datasets.diffRows(src, dst, "public.device_types", List.of("device_type_id"), 20)).isEmpty();
                }
            }
        }
        // each chunk recorded exactly once on every node (the marker's primary key forbids a second), and the
        // rows the markers account for are exactly the source's
        long markers = 0;
        long rows = 0;
        for (PgNode n : cluster.nodes()) {
            markers += count(n, "SELECT count(*) FROM shardlift.copy_done WHERE table_name = 'public.events'");
            rows += count(n, "SELECT sum(rows) FROM shardlift.copy_done WHERE table_name = 'public.events'");
        }
        assertThat(markers).isEqualTo(4L * chunks);
        assertThat(rows).isEqualTo(EVENTS);
    }

    static int eventChunksOnAllNodes() throws SQLException {
        int min = Integer.MAX_VALUE;
        for (PgNode n : cluster.nodes()) {
            try {
                min = (int) Math.min(min, count(n, "SELECT count(*) FROM shardlift.copy_done WHERE table_name = 'public.events'"));
            } catch (SQLException notYet) {
                return 0; // control schema not created yet
            }
        }
        return min;
    }

    static long count(PgNode n, String sql) throws SQLException {
        try (Connection c = n.connect("demo"); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
