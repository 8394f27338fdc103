package io.shardlift.ops.cutover;

import static io.shardlift.core.Sql.ident;

import io.shardlift.core.TableId;
import io.shardlift.core.ddl.SourceDdlLog;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * {@code lift-source-fence} (rollback) — THE POINT OF NO RETURN of the way back: the source's write-fence triggers are
 * dropped and the transaction commits; the source is the database again. Just before, the forward slot moves past
 * everything the reverse applier wrote on the source, so that the forward stream, started again, does not carry the
 * cluster's own changes back to it. With {@code replication.ddl: replicate} the source's DDL capture comes back in the
 * same transaction. The dry run rolls back instead.
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

    /** How long one attempt waits for a table's lock, and how many attempts the lift gets. */
    static final int LOCK_TIMEOUT_MS = 1_000;
    static final int ATTEMPTS = 15;

    /**
     * Drops the source's fence triggers in one transaction and commits it (or rolls it back: the dry run). Each DROP TRIGGER
     * takes its table's ACCESS EXCLUSIVE lock, one table after another, while the reverse applier may write to several of
     * the same tables in one transaction (it still streams during a dry run): the two can deadlock, and PostgreSQL then
     * aborts one of them (a CI run's dry run was refused so). The attempt is rolled back and made again: the applier's
     * transaction, once through, holds nothing, and a lock not granted within {@link #LOCK_TIMEOUT_MS} is asked for anew.
     */
    private static void end(CutoverContext ctx, boolean commit) throws Exception {
        StringBuilder sql = new StringBuilder("SET LOCAL lock_timeout = '" + LOCK_TIMEOUT_MS + "ms';\n");
        for (TableId rel : ctx.plan().tables().stream().flatMap(t -> t.source().relations().stream()).toList()) {
            sql.append("DROP TRIGGER IF EXISTS ").append(ident(WriteFenceStep.TRIGGER)).append(" ON ").append(rel.quoted()).append(";\n");
        }
        Connection fence = ctx.links().fence();
        synchronized (fence) {
            for (int attempt = 1; ; attempt++) {
                try (Statement st = fence.createStatement()) {
                    st.execute(sql.toString());
                    if (ctx.plan().spec().replication().replicateDdl()) {
                        // the cutover removed the DDL capture with its fence: it comes back in the same transaction as
                        // the source becomes writable, so no schema change on the source goes unlogged in between
                        SourceDdlLog.reinstall(fence);
                    }
                    break;
                } catch (SQLException e) {
                    fence.rollback();
                    boolean lockWait = "40P01".equals(e.getSQLState()) || "55P03".equals(e.getSQLState());
                    if (!lockWait || attempt >= ATTEMPTS) {
                        throw e;
                    }
                    Thread.sleep(20L * attempt);
                }
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
