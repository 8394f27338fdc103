package io.shardlift.ops.cutover;

import static io.shardlift.core.Sql.ident;

import io.shardlift.core.TableId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;

/**
 * {@code lift-source-fence} (rollback) — THE POINT OF NO RETURN of the way back: the source's write-fence triggers are
 * dropped and the transaction commits; the source is the database again. Just before, the forward slot moves past
 * everything the reverse applier wrote on the source, so that the forward stream, started again, does not carry the
 * cluster's own changes back to it. The dry run rolls back instead.
 */
final class LiftSourceFenceStep implements CutoverStep {

    @Override
    public String name() {
        return "lift-source-fence";
    }

    @Override
    public String run(CutoverContext ctx) throws Exception {
        Connection source = ctx.links().source(0);
        synchronized (source) {
            try (PreparedStatement ps = source.prepareStatement("SELECT pg_replication_slot_advance(slot_name, pg_current_wal_lsn())"
                    + " FROM pg_replication_slots WHERE slot_name = ?")) {
                ps.setString(1, ctx.plan().spec().replication().slot());
                ps.execute();
            }
        }
        end(ctx, true);
        return "POINT OF NO RETURN passed: the source is the database again; the cluster's writes were frozen "
                + ctx.freezeMillis() + " ms";
    }

    @Override
    public String dryRun(CutoverContext ctx) throws Exception {
        end(ctx, false);
        return "nothing changed";
    }

    private static void end(CutoverContext ctx, boolean commit) throws Exception {
        StringBuilder sql = new StringBuilder();
        for (TableId rel : ctx.plan().tables().stream().flatMap(t -> t.source().relations().stream()).toList()) {
            sql.append("DROP TRIGGER IF EXISTS ").append(ident(WriteFenceStep.TRIGGER)).append(" ON ").append(rel.quoted()).append(";\n");
        }
        Connection fence = ctx.links().fence();
        synchronized (fence) {
            try (Statement st = fence.createStatement()) {
                st.execute(sql.toString());
            }
            if (commit) {
                fence.commit();
            } else {
                fence.rollback();
            }
        }
        ctx.released(System.nanoTime());
    }
}
