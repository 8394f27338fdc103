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

    static final String DDL = "CREATE TABLE public.items (id bigint PRIMARY KEY, body text)";

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
                        + "        - {name: items, type: sharded, distributedby: id, partitions: 4}\n");
                Files.writeString(spec, Files.readString(spec).replaceAll("bootstrap: \"[^\"]*\"", "bootstrap: embedded"));
                ClusterPlan plan = Planning.plan(new SpecLoader().load(spec));
                try (SchemaFixture.Writer w = env.writer(TwoMigrationsIT::write);
                     Migration m = env.startCaughtUp(plan, dir, w)) {
                    SchemaFixture.cutOver(m);
                    w.awaitFenced();
                    // the rollback window's reverse stream lives in this broker: the directory is free once it closed
                    assertThat(data.resolve("finished")).as("the rollback window is open").doesNotExist();
                    m.complete();
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

    private static int write(Statement st) throws SQLException {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        long id = 1 + r.nextLong(5_000);
        return st.executeUpdate(r.nextBoolean()
                ? "UPDATE public.items SET body = body || '+' WHERE id = " + id
                : "INSERT INTO public.items VALUES (" + (100_000 + r.nextLong(1_000_000)) + ", 'new') ON CONFLICT DO NOTHING");
    }
}
