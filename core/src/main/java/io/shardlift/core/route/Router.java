package io.shardlift.core.route;

import io.shardlift.core.TableId;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.plan.TablePlan;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where rows go: for every migrated table, a {@link TableRoute} resolved once from the plan. The
 * per-row path ({@link TableRoute#partitionOf}) does no lookups and builds no strings.
 */
public final class Router {

    private final Map<TableId, TableRoute> routes;
    private final int nodes;

    private Router(Map<TableId, TableRoute> routes, int nodes) {
        this.routes = Map.copyOf(routes);
        this.nodes = nodes;
    }

    public static Router of(ClusterPlan plan) {
        Map<TableId, TableRoute> routes = new LinkedHashMap<>();
        for (TablePlan t : plan.tables()) {
            routes.put(t.id(), new TableRoute(t, plan.nodeCount()));
        }
        return new Router(routes, plan.nodeCount());
    }

    public int nodeCount() {
        return nodes;
    }

    /** The route of a migrated table; an unknown table is a programming error. */
    public TableRoute table(TableId table) {
        TableRoute r = routes.get(table);
        if (r == null) {
            throw new IllegalArgumentException("table " + table + " is not part of this migration");
        }
        return r;
    }
}
