package io.shardlift.ops.cutover;

import java.sql.Connection;

/**
 * {@code release} — THE POINT OF NO RETURN: the fence transaction commits; the lock goes and the write-fence
 * triggers take over atomically. Its dry run rolls the fence transaction back instead (the dry run's fence released
 * its lock already): nothing stays.
 */
final class ReleaseStep implements CutoverStep {

    @Override
    public String name() {
        return "release";
    }

    @Override
    public String run(CutoverContext ctx) throws Exception {
        end(ctx, true);
        return "POINT OF NO RETURN passed: the cluster is the database now; writes were frozen " + ctx.freezeMillis()
                + " ms, from the first LOCK attempt";
    }

    @Override
    public String dryRun(CutoverContext ctx) throws Exception {
        end(ctx, false);
        return "lock released after " + ctx.freezeMillis() + " ms (writers waited for it); nothing changed";
    }

    private static void end(CutoverContext ctx, boolean commit) throws Exception {
        Connection fence = ctx.links().fence();
        synchronized (fence) {
            if (commit) {
                fence.commit();
            } else {
                fence.rollback();
            }
        }
        if (commit || !ctx.isReleased()) {
            ctx.released(System.nanoTime());
        }
    }
}
