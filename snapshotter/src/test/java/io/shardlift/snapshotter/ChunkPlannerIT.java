package io.shardlift.snapshotter;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlift.core.TableId;
import io.shardlift.core.catalog.SourceCatalog;
import io.shardlift.core.ledger.CopyLedger.Chunk;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.plan.SchemaPlanner;
import io.shardlift.core.plan.TablePlan;
import io.shardlift.core.spec.SpecLoader;
import io.shardlift.testkit.Datasets;
import io.shardlift.embedded.PgNode;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Chunk plans on a real source: key ranges that cover the table exactly once, in order. */
class ChunkPlannerIT {

    static PgNode source;
    static ClusterPlan plan;

    @BeforeAll
    static void start() throws SQLException {
        source = PgNode.start("chunkplan");
        source.createDatabase("chunks");
        try (Connection c = source.connect("chunks")) {
            Datasets.createSensors(c);
            Datasets.loadSensors(c, 10, 100, 60_000);
            try (Statement st = c.createStatement()) {
                st.execute("ANALYZE");
            }
            String yaml = "version: \"1.0\"\nmigrate:\n  connstr: \"" + source.connstr("chunks") + "\"\n" + """
                      schemas:
                        - name: public
                          tables:
                            - {name: device_types, type: global}
                            - {name: devices, type: sharded, distributedby: device_id, partitions: 4}
                            - {name: events, type: sharded, distributedby: device_id, colocatewith: devices, widen_unique: true}
                    cluster:
                      nodes:
                    """ + "    - \"" + source.connstr("chunks_node") + "\"\n"; // planning reads only the source
            plan = SchemaPlanner.plan(new SpecLoader().parse(yaml, "chunks.yml"), SourceCatalog.read(c, List.of("public")));
        }
    }

    @AfterAll
    static void stop() {
        if (source != null) {
            source.close();
        }
    }

    static TablePlan table(String name) {
        return plan.table(new TableId("public", name)).orElseThrow();
    }

    @Test
    void aLargeTableIsSplitIntoAdjacentRangesThatHoldEveryRowOnce() throws SQLException {
        try (Connection c = source.connect("chunks")) {
            ChunkPlanner.Plan p = ChunkPlanner.plan(c, table("events"), 5_000);
            assertThat(p.keyColumn()).isEqualTo("event_id");
            assertThat(p.estimatedRows()).isPositive();
            List<Chunk> chunks = p.chunks();
            assertThat(chunks).hasSizeGreaterThan(1);
            assertThat(chunks.get(0).lo()).isEmpty();
            assertThat(chunks.get(chunks.size() - 1).hi()).isEmpty();
            long total = 0;
            for (int i = 0; i < chunks.size(); i++) {
                Chunk k = chunks.get(i);
                assertThat(k.index()).isEqualTo(i);
                if (i > 0) {
                    assertThat(k.lo()).as("chunk " + i + " starts where chunk " + (i - 1) + " ends").isEqualTo(chunks.get(i - 1).hi());
                    assertThat(Long.parseLong(k.lo().orElseThrow())).isLessThan(Long.parseLong(k.hi().orElse(String.valueOf(Long.MAX_VALUE))));
                }
                total += rowsIn(c, k);
            }
            assertThat(total).as("rows in all chunks together").isEqualTo(count(c, "SELECT count(*) FROM public.events"));
        }
    }

    @Test
    void aTableSmallerThanOneChunkIsOneUnboundedChunk() throws SQLException {
        try (Connection c = source.connect("chunks")) {
            ChunkPlanner.Plan p = ChunkPlanner.plan(c, table("devices"), 5_000);
            assertThat(p.keyColumn()).isEqualTo("device_id");
            assertThat(p.chunks()).containsExactly(Chunk.whole());
        }
    }

    /** Rows of events in the chunk, by the same half-open range the copy reads. */
    static long rowsIn(Connection c, Chunk k) throws SQLException {
        String where = k.lo().map(lo -> "event_id >= " + Long.parseLong(lo)).orElse("true") + " AND "
                + k.hi().map(hi -> "event_id < " + Long.parseLong(hi)).orElse("true");
        return count(c, "SELECT count(*) FROM public.events WHERE " + where);
    }

    static long count(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
