package io.shardlift.ops.cutover;

import io.shardlift.core.TargetException;
import io.shardlift.ops.reverse.ReverseSlots;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * {@code reverse-slots}: each node's publication and logical slot for the way back ({@link ReverseSlots}), inside the
 * freeze, after the drain and before the release. The forward applier has applied the last change by then (its own
 * writes lie before every slot's consistent point, so none is echoed back) and nothing else writes the cluster until
 * the release lets the application through (so no write after the point of no return lies before it). Undone, when a
 * later step fails, by dropping them: a slot left behind retains WAL on its node.
 */
final class ReverseSlotsStep implements CutoverStep {

    private volatile boolean created;

    @Override
    public String name() {
        return "reverse-slots";
    }

    @Override
    public String run(CutoverContext ctx) throws Exception {
        ctx.failpoint("cutover.reverse-slots");
        created = true; // from the first attempt on: a node's slot may exist even if another's failed
        List<CompletableFuture<String>> all = new ArrayList<>();
        for (int k = 0; k < ctx.plan().nodeCount(); k++) {
            int node = k;
            Connection c = ctx.links().nodeAux(node);
            all.add(CompletableFuture.supplyAsync(() -> create(ctx, node, c), ctx.pool()));
        }
        List<String> at = new ArrayList<>();
        for (CompletableFuture<String> f : all) {
            at.add(SequencesStep.join(f));
        }
        Connection node0 = ctx.links().node(0);
        synchronized (node0) {
            ReverseSlots.recordEpoch(node0, ctx.id()); // the captures of these slots keep their offsets under it
        }
        return "slot " + ReverseSlots.slot(ctx.plan().spec(), 0).replaceAll("_0$", "_<node>") + " and publication "
                + ReverseSlots.publication(ctx.plan().spec()) + " on each of " + at.size() + " nodes, from " + at;
    }

    private static String create(CutoverContext ctx, int node, Connection c) {
        synchronized (c) {
            try {
                if (!c.getAutoCommit()) {
                    c.rollback();
                    c.setAutoCommit(true);
                }
                // an earlier rollback fenced the cluster: the release that follows hands it the application again
                try (java.sql.Statement st = c.createStatement()) {
                    StringBuilder sql = new StringBuilder();
                    for (io.shardlift.core.TableId rel : ClusterFence.relations(ctx.plan(), node)) {
                        sql.append("DROP TRIGGER IF EXISTS ").append(io.shardlift.core.Sql.ident(ClusterFence.TRIGGER)).append(" ON ")
                                .append(rel.quoted()).append(";\n");
                    }
                    st.execute(sql.toString());
                }
                return ReverseSlots.create(ctx.plan(), node, c);
            } catch (SQLException e) {
                // what the preflight checks, seen now: says which setting to change, where the server's error may not
                String why = "";
                try {
                    List<String> problems = ReverseSlots.problems(ctx.plan(), node, c);
                    why = problems.isEmpty() ? "" : " — " + String.join("; ", problems);
                } catch (SQLException notReadable) {
                    // the server's own error is what there is
                }
                throw new TargetException("node " + node + " (" + ctx.plan().spec().nodes().get(node).label()
                        + "): cannot create the reverse stream's slot: " + e.getMessage() + why, e);
            }
        }
    }

    @Override
    public String dryRun(CutoverContext ctx) throws Exception {
        List<String> problems = new ArrayList<>();
        for (int k = 0; k < ctx.plan().nodeCount(); k++) {
            Connection c = ctx.links().nodeAux(k);
            synchronized (c) {
                problems.addAll(ReverseSlots.problems(ctx.plan(), k, c));
            }
        }
        if (!problems.isEmpty()) {
            throw new TargetException(String.join("; ", problems));
        }
        return "would create a reverse slot and publication on each of " + ctx.plan().nodeCount() + " nodes (each has wal_level"
                + " logical, a free slot and WAL sender, a user with REPLICATION)";
    }

    @Override
    public void undo(CutoverContext ctx) {
        if (created && !ctx.dryRun()) {
            ReverseSlots.dropAll(ctx.plan());
        }
    }
}
