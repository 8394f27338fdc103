package io.shardlift.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardlift.core.TableId;
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
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two tables created on the source during the migration in a schema migrated whole ({@code all: true}), writers writing
 * to both: {@code a} without a primary key, which the planner refuses, and {@code b} with one. The running migration
 * ({@link LiveMigration}, as {@code shardlift run} keeps it) takes {@code b} on without waiting for {@code a}, and names
 * {@code a} with the planner's reason in its log and the status; the cutover is refused, naming {@code a} and the fix, as
 * its rows would be left behind. Once {@code a} has a primary key, the re-plan takes it on, and the cutover goes through.
 * Source and cluster are equal row by row, both new tables too. The take-on's swap leaves the meters of others in the
 * registry, and the new migration's are there.
 */
class DdlTakeOnRefusedIT {

    static final String DB = "takeonrefused";
    static final String SCHEMAS = "    - name: public\n      all: true\n      tables:\n"
            + "        - {name: items, type: sharded, distributedby: id, partitions: 4}\n";
    static final TableId A = new TableId("public", "a");
    static final TableId B = new TableId("public", "b");
    static SchemaFixture env;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        env = SchemaFixture.start("takeonrefused", DB,
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
    void aNewTableThePlannerRefusesDoesNotHoldTheOthersAndIsTakenOnOnceFixed() throws Exception {
        ClusterPlan plan = Planning.plan(new SpecLoader().load(env.spec(dir, SCHEMAS)));
        AtomicLong next = new AtomicLong(100_000);
        AtomicBoolean newTables = new AtomicBoolean();
        AtomicBoolean aHasKey = new AtomicBoolean();
        // held by the test to compare row by row while the writer waits between two writes
        Object writes = new Object();
        SchemaFixture.Write write = st -> {
            synchronized (writes) {
                long id = next.incrementAndGet();
                st.execute("INSERT INTO public.items (id, v) VALUES (" + id + ", 1)");
                st.execute("UPDATE public.kinds SET name = 'w" + id + "' WHERE k = " + (id % 50 + 1));
                if (newTables.get()) {
                    st.execute("INSERT INTO public.b VALUES (" + id + ", 'w')");
                    st.execute("UPDATE public.b SET v = 'u" + id + "' WHERE id = " + (id % 300 + 1));
                    st.execute("DELETE FROM public.b WHERE id = " + (id - 40));
                    st.execute("INSERT INTO public.a VALUES (" + id + ", 'w')");
                }
                if (aHasKey.get()) {
                    st.execute("UPDATE public.a SET v = 'u" + id + "' WHERE id = " + (id % 200 + 1));
                    st.execute("DELETE FROM public.a WHERE id = " + (id - 60));
                }
                return 0;
            }
        };
        MeterRegistry registry = new SimpleMeterRegistry();
        // another's meter on the process's registry (the control plane's, say): a take-on's swap must leave it
        Counter others = Counter.builder("shardlift.control.test").register(registry);
        try (SchemaFixture.Writer w = env.writer(write);
             Connection c = env.cluster.source().connect(DB); Statement st = c.createStatement()) {
            Migration.Options options = SchemaFixture.options(dir);
            try (LiveMigration live = new LiveMigration(Migration.start(plan, options, registry), options, registry)) {
                MigrationBackend backend = new MigrationBackend(live);
                Migration m = live.current();
                env.awaitCaughtUp(m, w);
                st.execute("CREATE TABLE public.a (id bigint NOT NULL, v text)");
                st.execute("INSERT INTO public.a SELECT g, 'a' || g FROM generate_series(1, 200) g");
                st.execute("CREATE TABLE public.b (id bigint PRIMARY KEY, v text)");
                st.execute("INSERT INTO public.b SELECT g, 'b' || g FROM generate_series(1, 300) g");
                st.execute("UPDATE public.b SET v = 'changed' WHERE id <= 20");
                newTables.set(true);

                // b is taken on; a, which the planner refuses, does not hold it
                List<String> said = new CopyOnWriteArrayList<>();
                List<TableId> taken = List.of();
                long deadline = System.nanoTime() + 180_000_000_000L;
                while (taken.isEmpty()) {
                    assertThat(System.nanoTime()).as(m.statusLine() + " " + said).isLessThan(deadline);
                    taken = live.takeOnNewTables(said::add);
                    Thread.sleep(200);
                }
                assertThat(taken).containsExactly(B);
                String refusal = "cannot take on [public.a], created on the source during the migration: public.a: has no"
                        + " primary key — shardlift applies changes by key and needs one; add it on the source (ALTER TABLE"
                        + " \"public\".\"a\" ADD PRIMARY KEY (...)) — planned again every 30 s and taken on once the planner"
                        + " accepts it; the other tables created on the source are not held by it";
                assertThat(live.takeOnRefusal()).hasValue(refusal);
                assertThat(said).hasSize(3);
                assertThat(said.get(0)).isEqualTo(refusal);
                assertThat(said.get(1)).startsWith("taking on [public.b], created on the source during the migration");
                assertThat(said.get(2)).startsWith("took on [public.b] in ").contains("laid out as public.b global");
                m = live.current();
                assertThat(m.plan().table(B)).isPresent();
                assertThat(m.plan().table(A)).isEmpty();

                // the swap removed the closed migration's meters only: others' stay, and the new migration's are there
                assertThat(registry.find("shardlift.control.test").counter()).isSameAs(others);
                assertThat(registry.find("shardlift.apply.lag").gauge()).isNotNull();
                assertThat(registry.find("shardlift.lag.wal").gauge()).isNotNull();
                assertThat(registry.find("shardlift.copy.state").tag("table", "public.b").gauge()).isNotNull();

                env.awaitCaughtUp(m, w);
                // the status names a with the planner's reason, and the message of a table not carried with the fix
                Map<String, Object> status = backend.status();
                assertThat(status.get("takingOn")).isNull();
                @SuppressWarnings("unchecked")
                List<String> notCarried = (List<String>) ((Map<String, Object>) status.get("apply")).get("notCarried");
                assertThat(notCarried).hasSize(2);
                assertThat(notCarried.get(0)).isEqualTo(refusal);
                assertThat(notCarried.get(1)).startsWith("CREATE TABLE public.a during the migration").contains(
                        "It has no primary key, so its changes cannot be streamed: give it one (ALTER TABLE \"public\".\"a\""
                                + " ADD PRIMARY KEY (...))");

                synchronized (writes) {
                    Markers.emit(c, "refused-1");
                    env.awaitMarker(m, "refused-1", 6, 180);
                    assertThat(m.failure()).as(m.statusLine()).isEmpty();
                    assertThat(m.applierStatus().lastError()).as(m.statusLine()).isEmpty();
                    env.assertEqual("public.b", List.of("id"));
                    env.assertEqual("public.items", List.of("id"));
                    env.assertEqual("public.kinds", List.of("k"));
                }

                // a's rows would be left behind: the cutover is refused, naming it and the fix, and changes nothing
                CutoverReport refused = m.cutover(false);
                assertThat(refused.outcome()).as(refused.toString()).isEqualTo(CutoverReport.Outcome.REFUSED);
                assertThat(refused.reason()).hasValueSatisfying(r -> assertThat(r).contains("CREATE TABLE public.a during the"
                        + " migration", "the cutover is refused while it is not", "ADD PRIMARY KEY").doesNotContain("public.b"));
                assertThat(w.fenced.get()).isNull();
                assertThat(m.cutoverState()).isEmpty();

                // fixed on the source: the re-plan takes a on
                st.execute("ALTER TABLE public.a ADD PRIMARY KEY (id)");
                aHasKey.set(true);
                taken = List.of();
                while (taken.isEmpty()) {
                    assertThat(System.nanoTime()).as(m.statusLine() + " " + said).isLessThan(deadline + 180_000_000_000L);
                    taken = live.takeOnNewTables(said::add);
                    Thread.sleep(200);
                }
                assertThat(taken).containsExactly(A);
                assertThat(live.takeOnRefusal()).isEmpty();
                assertThat(said.stream().filter(x -> x.startsWith("cannot take on"))).as("said once").hasSize(1);
                m = live.current();
                assertThat(m.plan().table(A)).isPresent();
                env.awaitCaughtUp(m, w);
                assertThat(m.notCarriedTables()).isEmpty();
                assertThat(registry.find("shardlift.control.test").counter()).isSameAs(others);
                assertThat(registry.find("shardlift.copy.state").tag("table", "public.a").gauge()).isNotNull();

                CutoverReport done = SchemaFixture.cutOver(m);
                assertThat(done.toString()).contains("of 4 tables compared row by row");
                w.awaitFenced();
                env.assertEqual("public.a", List.of("id"));
                env.assertEqual("public.b", List.of("id"));
                env.assertEqual("public.items", List.of("id"));
                env.assertEqual("public.kinds", List.of("k"));
            }
        }
    }
}
