package io.shardlift.ops.cutover;

import io.shardlift.core.TargetException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * {@code cluster-fence} (rollback): the application's writes to the cluster's migrated tables stop, on every node
 * ({@link ClusterFence}); the freeze counts from here. Undone by lifting the fence when a later step fails before the
 * rollback's point of no return.
 */
final class ClusterFenceStep implements CutoverStep {

    @Override
    public String name() {
        return "cluster-fence";
    }

    @Override
    public String run(CutoverContext ctx) {
        ctx.fenced(System.nanoTime());
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int k = 0; k < ctx.plan().nodeCount(); k++) {
            int node = k;
            Connection c = ctx.links().nodeAux(node);
            all.add(CompletableFuture.runAsync(() -> {
                synchronized (c) {
                    try {
                        ClusterFence.install(ctx.plan(), node, c, ctx.id());
                    } catch (SQLException e) {
                        throw new TargetException("node " + node + " (" + ctx.plan().spec().nodes().get(node).label()
                                + "): cannot fence the cluster's tables: " + e.getMessage(), e);
                    }
                }
            }, ctx.pool()));
        }
        all.forEach(SequencesStep::join);
        return "writes to the migrated tables on " + ctx.plan().nodeCount() + " nodes now fail with a message naming the source";
    }

    @Override
    public String dryRun(CutoverContext ctx) {
        return "would refuse writes to the migrated tables on " + ctx.plan().nodeCount() + " nodes";
    }

    @Override
    public void undo(CutoverContext ctx) {
        if (!ctx.dryRun()) {
            ClusterFence.liftAll(ctx.plan());
        }
    }
}
