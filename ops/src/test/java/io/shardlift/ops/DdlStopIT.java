package io.shardlift.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.spec.SpecLoader;
import io.shardlift.ops.cutover.CutoverReport;
import io.shardlift.ops.workflow.Migration;
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
 * {@code replication.ddl: stop}, with writers running: nothing records a table created during the migration, so the
 * catalog is compared with the plan, and a table created in an {@code all: true} schema holds the cutover while it
 * exists (the cutover would leave its rows behind); once it is dropped the cutover's checks pass. A schema change of a
 * migrated table stops the capture before it, with a message that says what to do.
 */
class DdlStopIT {

    static final String DB = "ddlstop";
    static final String SCHEMAS = "    - name: public\n      all: true\n      tables:\n"
            + "        - {name: items, type: sharded, distributedby: id, partitions: 4}\n";
    static SchemaFixture env;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        env = SchemaFixture.start("ddlstop", DB,
                "CREATE TABLE public.items (id bigint PRIMARY KEY, v int NOT NULL DEFAULT 0)",
                "INSERT INTO public.items SELECT g, g % 7 FROM generate_series(1, 2000) g",
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
    void aNewTableHoldsTheCutoverAndASchemaChangeStopsTheCapture() throws Exception {
        Path spec = env.spec(2).schemas(SCHEMAS).with("replication:\n  ddl: stop\n").write(dir.resolve("migrate.yml"));
        ClusterPlan plan = Planning.plan(new SpecLoader().load(spec));
        assertThat(plan.spec().replication().replicateDdl()).isFalse();
        AtomicLong next = new AtomicLong(100_000);
        SchemaFixture.Write write = st -> {
            long id = next.incrementAndGet();
            st.execute("INSERT INTO public.items (id, v) VALUES (" + id + ", 1)");
            st.execute("UPDATE public.kinds SET name = 'w" + id + "' WHERE k = " + (id % 50 + 1));
            return 0;
        };
        try (SchemaFixture.Writer w = env.writer(write); Migration m = env.startCaughtUp(plan, dir, w);
             Connection c = env.cluster.source().connect(DB); Statement st = c.createStatement()) {
            assertThat(m.notCarriedTables()).isEmpty();
            st.execute("CREATE TABLE public.fresh (id int PRIMARY KEY, v text)");
            st.execute("INSERT INTO public.fresh SELECT g, 'f' || g FROM generate_series(1, 100) g");
            // not in a schema the spec migrates whole: not the migration's business
            st.execute("CREATE SCHEMA scratch");
            st.execute("CREATE TABLE scratch.t (id int PRIMARY KEY)");

            CutoverReport refused = m.cutover(true);
            assertThat(refused.outcome()).as(refused.toString()).isEqualTo(CutoverReport.Outcome.REFUSED);
            assertThat(refused.reason()).hasValueSatisfying(r -> assertThat(r).contains("public.fresh is in schema public, which"
                    + " the spec migrates with all: true, but not in this migration", "the cutover is refused while it exists")
                    .doesNotContain("scratch").doesNotContain("'f"));
            List<String> notCarried = m.notCarriedTables();
            assertThat(notCarried).hasSize(1);

            st.execute("DROP TABLE public.fresh");
            CutoverReport dry = null;
            for (int i = 0; i < 10 && (dry == null || dry.outcome() == CutoverReport.Outcome.REFUSED); i++) {
                if (dry != null) {
                    Thread.sleep(2_000);
                }
                dry = m.cutover(true);
            }
            assertThat(dry.outcome()).as(dry.toString()).isEqualTo(CutoverReport.Outcome.DRY_RUN);

            // a schema change of a migrated table: the capture stops before it, saying what to do
            st.execute("ALTER TABLE public.items ADD COLUMN extra int");
            st.execute("UPDATE public.items SET extra = 1 WHERE id = 1");
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (m.failure().isEmpty()) {
                assertThat(System.nanoTime()).as(m.statusLine()).isLessThan(deadline);
                Thread.sleep(200);
            }
            assertThat(m.failure().get().getMessage()).contains("table public.items changed on the source while it was being"
                    + " captured", "This migration does not carry schema changes (replication.ddl: stop)", "Start the migration over");
        }
    }
}
