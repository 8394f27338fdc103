package io.shardlift.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlift.core.ledger.Markers;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.spec.SpecLoader;
import io.shardlift.ops.cutover.CutoverReport;
import io.shardlift.ops.workflow.LiveMigration;
import io.shardlift.ops.workflow.Migration;
import io.shardlift.ops.workflow.MigrationBackend;
import io.shardlift.ops.workflow.Planning;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tables created on the source during the migration in a schema the spec migrates whole ({@code all: true}, issue 15
 * item 3), with writers running. A running migration does not take them on, but never leaves them behind silently:
 * each is named, with what to do, and the cutover is refused while one is not carried (it would switch the application
 * to a cluster without it); the other tables stream on meanwhile. The running migration ({@link LiveMigration}, as
 * {@code shardlift run} keeps it) takes those with a primary key on as global tables, in the same process, copied under
 * a snapshot of their own with the stream's changes after it, so source and cluster are equal row by row, the new tables
 * too. A DROP TABLE of a migrated table stops that table's stream with its message.
 */
class DdlNewTableIT {

    static final String DB = "ddlnew";
    static final String SCHEMAS = "    - name: public\n      all: true\n      tables:\n"
            + "        - {name: items, type: sharded, distributedby: id, partitions: 4}\n";
    static SchemaFixture env;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        env = SchemaFixture.start("ddlnew", DB,
                "CREATE TABLE public.items (id bigint PRIMARY KEY, v int NOT NULL DEFAULT 0, note text)",
                "INSERT INTO public.items SELECT g, g % 7, 'n' || g FROM generate_series(1, 2000) g",
                "CREATE TABLE public.kinds (k int PRIMARY KEY, name text)",
                "INSERT INTO public.kinds SELECT g, 'k' || g FROM generate_series(1, 50) g",
                "CREATE TABLE public.gone (k int PRIMARY KEY, v int)",
                "INSERT INTO public.gone SELECT g, g FROM generate_series(1, 20) g");
    }

    @AfterAll
    static void stop() {
        if (env != null) {
            env.close();
        }
    }

    @Test
    void aTableCreatedDuringTheMigrationHoldsTheCutoverUntilTheRunningMigrationTakesItOn() throws Exception {
        ClusterPlan plan = Planning.plan(new SpecLoader().load(env.spec(dir, SCHEMAS)));
        assertThat(plan.tables()).hasSize(3);
        AtomicLong next = new AtomicLong(100_000);
        java.util.concurrent.atomic.AtomicBoolean newTables = new java.util.concurrent.atomic.AtomicBoolean();
        SchemaFixture.Write write = st -> {
            long id = next.incrementAndGet();
            st.execute("INSERT INTO public.items (id, v) VALUES (" + id + ", 1)");
            st.execute("UPDATE public.items SET v = v + 1 WHERE id = " + (id % 2000 + 1));
            st.execute("UPDATE public.kinds SET name = 'w" + id + "' WHERE k = " + (id % 50 + 1));
            if (newTables.get()) {
                st.execute("INSERT INTO public.renamed VALUES (" + id + ", 'w')");
                st.execute("UPDATE public.renamed SET v = 'u" + id + "' WHERE id = " + (id % 90 + 1));
                st.execute("UPDATE public.copied SET v = v + 1 WHERE id = " + (id % 200 + 1));
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
                st.execute("CREATE TABLE public.fresh (id int PRIMARY KEY, v text)");
                st.execute("INSERT INTO public.fresh SELECT g, 'f' || g FROM generate_series(1, 100) g");
                st.execute("UPDATE public.fresh SET v = 'changed' WHERE id <= 10");
                st.execute("DELETE FROM public.fresh WHERE id > 90");
                st.execute("CREATE TABLE public.copied AS SELECT id, v FROM public.items WHERE id <= 200");
                st.execute("SELECT k, name INTO public.selected FROM public.kinds");
                // not in a schema the spec migrates whole: not the migration's business
                st.execute("CREATE SCHEMA scratch");
                st.execute("CREATE TABLE scratch.t (id int PRIMARY KEY)");
                Thread.sleep(1_000);

                // the rest streams on: the marker passes every partition of items, kinds and gone (2 Kafka partitions each)
                Markers.emit(c, "ddlnew-1");
                env.awaitMarker(m, "ddlnew-1", 6, 120);
                assertThat(m.failure()).as(m.statusLine()).isEmpty();
                assertThat(m.applierStatus().lastError()).as(m.statusLine()).isEmpty();

                List<String> notCarried = m.notCarriedTables();
                assertThat(notCarried).hasSize(3);
                assertThat(notCarried.get(0)).startsWith("CREATE TABLE AS public.copied during the migration")
                        .contains("is not carried to the cluster yet", "the cutover is refused while it is not",
                                "It has no primary key, so its changes cannot be streamed: give it one (ALTER TABLE"
                                        + " \"public\".\"copied\" ADD PRIMARY KEY (...)) and `shardlift run` takes it on");
                assertThat(notCarried.get(1)).startsWith("CREATE TABLE public.fresh during the migration (a new table in schema"
                        + " public, which the spec migrates with all: true)").contains("`shardlift run` takes it on as a global table"
                        + " once the copy is done").doesNotContain("primary key");
                assertThat(notCarried.get(2)).startsWith("SELECT INTO public.selected during the migration");
                assertThat(String.join("", notCarried)).doesNotContain("scratch").doesNotContain("'f").doesNotContain("changed");

                CutoverReport refused = m.cutover(true);
                assertThat(refused.outcome()).as(refused.toString()).isEqualTo(CutoverReport.Outcome.REFUSED);
                assertThat(refused.reason()).hasValueSatisfying(r -> assertThat(r).contains(
                        "CREATE TABLE public.fresh during the migration", "CREATE TABLE AS public.copied", "SELECT INTO public.selected"));

                // found by its oid: a rename does not hide it
                st.execute("ALTER TABLE public.fresh RENAME TO renamed");
                st.execute("ALTER TABLE public.copied ADD PRIMARY KEY (id)");
                st.execute("DROP TABLE public.selected");
                assertThat(m.cutover(true).reason()).hasValueSatisfying(r -> assertThat(r)
                        .contains("CREATE TABLE public.renamed", "CREATE TABLE AS public.copied").doesNotContain("selected"));
                newTables.set(true);
                Thread.sleep(500);

                // the running migration takes them on, in this process: laid out as global tables, copied under a
                // snapshot of their own, streamed; the one it replaces no longer takes a cutover
                MigrationBackend backend = new MigrationBackend(live);
                List<String> said = new java.util.concurrent.CopyOnWriteArrayList<>();
                List<io.shardlift.core.TableId> taken = List.of();
                long deadline = System.nanoTime() + 60_000_000_000L;
                while (taken.isEmpty()) {
                    assertThat(System.nanoTime()).as(m.statusLine()).isLessThan(deadline);
                    taken = live.takeOnNewTables(said::add);
                    Thread.sleep(200);
                }
                assertThat(taken).extracting(Object::toString).containsExactly("public.copied", "public.renamed");
                assertThat(said).hasSize(2);
                assertThat(said.get(0)).startsWith("taking on [public.copied, public.renamed], created on the source during the"
                        + " migration: the migration starts again with them");
                assertThat(said.get(1)).startsWith("took on [public.copied, public.renamed] in ");
                assertThat(live.current()).isNotSameAs(m);
                Migration replaced = m;
                assertThatThrownBy(() -> replaced.cutover(true)).hasMessageContaining("the migration is taking on tables created on the source");
                m = live.current();
                env.awaitCaughtUp(m, w);
                assertThat(m.tablesToTakeOn()).as("nothing left to take on").isEmpty();
                assertThat(backend.status().get("takingOn")).isNull();
                assertThat(m.plan().tables()).hasSize(5);
                assertThat(m.notCarriedTables()).isEmpty();
                st.execute("INSERT INTO public.renamed SELECT g, 'r' || g FROM generate_series(1000, 1100) g");
                st.execute("DELETE FROM public.renamed WHERE id BETWEEN 1050 AND 1060");
                st.execute("UPDATE public.copied SET v = -v WHERE id <= 50");
                st.execute("ALTER TABLE public.renamed ADD COLUMN extra int DEFAULT 7");
                st.execute("UPDATE public.renamed SET extra = 8 WHERE id = 1001");
                Thread.sleep(1_000);
                w.close();
                Markers.emit(c, "ddlnew-2");
                env.awaitMarker(m, "ddlnew-2", 10, 120);
                assertThat(m.failure()).as(m.statusLine()).isEmpty();
                assertThat(m.applierStatus().lastError()).as(m.statusLine()).isEmpty();
                env.assertEqual("public.items", List.of("id"));
                env.assertEqual("public.kinds", List.of("k"));
                env.assertEqual("public.renamed", List.of("id"));
                env.assertEqual("public.copied", List.of("id"));

                // the cutover's checks take every table in, the new ones too (row by row in `content`, fenced in `fence`)
                CutoverReport dry = null;
                for (int i = 0; i < 10 && (dry == null || dry.outcome() == CutoverReport.Outcome.REFUSED); i++) {
                    if (dry != null) {
                        Thread.sleep(2_000);
                    }
                    dry = m.cutover(true);
                }
                assertThat(dry.outcome()).as(dry.toString()).isEqualTo(CutoverReport.Outcome.DRY_RUN);
                assertThat(dry.toString()).contains("of 5 tables compared row by row", "on 5 tables");

                // a migrated table dropped on the source: its stream stops with the message, the others go on
                st.execute("DROP TABLE public.gone");
                st.execute("UPDATE public.kinds SET name = 'after the drop' WHERE k = 1");
                Markers.emit(c, "ddlnew-3");
                env.awaitMarker(m, "ddlnew-3", 8, 120);
                for (int i = 0; i < 300 && m.applierStatus().lastError().isEmpty(); i++) {
                    Thread.sleep(200); // the barrier of public.gone stops it on its own partitions, apart from the marker
                }
                assertThat(m.applierStatus().lastError()).as(m.statusLine()).hasValueSatisfying(e -> assertThat(e).contains(
                        "DROP TABLE on public.gone cannot be carried to the cluster: the table was dropped on the source",
                        "The stream of public.gone stopped before any later change of it; the other tables go on"));
                env.assertEqual("public.kinds", List.of("k"));
            }
        }
    }
}
