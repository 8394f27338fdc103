package io.shardlift.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlift.embedded.PgNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node down while {@code shardlift run} takes on a table created on the source during the migration: the migration
 * it starts again with the new table cannot lay it out or copy it while the node is away. It waits the node out, as the
 * stream rides out the same outage, instead of ending {@code run} (walked by hand: "snapshot failed: node 2 ... refused"
 * ended the process, every table's stream with it). Once the node is back the table is taken on, and source and
 * cluster are equal row by row, a writer having written to the old tables and the new one all along.
 */
class TakeOnNodeDownIT {

    static final String DB = "takedown";
    static final String SCHEMAS = "    - name: public\n      all: true\n      tables:\n"
            + "        - {name: items, type: sharded, distributedby: id, partitions: 4}\n";
    static final int TOPIC_PARTITIONS = 2;
    static SchemaFixture env;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        env = SchemaFixture.start("takedown", DB,
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
    void aNodeDownDuringATakeOnIsWaitedOutAndTheTableTakenOnOnceItIsBack() throws Exception {
        Path spec = env.spec(TOPIC_PARTITIONS).schemas(SCHEMAS).write(dir.resolve("migrate.yml"));
        Path log = Path.of("target", "TakeOnNodeDownIT-run.log").toAbsolutePath();
        Files.deleteIfExists(log);
        AtomicLong next = new AtomicLong(100_000);
        AtomicBoolean freshExists = new AtomicBoolean();
        SchemaFixture.Write write = st -> {
            long id = next.incrementAndGet();
            st.execute("INSERT INTO public.items (id, v) VALUES (" + id + ", 1)");
            st.execute("UPDATE public.kinds SET name = 'w" + id + "' WHERE k = " + (id % 50 + 1));
            if (freshExists.get()) {
                st.execute("INSERT INTO public.fresh (id, v) VALUES (" + id + ", 'w')");
                st.execute("UPDATE public.fresh SET v = 'u" + id + "' WHERE id = " + (id % 1000 + 1));
            }
            return 0;
        };
        PgNode node1 = env.cluster.nodes().get(1);
        ShardliftProcess run = ShardliftProcess.start(log, "run", "--config", spec.toString(), "--status-interval", "1");
        try (SchemaFixture.Writer w = env.writer(write)) {
            marker(run, w, "warm", 2 * TOPIC_PARTITIONS);
            node1.stop();
            try {
                source("CREATE TABLE public.fresh (id bigint PRIMARY KEY, v text)",
                        "INSERT INTO public.fresh SELECT g, 'f' || g FROM generate_series(1, 1000) g");
                freshExists.set(true);
                awaitLog(run, w, log, "a node or the source away is waited out");
                Thread.sleep(3_000);
                assertThat(run.isAlive()).as(run.describe()).isTrue();
            } finally {
                node1.startAgain();
            }
            awaitLog(run, w, log, "shardlift: took on [public.fresh] in ");
            marker(run, w, "after", 3 * TOPIC_PARTITIONS);
            w.close();
            assertThat(w.failed.get()).as("the writer").isNull();
            marker(run, w, "end", 3 * TOPIC_PARTITIONS);
            for (String table : List.of("public.items", "public.kinds", "public.fresh")) {
                env.assertEqual(table, List.of(table.equals("public.kinds") ? "k" : "id"));
            }
            assertThat(run.isAlive()).as(run.describe()).isTrue();
        } finally {
            run.kill();
        }
    }

    private static void source(String... sql) throws Exception {
        try (Connection c = env.cluster.source().connect(DB); Statement st = c.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        }
    }

    private static void awaitLog(ShardliftProcess run, SchemaFixture.Writer w, Path log, String text) throws Exception {
        long deadline = System.nanoTime() + 300_000_000_000L;
        while (!Files.readString(log).contains(text)) {
            assertThat(run.isAlive()).as(run.describe()).isTrue();
            assertThat(w.failed.get()).as("the writer").isNull();
            assertThat(System.nanoTime()).as("waiting for '" + text + "': " + run.describe()).isLessThan(deadline);
            Thread.sleep(300);
        }
    }

    /** Emits {@code name} until it reached {@code partitions} Kafka partitions on node 0. */
    private static void marker(ShardliftProcess run, SchemaFixture.Writer w, String name, int partitions) throws Exception {
        long deadline = System.nanoTime() + 300_000_000_000L;
        while (markers(name) < partitions) {
            try (Connection c = env.cluster.source().connect(DB)) {
                io.shardlift.core.ledger.Markers.emit(c, name);
            }
            long again = System.nanoTime() + 3_000_000_000L;
            while (System.nanoTime() < again && markers(name) < partitions) {
                assertThat(run.isAlive()).as(run.describe()).isTrue();
                assertThat(w.failed.get()).as("the writer").isNull();
                assertThat(System.nanoTime()).as("marker " + name + ": " + run.describe()).isLessThan(deadline);
                Thread.sleep(100);
            }
        }
    }

    private static long markers(String name) {
        try (Connection c = env.cluster.nodes().get(0).connect(DB); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM shardlift.marker WHERE marker = '" + name + "'")) {
            rs.next();
            return rs.getLong(1);
        } catch (java.sql.SQLException notYet) {
            return -1;
        }
    }
}
