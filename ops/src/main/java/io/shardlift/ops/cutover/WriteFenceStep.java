package io.shardlift.ops.cutover;

import static io.shardlift.core.Sql.ident;

import io.shardlift.core.TableId;
import io.shardlift.core.ddl.SourceDdlLog;
import java.sql.Connection;
import java.sql.Statement;

/**
 * {@code write-fence}: a trigger on every migrated source table (and each partition of a partitioned one) refusing
 * writes with a message that says where the table went, created in the fence transaction: it takes over from the
 * lock when the release commits, and goes with the rollback otherwise.
 */
final class WriteFenceStep implements CutoverStep {

    static final String TRIGGER = "shardlift_moved";

    @Override
    public String name() {
        return "write-fence";
    }

    @Override
    public String run(CutoverContext ctx) throws Exception {
        StringBuilder sql = new StringBuilder();
        // a partitioned table's statement triggers do not fire for a statement naming one of its partitions
        for (TableId rel : ctx.plan().tables().stream().flatMap(t -> t.source().relations().stream()).toList()) {
            sql.append("DROP TRIGGER IF EXISTS " + ident(TRIGGER) + " ON " + rel.quoted() + ";\n");
            sql.append("CREATE TRIGGER " + ident(TRIGGER) + " BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON "
                    + rel.quoted() + " FOR EACH STATEMENT EXECUTE FUNCTION " + FenceFunctionStep.FENCE_FUNCTION + "();\n");
        }
        if (ctx.plan().spec().replication().replicateDdl()) {
            // the source's schema is no longer followed once the cluster is the database: its DDL capture goes with the
            // fence (and comes back with a rollback, which undoes this transaction)
            sql.append(SourceDdlLog.removeSql());
        }
        Connection fence = ctx.links().fence();
        synchronized (fence) {
            try (Statement st = fence.createStatement()) {
                st.execute(sql.toString()); // one round trip
            }
        }
        return "writes to the " + ctx.plan().tables().size() + " source tables now fail with a message naming the cluster";
    }

    @Override
    public String dryRun(CutoverContext ctx) {
        return "would refuse writes to " + ctx.plan().tables().size() + " source tables";
    }
}
