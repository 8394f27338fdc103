package io.shardlift.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.spec.SpecLoader;
import io.shardlift.embedded.PgNode;
import io.shardlift.ops.workflow.Migration;
import io.shardlift.ops.workflow.Planning;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A table's shape changes on the source before its copy (columns added, renamed, dropped), then the migration stops
 * mid-copy and starts again: the restart plans from the catalog as it is now, while the nodes still have the table as
 * the migration began with it (its changes reach them through the stream, after its copy). The source changes again
 * between the restart's planning and its start. The resumed copy writes the nodes' shape, the changes follow, and source
 * and cluster end equal row by row and in shape.
 */
class DdlCopyRestartIT {

    static final String DB = "ddlcopyrestart";
    static final String SCHEMAS = "    - name: public\n      tables:\n"
            + "        - {name: early, type: global, priority: 2}\n"
            + "        - {name: late, type: sharded, distributedby: id, partitions: 4, priority: 1}\n";
    static SchemaFixture env;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        env = SchemaFixture.start("ddlcopyrestart", DB,
                "CREATE TABLE public.early (id int PRIMARY KEY)",
                "INSERT INTO public.early SELECT generate_series(1, 10)",
                "CREATE TABLE public.late (id bigint PRIMARY KEY, a int NOT NULL, b text NOT NULL, c int, d text)",
                "INSERT INTO public.late SELECT g, g, 'b' || g, g, 'd' || g FROM generate_series(1, 3000) g");
    }

    @AfterAll
    static void stop() {
        if (env != null) {
            env.close();
        }
    }

    @Test
    void aCopyResumedAfterASchemaChangeWritesTheNodesShape() throws Exception {
        ClusterPlan plan = Planning.plan(new SpecLoader().load(env.spec(dir, SCHEMAS)));
        AtomicLong next = new AtomicLong(100_000);
        SchemaFixture.Write write = st -> {
            long id = next.incrementAndGet();
            st.execute("UPDATE public.late SET a = a + 1 WHERE id = " + (id % 3000 + 1));
            st.execute("UPDATE public.early SET id = id WHERE id = " + (id % 10 + 1));
            return 0;
        };
        io.shardlift.core.plan.LayoutApplier.apply(plan, java.util.EnumSet.of(io.shardlift.core.plan.LayoutApplier.Stage.TABLES));
        try (SchemaFixture.Writer w = env.writer(write)) {
            PgNode node0 = env.cluster.nodes().get(0);
            try (Connection hold = node0.connect(DB); Statement hs = hold.createStatement()) {
                // the copy is held at early (copied first) by a lock on node 0's copy of it
                hold.setAutoCommit(false);
                hs.execute("LOCK TABLE public.early IN ACCESS EXCLUSIVE MODE");
                Migration m = env.start(plan, dir);
                long deadline = System.nanoTime() + 120_000_000_000L;
                while (waiting(node0) == 0) {
                    assertThat(m.failure()).as(m.statusLine()).isEmpty();
                    assertThat(System.nanoTime()).as("the copy reaches public.early: " + m.statusLine()).isLessThan(deadline);
                    Thread.sleep(100);
                }
                try (Connection c = env.cluster.source().connect(DB); Statement st = c.createStatement()) {
                    for (String sql : new String[] {
                            "ALTER TABLE public.late ADD COLUMN e int DEFAULT 5", "UPDATE public.late SET e = 6 WHERE id = 1",
                            "INSERT INTO public.late (id, a, b, e) VALUES (10001, 1, 'b', 7)",
                            "ALTER TABLE public.late ADD COLUMN f text", "UPDATE public.late SET f = 'f' WHERE id = 2",
                            "ALTER TABLE public.late RENAME COLUMN d TO dd", "UPDATE public.late SET dd = 'renamed' WHERE id = 3",
                            "INSERT INTO public.late (id, a, b, dd) VALUES (10003, 3, 'b', 'dd')",
                            "ALTER TABLE public.late DROP COLUMN b", "UPDATE public.late SET a = -4 WHERE id = 4",
                            "INSERT INTO public.late (id, a) VALUES (10004, 4)"}) {
                        st.execute(sql);
                    }
                }
                // the migration stops mid-copy, as a crash would leave it: its copy of early fails on node 0
                Thread closing = new Thread(m::close);
                closing.start();
                while (closing.isAlive()) {
                    terminateWaiting(node0);
                    closing.join(200);
                }
                hold.commit();
            }

            // the restart plans from the catalog as it is now: late has e, f and dd, no b
            ClusterPlan again = Planning.plan(new SpecLoader().load(env.spec(dir, SCHEMAS)));
            assertThat(again.tables().stream().filter(t -> t.id().name().equals("late")).findFirst().orElseThrow().source().columns())
                    .extracting(io.shardlift.core.catalog.ColumnInfo::name).containsExactly("id", "a", "c", "dd", "e", "f");
            // and the source changes again between that planning and the start (found by hand: the capture refused to
            // start, "the table changed since it was planned"); the change is in the DDL log, so the stream carries it
            try (Connection c = env.cluster.source().connect(DB); Statement st = c.createStatement()) {
                st.execute("ALTER TABLE public.late ADD COLUMN g int");
                st.execute("UPDATE public.late SET g = 11 WHERE id = 6");
                st.execute("ALTER TABLE public.late DROP COLUMN c");
                st.execute("INSERT INTO public.late (id, a, g) VALUES (10006, 6, 12)");
            }
            try (Migration m = env.start(again, dir)) {
                env.awaitCaughtUp(m, w);
                try (Connection c = env.cluster.source().connect(DB); Statement st = c.createStatement()) {
                    st.execute("UPDATE public.late SET e = 8, f = 'g', dd = 'again' WHERE id = 5");
                    st.execute("INSERT INTO public.late (id, a, e, f, g) VALUES (10005, 5, 9, 'h', 13)");
                }
                w.close();
                try (Connection c = env.cluster.source().connect(DB)) {
                    io.shardlift.core.ledger.Markers.emit(c, "copyrestart");
                }
                env.awaitMarker(m, "copyrestart", 4, 120);
                assertThat(m.failure()).as(m.statusLine()).isEmpty();
                env.assertEqual("public.late", List.of("id"));
                env.assertEqual("public.early", List.of("id"));
                env.assertShapeEqual("public", "late");
            }
        }
    }

    private static long waiting(PgNode n) throws SQLException {
        try (Connection c = n.connect(DB); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_locks WHERE relation = 'public.early'::regclass AND NOT granted")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static void terminateWaiting(PgNode n) throws SQLException {
        try (Connection c = n.connect(DB); Statement st = c.createStatement()) {
            st.execute("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE relation = 'public.early'::regclass AND NOT granted");
        }
    }
}
