package io.shardlift.ops.cutover;

import io.shardlift.core.TargetException;
import io.shardlift.core.plan.CarriedShapes;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.plan.Ddl;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;

/**
 * {@code foreign-keys}: every node's foreign keys, as the schema changes carried during the migration left them (a key
 * added on the source is created, a dropped one is not: {@link CarriedShapes}), created NOT VALID (no scan inside the freeze), each node in one
 * transaction on its second connection. Harmless should the cutover roll back: the application does not write the
 * nodes yet, and {@code validate} checks them after the release.
 */
final class ForeignKeysStep implements CutoverStep {

    @Override
    public String name() {
        return "foreign-keys";
    }

    @Override
    public String run(CutoverContext ctx) {
        ClusterPlan plan = CarriedShapes.onTheNodes(ctx.plan());
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int k = 0; k < plan.nodeCount(); k++) {
            int node = k;
            List<Ddl> ddl = plan.nodes().get(k).foreignKeys();
            if (ddl.isEmpty()) {
                continue;
            }
            Connection c = ctx.links().nodeAux(node);
            all.add(CompletableFuture.runAsync(() -> create(ctx, node, c, ddl), ctx.pool()));
        }
        all.forEach(SequencesStep::join);
        return perNode(plan) + " (alongside verify)";
    }

    @Override
    public String dryRun(CutoverContext ctx) {
        return perNode(CarriedShapes.onTheNodes(ctx.plan()));
    }

    private static String perNode(ClusterPlan plan) {
        return plan.nodes().get(0).foreignKeys().size() + " per node, NOT VALID";
    }

    private static void create(CutoverContext ctx, int node, Connection c, List<Ddl> ddl) {
        synchronized (c) {
            try (Statement st = c.createStatement()) {
                c.setAutoCommit(false);
                st.execute("SET LOCAL lock_timeout = '10s'");
                st.execute(ddl.stream().map(Ddl::sql).collect(Collectors.joining(";\n")));
                c.commit();
            } catch (SQLException e) {
                try {
                    c.rollback();
                } catch (SQLException ignored) {
                    // the connection is closed with the cutover
                }
                throw new TargetException("node " + node + " (" + ctx.plan().spec().nodes().get(node).label()
                        + "): creating foreign keys: " + e.getMessage(), e);
            } finally {
                try {
                    c.setAutoCommit(true);
                } catch (SQLException ignored) {
                    // closed with the cutover
                }
            }
        }
    }
}
