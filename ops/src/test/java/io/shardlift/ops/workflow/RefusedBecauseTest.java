package io.shardlift.ops.workflow;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlift.core.TableId;
import io.shardlift.core.ddl.SourceDdlLog.Created;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The message of a table created during the migration that the take-on refused, as the status and the cutover's gate
 * show it: with the planner's problems where the table's own message does not already name the fix.
 */
class RefusedBecauseTest {

    static final TableId T = new TableId("public", "t");

    @Test
    void aTableWithAPrimaryKeyTheTakeOnRefusedSaysThePlannersProblems() {
        Created withKey = new Created(T, "CREATE TABLE", true);
        String why = "public.t: column c has type xid, which shardlift cannot carry exactly: ...";
        assertThat(withKey.message() + Migration.refusedBecause(withKey, List.of(why)))
                .endsWith("or drop it on the source. The take-on refuses it now: " + why);
        assertThat(Migration.refusedBecause(withKey, null)).isEmpty();
        assertThat(Migration.refusedBecause(withKey, List.of())).isEmpty();
    }

    @Test
    void aTableWithoutAPrimaryKeyNamesThatFixOnceAndAnyOtherProblem() {
        Created noKey = new Created(T, "CREATE TABLE", false);
        String noPk = "public.t: has no primary key — shardlift applies changes by key and needs one; add it on the source"
                + " (ALTER TABLE \"public\".\"t\" ADD PRIMARY KEY (...))";
        // its own message names the fix already
        assertThat(noKey.message()).contains("ALTER TABLE \"public\".\"t\" ADD PRIMARY KEY (...)");
        assertThat(Migration.refusedBecause(noKey, List.of(noPk))).isEmpty();
        String other = "public.t: REPLICA IDENTITY NOTHING hides the keys ...";
        assertThat(Migration.refusedBecause(noKey, List.of(noPk, other))).isEqualTo(". The take-on refuses it now: " + noPk + "; " + other);
    }
}
