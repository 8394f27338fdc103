package io.shardlift.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlift.ops.workflow.Planning;
import io.shardlift.ops.workflow.Migration;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.spec.SpecLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two migrations one after the other in the same directory with the embedded broker: the first cuts over, which
 * frees the directory; the second (another source, fresh nodes) takes it, its stream bound to it alone, and both end
 * equal row by row.
 */
class TwoMigrationsIT {

    static final String DDL = "CREATE TABLE public.kinds (k int PRIMARY KEY);"
            + " INSERT INTO public.kinds SELECT generate_series(1, 5);"
            + " CREATE TABLE public.items (id bigint PRIMARY KEY, body text, old_kind int REFERENCES public.kinds (k))";

    @TempDir
    Path dir;

    @Test
    void theSecondMigrationTakesTheDirectoryOnceTheFirstHasCutOver() throws Exception {
        Path data = dir.resolve("data"); // startCaughtUp's data directory, the same for both
        for (String name : List.of("first", "second")) {
            int rows = name.equals("first") ? 5_000 : 7_000;
            try (SchemaFixture env = SchemaFixture.start("two-" + name, "two",
                    DDL, "INSERT INTO public.items SELECT g, '" + name + " ' || g FROM generate_series(1, " + rows + ") g")) {
                Path spec = env.spec(Files.createDirectories(dir.resolve(name)), "    - name: public\n      tables:\n"
                        + "        - {name: items, type: sharded, distributedby: id, partitions: 4}\n"
                        + "        - {name: kinds, type: global}\n");
                Files.writeString(spec, Files.readString(spec).replaceAll("bootstrap: \"[^\"]*\"", "bootstrap: embedded"));
                ClusterPlan plan = Planning.plan(new SpecLoader().load(spec));
                try (SchemaFixture.Writer w = env.writer(TwoMigrationsIT::write);
                     Migration m = env.startCaughtUp(plan, dir, w)) {
                    // a schema change carried to the nodes leaves its record there, which complete removes; a foreign key
                    // added during the migration is created at the cutover, a dropped one is not (rows now break it)
                    try (var c = env.cluster.source().connect(env.db); Statement st = c.createStatement()) {
                        st.execute("ALTER TABLE public.items ADD COLUMN tag text DEFAULT 't'");
                        st.execute("ALTER TABLE public.items ADD COLUMN kind int");
                        st.execute("ALTER TABLE public.items ADD CONSTRAINT items_kind FOREIGN KEY (kind) REFERENCES public.kinds (k)");
                        st.execute("UPDATE public.items SET kind = 2 WHERE id = 2");
                        st.execute("ALTER TABLE public.items DROP CONSTRAINT items_old_kind_fkey");
                        st.execute("UPDATE public.items SET old_kind = 999 WHERE id = 1");
                    }
                    SchemaFixture.cutOver(m);
                    w.awaitFenced();
                    for (var node : env.cluster.nodes()) {
                        try (var c = node.connect(env.db); Statement st = c.createStatement();
                             var rs = st.executeQuery("SELECT string_agg(conname || CASE WHEN convalidated THEN '' ELSE ' NOT VALID' END,"
                                     + " ', ' ORDER BY conname) FROM pg_constraint WHERE contype = 'f'"
                                     + " AND conrelid::regclass::text LIKE 'items%'")) {
                            rs.next();
                            assertThat(rs.getString(1)).as("foreign keys of items' local partitions on " + node.name())
                                    .matches("items_kind_\\d, items_kind_\\d");
                        }
                    }
                    // the rollback window's reverse stream reads the cluster's tables in their carried shape: a write
                    // through a node with the new column comes back to the source
                    try (var c = env.cluster.nodes().get(0).connect(env.db); Statement st = c.createStatement()) {
                        st.execute("INSERT INTO public.items (id, body, tag) VALUES (990000001, 'back', 'reverse')");
                    }
                    long deadline = System.nanoTime() + 120_000_000_000L;
                    while (sourceCount(env, "SELECT count(*) FROM public.items WHERE id = 990000001 AND tag = 'reverse'") == 0) {
                        assertThat(m.failure()).as(m.statusLine()).isEmpty();
                        assertThat(System.nanoTime()).as("the write through node 0 reaches the source: " + m.statusLine())
                                .isLessThan(deadline);
                        Thread.sleep(200);
                    }
                    // the rollback window's reverse stream lives in this broker: the directory is free once it closed
                    assertThat(data.resolve("finished")).as("the rollback window is open").doesNotExist();
                    assertThat(m.complete().done()).anyMatch(d -> d.startsWith("removed the DDL capture from the source"))
                            .anyMatch(d -> d.startsWith("dropped shardlift.ddl_applied") && d.endsWith("on 2 nodes"));
                }
                try (var c = env.cluster.source().connect(env.db); Statement st = c.createStatement();
                     var rs = st.executeQuery("SELECT (SELECT count(*) FROM pg_event_trigger WHERE evtname LIKE 'shardlift%'),"
                             + " (SELECT count(*) FROM pg_proc WHERE pronamespace::regnamespace::text = 'shardlift' AND proname LIKE 'ddl\\_%'),"
                             + " (SELECT count(*) FROM pg_class WHERE relnamespace::regnamespace::text = 'shardlift' AND relname LIKE 'ddl\\_%')")) {
                    rs.next();
                    assertThat(List.of(rs.getInt(1), rs.getInt(2), rs.getInt(3))).as("DDL capture on the source after complete")
                            .containsOnly(0);
                }
                for (var node : env.cluster.nodes()) {
                    try (var c = node.connect(env.db); Statement st = c.createStatement();
                         var rs = st.executeQuery("SELECT to_regclass('shardlift.ddl_applied') IS NULL")) {
                        rs.next();
                        assertThat(rs.getBoolean(1)).as("shardlift.ddl_applied on " + node.name()).isTrue();
                    }
                }
                env.assertEqual("public.items", List.of("id"));
                java.util.Properties identity = new java.util.Properties();
                try (var r = Files.newBufferedReader(data.resolve("identity"))) {
                    identity.load(r);
                }
                assertThat(identity.getProperty("source.label")).as("the directory is this migration's")
                        .contains(":" + env.cluster.source().port() + "/");
                assertThat(data.resolve("finished")).as("complete: the next migration may take the directory").exists();
            }
        }
    }

    private static long sourceCount(SchemaFixture env, String sql) throws SQLException {
        try (var c = env.cluster.source().connect(env.db); Statement st = c.createStatement(); var rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static int write(Statement st) throws SQLException {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        long id = 1 + r.nextLong(5_000);
        return st.executeUpdate(r.nextBoolean()
                ? "UPDATE public.items SET body = body || '+' WHERE id = " + id
                : "INSERT INTO public.items VALUES (" + (100_000 + r.nextLong(1_000_000)) + ", 'new') ON CONFLICT DO NOTHING");
    }
}
