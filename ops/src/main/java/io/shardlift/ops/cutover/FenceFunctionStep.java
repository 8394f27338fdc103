package io.shardlift.ops.cutover;

import static io.shardlift.core.Sql.literal;

import io.shardlift.core.spec.ConnInfo;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.util.stream.Collectors;

/**
 * {@code fence-function}: the function the write-fence triggers call, created before the freeze (the triggers inside
 * it only point here); harmless while no trigger calls it, so it is not undone.
 */
final class FenceFunctionStep implements CutoverStep {

    static final String FENCE_FUNCTION = "\"shardlift\".\"refuse_writes_moved\"";

    @Override
    public String name() {
        return "fence-function";
    }

    @Override
    public String run(CutoverContext ctx) throws Exception {
        String where = ctx.plan().spec().nodes().stream().map(ConnInfo::label).collect(Collectors.joining(", "));
        try (Statement st = ctx.links().source(0).createStatement()) {
            st.execute("CREATE SCHEMA IF NOT EXISTS \"shardlift\";\n"
                    + "CREATE OR REPLACE FUNCTION " + FENCE_FUNCTION + "() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN"
                    + " RAISE EXCEPTION 'table %.% moved to the sharded cluster at cutover %', TG_TABLE_SCHEMA, TG_TABLE_NAME, "
                    + literal(ctx.id() + " (" + OffsetDateTime.now() + ")")
                    + " USING ERRCODE = 'read_only_sql_transaction', HINT = " + literal("write to the cluster: " + where) + ";"
                    + " END $f$");
        }
        return FENCE_FUNCTION + " created; no trigger uses it yet";
    }

    @Override
    public String dryRun(CutoverContext ctx) {
        return "would create " + FENCE_FUNCTION + " for the write fence's triggers";
    }
}
