package io.shardlift.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlift.core.TableId;
import io.shardlift.core.ledger.Markers;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.plan.TablePlan;
import io.shardlift.core.spec.SpecLoader;
import io.shardlift.embedded.PgNode;
import io.shardlift.ops.cutover.CutoverReport;
import io.shardlift.ops.workflow.LiveMigration;
import io.shardlift.ops.workflow.Migration;
import io.shardlift.ops.workflow.Planning;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A multi-tenant schema migrated whole ({@code all: true}) with the rule {@code unlisted: {type: sharded, distributedby:
 * tenant_id, colocatewith: tenants}}, writers running. A table created on the source during the migration that has
 * {@code tenant_id} in its primary key is taken on by the running migration ({@link LiveMigration}, as {@code shardlift run}
 * keeps it) as a sharded table colocated with tenants: hash-partitioned on every node, each partition's rows on the node
 * that owns it, copied under a snapshot of its own, then streamed (a change of a row's tenant moves it between partitions);
 * one created without {@code tenant_id} is taken on as a global table. Source and cluster are equal row by row. A later
 * change on the source that would turn a table the nodes hold sharded into a global one refuses the next take-on, saying why.
 */
class DdlNewShardedTableIT {

    static final String DB = "ddlshard";
    static final int PARTITIONS = 4;
    static final String SCHEMAS = "    - name: public\n      all: true\n"
            + "      unlisted: {type: sharded, distributedby: tenant_id, colocatewith: tenants}\n      tables:\n"
            + "        - {name: tenants, type: sharded, distributedby: id, partitions: " + PARTITIONS + "}\n";
    static SchemaFixture env;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        env = SchemaFixture.start("ddlshard", DB,
                "CREATE TABLE public.tenants (id bigint PRIMARY KEY, name text NOT NULL)",
                "INSERT INTO public.tenants SELECT g, 't' || g FROM generate_series(1, 40) g",
                "CREATE TABLE public.items (tenant_id bigint NOT NULL REFERENCES public.tenants, id bigint NOT NULL,"
                        + " v int NOT NULL DEFAULT 0, PRIMARY KEY (tenant_id, id))",
                "INSERT INTO public.items SELECT g % 40 + 1, g, g % 7 FROM generate_series(1, 2000) g",
                "CREATE TABLE public.kinds (k int PRIMARY KEY, name text)",
                "INSERT INTO public.kinds SELECT g, 'k' || g FROM generate_series(1, 50) g");
    }

    @AfterAll
    static void stop() {
        if (env != null) {
            env.close();
        }
    }

    @Test
    void aTableCreatedDuringTheMigrationWithTheRulesKeyIsTakenOnShardedOneWithoutItGlobal() throws Exception {
        ClusterPlan plan = Planning.plan(new SpecLoader().load(env.spec(dir, SCHEMAS)));
        // an unlisted table that exists from the start follows the rule too
        assertThat(plan.tables()).extracting(t -> t.id().name() + (t.sharded() ? " sharded" : " global"))
                .containsExactlyInAnyOrder("tenants sharded", "items sharded", "kinds global");
        AtomicLong next = new AtomicLong(100_000);
        AtomicBoolean newTables = new AtomicBoolean();
        SchemaFixture.Write write = st -> {
            long id = next.incrementAndGet();
            st.execute("INSERT INTO public.items (tenant_id, id, v) VALUES (" + (id % 40 + 1) + ", " + id + ", 1)");
            st.execute("UPDATE public.items SET v = v + 1 WHERE id = " + (id % 2000 + 1));
            st.execute("UPDATE public.kinds SET name = 'w" + id + "' WHERE k = " + (id % 50 + 1));
            if (newTables.get()) {
                st.execute("INSERT INTO public.notes (tenant_id, id, body) VALUES (" + (id % 40 + 1) + ", " + id + ", 'w')");
                st.execute("UPDATE public.notes SET body = 'u" + id + "' WHERE id = " + (id % 300 + 1));
                st.execute("DELETE FROM public.notes WHERE id = " + (id - 50));
                st.execute("INSERT INTO public.labels VALUES (" + id + ", 'l') ON CONFLICT DO NOTHING");
                st.execute("UPDATE public.labels SET v = 'u" + id + "' WHERE id = " + (id % 30 + 1));
            }
            return 0;
        };
        try (SchemaFixture.Writer w = env.writer(write);
             Connection c = env.cluster.source().connect(DB); Statement st = c.createStatement()) {
            io.micrometer.core.instrument.MeterRegistry registry = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
            Migration.Options options = SchemaFixture.options(dir);
            try (LiveMigration live = new LiveMigration(Migration.start(plan, options, registry), options, registry)) {
                Migration m = live.current();
                env.awaitCaughtUp(m, w);
                st.execute("CREATE TABLE public.notes (tenant_id bigint NOT NULL REFERENCES public.tenants, id bigint NOT NULL,"
                        + " body text, PRIMARY KEY (tenant_id, id))");
                st.execute("INSERT INTO public.notes SELECT g % 40 + 1, g, 'n' || g FROM generate_series(1, 300) g");
                st.execute("UPDATE public.notes SET body = 'changed' WHERE id <= 20");
                st.execute("DELETE FROM public.notes WHERE id > 290");
                st.execute("CREATE TABLE public.memos (tenant_id int NOT NULL, id int NOT NULL, PRIMARY KEY (tenant_id, id))");
                st.execute("INSERT INTO public.memos SELECT g % 40 + 1, g FROM generate_series(1, 200) g");
                st.execute("CREATE TABLE public.labels (id bigint PRIMARY KEY, v text)");
                st.execute("INSERT INTO public.labels SELECT g, 'l' || g FROM generate_series(1, 30) g");

                List<String> notCarried = m.notCarriedTables();
                for (int i = 0; i < 50 && notCarried.size() < 3; i++) {
                    Thread.sleep(200);
                    notCarried = m.notCarriedTables();
                }
                assertThat(notCarried).hasSize(3);
                assertThat(notCarried.get(2)).startsWith("CREATE TABLE public.notes during the migration").contains(
                        "`shardlift run` takes it on as its schema's unlisted: rule says (sharded by tenant_id, colocated with"
                                + " public.tenants; a global table if it lacks that key or its primary key does not hold it)");
                newTables.set(true);
                Thread.sleep(500);

                List<String> said = new CopyOnWriteArrayList<>();
                List<TableId> taken = List.of();
                long deadline = System.nanoTime() + 120_000_000_000L;
                while (taken.isEmpty()) {
                    assertThat(System.nanoTime()).as(m.statusLine()).isLessThan(deadline);
                    taken = live.takeOnNewTables(said::add);
                    Thread.sleep(200);
                }
                assertThat(taken).extracting(Object::toString).containsExactly("public.labels", "public.memos", "public.notes");
                assertThat(said).hasSize(2);
                assertThat(said.get(1)).startsWith("took on [public.labels, public.memos, public.notes] in ").contains(
                        "laid out as public.labels global, public.memos sharded by tenant_id (" + PARTITIONS + " partitions,"
                                + " colocated with public.tenants), public.notes sharded by tenant_id");
                m = live.current();
                TablePlan notes = m.plan().table(new TableId("public", "notes")).orElseThrow();
                assertThat(notes.sharded()).isTrue();
                assertThat(notes.keyColumns()).containsExactly("tenant_id");
                assertThat(notes.colocationRoot()).isEqualTo(new TableId("public", "tenants"));
                assertThat(m.plan().table(new TableId("public", "labels")).orElseThrow().sharded()).isFalse();
                env.awaitCaughtUp(m, w);
                assertThat(m.notCarriedTables()).isEmpty();

                st.execute("INSERT INTO public.notes SELECT g % 40 + 1, g, 'r' || g FROM generate_series(1000, 1200) g");
                // a row that changes tenant moves to the partition (and node) of its new tenant
                st.execute("UPDATE public.notes SET tenant_id = tenant_id % 40 + 1 WHERE id BETWEEN 1000 AND 1040");
                st.execute("DELETE FROM public.notes WHERE id BETWEEN 1100 AND 1120");
                st.execute("ALTER TABLE public.notes ADD COLUMN extra int DEFAULT 7");
                st.execute("UPDATE public.notes SET extra = 8 WHERE id = 1001");
                Thread.sleep(1_000);
                w.close();
                assertThat(w.failed.get()).isNull();
                Markers.emit(c, "ddlshard-1");
                env.awaitMarker(m, "ddlshard-1", 12, 180);
                assertThat(m.failure()).as(m.statusLine()).isEmpty();
                assertThat(m.applierStatus().lastError()).as(m.statusLine()).isEmpty();
                env.assertEqual("public.tenants", List.of("id"));
                env.assertEqual("public.items", List.of("tenant_id", "id"));
                env.assertEqual("public.kinds", List.of("k"));
                env.assertEqual("public.notes", List.of("tenant_id", "id"));
                env.assertEqual("public.labels", List.of("id"));
                env.assertEqual("public.memos", List.of("tenant_id", "id"));
                long sourceNotes = count(c, "SELECT count(*) FROM public.notes");
                assertThat(sourceNotes).isGreaterThan(400);
                assertPlaced("notes", sourceNotes);
                assertPlaced("items", count(c, "SELECT count(*) FROM public.items"));
                assertPlaced("memos", count(c, "SELECT count(*) FROM public.memos"));
                assertGlobal("labels");

                // the cutover's checks take the new tables in, the sharded one too
                CutoverReport dry = null;
                for (int i = 0; i < 10 && (dry == null || dry.outcome() == CutoverReport.Outcome.REFUSED); i++) {
                    if (dry != null) {
                        Thread.sleep(2_000);
                    }
                    dry = m.cutover(true);
                }
                assertThat(dry.outcome()).as(dry.toString()).isEqualTo(CutoverReport.Outcome.DRY_RUN);
                assertThat(dry.toString()).contains("of 6 tables compared row by row");

                // the rule decides per table from the catalog: a change on the source that no longer fits it would turn a
                // table the nodes hold sharded into a global one; the take-on is refused with why, the migration goes on
                st.execute("CREATE UNIQUE INDEX memos_id ON public.memos (id)");
                st.execute("CREATE TABLE public.later (id int PRIMARY KEY)");
                Migration running = m;
                deadline = System.nanoTime() + 120_000_000_000L;
                while (live.takeOnRefusal().isEmpty()) {
                    assertThat(System.nanoTime()).as(m.statusLine()).isLessThan(deadline);
                    assertThat(live.takeOnNewTables(said::add)).isEmpty();
                    Thread.sleep(200);
                }
                assertThat(live.takeOnRefusal()).hasValueSatisfying(r -> assertThat(r).startsWith("cannot take on"
                        + " [public.later], created on the source during the migration: planned from the source's catalog now,"
                        + " public.memos would be global instead of sharded by tenant_id (" + PARTITIONS + " partitions, colocated"
                        + " with public.tenants)").contains("its unique index memos_id (id) does not include tenant_id",
                        "undo that change on the source"));
                assertThat(live.current()).isSameAs(running);
                assertThat(running.failure()).isEmpty();
                // undone: the same tables waiting are taken on at the next look
                st.execute("DROP INDEX public.memos_id");
                taken = List.of();
                while (taken.isEmpty()) {
                    assertThat(System.nanoTime()).as(m.statusLine()).isLessThan(deadline);
                    taken = live.takeOnNewTables(said::add);
                    Thread.sleep(200);
                }
                assertThat(taken).extracting(Object::toString).containsExactly("public.later");
                assertThat(live.takeOnRefusal()).isEmpty();
                assertThat(said.stream().filter(x -> x.startsWith("cannot take on"))).hasSize(1);
                m = live.current();
                env.awaitCaughtUp(m, w);
                assertThat(m.plan().table(new TableId("public", "memos")).orElseThrow().sharded()).isTrue();
            }
        }
    }

    static long count(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /**
     * {@code table} is hash-partitioned on every node, partition p a local table on node p mod N and a foreign table on
     * the others; each local partition holds rows, only rows PostgreSQL itself hashes to that partition; and the local
     * partitions of all nodes together hold the source's rows, each once.
     */
    static void assertPlaced(String table, long sourceRows) throws SQLException {
        List<PgNode> nodes = env.cluster.nodes();
        long placed = 0;
        for (int k = 0; k < nodes.size(); k++) {
            try (Connection c = nodes.get(k).connect(DB)) {
                assertThat(relkind(c, "public." + table)).as(table + " on node " + k).isEqualTo("p");
                for (int p = 0; p < PARTITIONS; p++) {
                    String part = "public." + table + "_" + p;
                    boolean local = p % nodes.size() == k;
                    assertThat(relkind(c, part)).as(part + " on node " + k).isEqualTo(local ? "r" : "f");
                    if (!local) {
                        continue;
                    }
                    long rows = count(c, "SELECT count(*) FROM ONLY public." + table + "_" + p);
                    assertThat(rows).as("rows of " + part + " on node " + k).isPositive();
                    assertThat(count(c, "SELECT count(*) FROM ONLY public." + table + "_" + p + " WHERE NOT"
                            + " satisfies_hash_partition('public." + table + "'::regclass, " + PARTITIONS + ", " + p + ", tenant_id)"))
                            .as("rows of " + part + " on node " + k + " that hash to another partition").isZero();
                    placed += rows;
                }
            }
        }
        assertThat(placed).as(table + " rows in the local partitions of all nodes").isEqualTo(sourceRows);
    }

    /** {@code table} is a plain table on every node. */
    static void assertGlobal(String table) throws SQLException {
        for (PgNode n : env.cluster.nodes()) {
            try (Connection c = n.connect(DB)) {
                assertThat(relkind(c, "public." + table)).as(table + " on " + n.name()).isEqualTo("r");
            }
        }
    }

    static String relkind(Connection c, String table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT relkind::text FROM pg_class WHERE oid = to_regclass(?)")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }
}
