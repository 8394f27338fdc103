package io.shardlift.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlift.ops.workflow.Planning;
import io.shardlift.ops.cutover.CutoverReport;
import io.shardlift.ops.workflow.Migration;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.spec.SpecLoader;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cutover proves content, not counts: one value changed on the cluster behind the stream's back (a sharded row
 * and one node's copy of a global row; counts stay equal) makes the cutover refuse before anything is fenced, naming
 * the tables and keys; once repaired, the cutover goes through with a writer running, and what it compares inside
 * the freeze is the rows changed since its content check.
 */
class ContentProofIT {

    static final String DB = "proof";
    static SchemaFixture env;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        env = SchemaFixture.start("proof", DB,
                "CREATE TABLE public.items (id bigint PRIMARY KEY, grp int NOT NULL, body text, tags int[])",
                "INSERT INTO public.items SELECT g, g % 10, 'item ' || g, ARRAY[g, g + 1] FROM generate_series(1, 20000) g",
                "CREATE TABLE public.kinds (kind int PRIMARY KEY, name text)",
                "INSERT INTO public.kinds SELECT g, 'kind ' || g FROM generate_series(1, 20) g");
    }

    @AfterAll
    static void stop() {
        if (env != null) {
            env.close();
        }
    }

    @Test
    void aCorruptedValueIsRefusedBeforeTheFenceNamingTableAndKey() throws Exception {
        ClusterPlan plan = Planning.plan(new SpecLoader().load(env.spec(dir, "    - name: public\n      tables:\n"
                + "        - {name: items, type: sharded, distributedby: id, partitions: 4}\n"
                + "        - {name: kinds, type: global}\n")));
        try (SchemaFixture.Writer w = env.writer(ContentProofIT::write); Migration m = env.startCaughtUp(plan, dir, w)) {
            // behind the stream's back: same row counts, other content
            env.cluster.nodes().get(0).execute(DB, "UPDATE public.items SET body = 'corrupted' WHERE id = 7");
            env.cluster.nodes().get(1).execute(DB, "SET shardlift.fanout = on", "UPDATE public.kinds SET name = 'corrupted' WHERE kind = 3");

            CutoverReport refused = m.cutover(false);
            assertThat(refused.outcome()).as(refused.toString()).isEqualTo(CutoverReport.Outcome.REFUSED);
            assertThat(refused.reason()).get().asString()
                    .contains("public.items key [7]: different on the cluster")
                    .contains("public.kinds key [3]: different on node 1")
                    .contains("nothing was fenced");
            assertThat(refused.steps()).extracting(CutoverReport.Step::name).containsSequence("pre-drain", "content")
                    .doesNotContain("fence", "release");
            assertThat(w.fenced.get()).isNull();
            assertThat(scalar("SELECT count(*) FROM pg_trigger WHERE tgname = 'shardlift_moved'")).isZero();

            // repaired, the cutover proves the content and goes through, the writer running until the fence
            env.cluster.nodes().get(0).execute(DB, "UPDATE public.items SET body = 'item 7' WHERE id = 7");
            env.cluster.nodes().get(1).execute(DB, "SET shardlift.fanout = on", "UPDATE public.kinds SET name = 'kind 3' WHERE kind = 3");
            CutoverReport done = SchemaFixture.cutOver(m);
            CutoverReport.Step content = done.steps().stream().filter(s -> s.name().equals("content")).findFirst().orElseThrow();
            CutoverReport.Step verify = done.steps().stream().filter(s -> s.name().equals("verify")).findFirst().orElseThrow();
            assertThat(content.detail()).contains("compared row by row with writes flowing");
            assertThat(verify.detail()).contains("rows changed since the content check compared by key")
                    .contains("the cluster holds the source's content");
            System.out.printf("content proof: content step %d ms (%s); in the freeze: verify %d ms (%s); freeze %d ms%n",
                    content.millis(), content.detail(), verify.millis(), verify.detail(), done.freezeMillis());
            w.awaitFenced();
        }
        env.assertEqual("public.items", List.of("id"));
        env.assertEqual("public.kinds", List.of("kind"));
    }

    private static long scalar(String sql) throws SQLException {
        try (Connection c = env.cluster.source().connect(DB); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Updates, inserts and deletes items (never item 7), renames kinds (never kind 3). */
    private static int write(Statement st) throws SQLException {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        long id = 8 + r.nextLong(19_000);
        return st.executeUpdate(switch (r.nextInt(5)) {
            case 0 -> "INSERT INTO public.items VALUES (" + (100_000 + r.nextLong(1_000_000)) + ", 1, 'new', '{}') ON CONFLICT DO NOTHING";
            case 1 -> "DELETE FROM public.items WHERE id = " + id;
            case 2 -> "UPDATE public.kinds SET name = name || '.' WHERE kind = " + (4 + r.nextInt(17));
            default -> "UPDATE public.items SET body = body || '+', tags = tags || " + r.nextInt(100) + " WHERE id = " + id;
        });
    }
}
