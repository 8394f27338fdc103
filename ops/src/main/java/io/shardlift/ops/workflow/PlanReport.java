package io.shardlift.ops.workflow;

import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.plan.Ddl;
import io.shardlift.core.plan.NodeLayout;
import io.shardlift.core.plan.TablePlan;
import java.io.PrintWriter;
import java.util.List;
import java.util.stream.Collectors;

/** Renders a plan for people: tables, placement, warnings, and the DDL per node with secrets masked. */
public final class PlanReport {

    private PlanReport() {
    }

    public static void summary(ClusterPlan plan, PrintWriter out) {
        int n = plan.nodeCount();
        out.printf("source: %s    nodes: %d    jobs: %d    batch: %d%n%n", plan.spec().source().label(), n,
                plan.spec().jobs(), plan.spec().batch());
        out.printf("%-36s %-9s %-22s %10s %-28s %8s %12s%n", "table", "kind", "sharding key", "partitions", "colocated with",
                "priority", "rows (est.)");
        for (TablePlan t : plan.tables()) {
            out.printf("%-36s %-9s %-22s %10s %-28s %8d %12d%n", t.id(), t.sharded() ? "sharded" : "global",
                    t.sharded() ? String.join(", ", t.keyColumns()) : "-", t.sharded() ? String.valueOf(t.partitions()) : "-",
                    t.sharded() && !t.colocationRoot().equals(t.id()) ? t.colocationRoot().toString() : "-", t.priority(),
                    t.source().estimatedRows());
        }
        out.printf("%nplacement: partition i of a sharded table lives on node i mod %d; global tables on every node%n", n);
        for (NodeLayout node : plan.nodes()) {
            String parts = plan.tables().stream().filter(TablePlan::sharded)
                    .flatMap(t -> t.partitionsOn(node.index(), n).stream().map(p -> t.partition(p).name()))
                    .collect(Collectors.joining(", "));
            out.printf("  node %d  %-32s %s%n", node.index(), node.conn().label(), parts.isEmpty() ? "(global tables only)" : parts);
        }
        if (!plan.types().isEmpty()) {
            out.printf("%nuser-defined types created on every node, in this order (%d):%n", plan.types().size());
            plan.types().forEach(t -> out.println("  " + t.describe()));
        }
        if (!plan.warnings().isEmpty()) {
            out.printf("%nwarnings (%d):%n", plan.warnings().size());
            plan.warnings().forEach(w -> out.println("  ! " + w));
        }
    }

    public static void ddl(ClusterPlan plan, PrintWriter out) {
        for (NodeLayout node : plan.nodes()) {
            out.printf("%n-- ============ node %d: %s ============%n", node.index(), node.conn().label());
            section(out, "before the copy", node.tables());
            section(out, "after the copy (keys and indexes on local tables)", node.indexes());
            section(out, "at cutover (foreign keys, added NOT VALID)", node.foreignKeys());
            section(out, "after the write freeze", node.validations());
        }
    }

    private static void section(PrintWriter out, String title, List<Ddl> ddl) {
        out.printf("-- %s: %d statement%s%n", title, ddl.size(), ddl.size() == 1 ? "" : "s");
        ddl.forEach(d -> out.println(d.display() + ";"));
    }
}
