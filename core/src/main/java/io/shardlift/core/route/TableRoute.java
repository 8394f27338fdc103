package io.shardlift.core.route;

import io.shardlift.core.TableId;
import io.shardlift.core.hash.KeyHasher;
import io.shardlift.core.plan.TablePlan;
import java.util.List;
import java.util.stream.IntStream;

/**
 * How rows of one table are routed. Sharded: partition = PostgreSQL's own hash-partition choice for the
 * key, node = partition mod N. Reference: every node.
 */
public final class TableRoute {

    private final TablePlan plan;
    private final KeyHasher hasher;
    private final int nodes;
    private final TableId[] partitionTables;

    TableRoute(TablePlan plan, int nodes) {
        this.plan = plan;
        this.nodes = nodes;
        this.hasher = plan.sharded() ? new KeyHasher(plan.keyTypes()) : null;
        this.partitionTables = IntStream.range(0, plan.partitions()).mapToObj(plan::partition).toArray(TableId[]::new);
    }

    public TablePlan plan() {
        return plan;
    }

    public boolean sharded() {
        return plan.sharded();
    }

    public List<String> keyColumns() {
        return plan.keyColumns();
    }

    public int partitions() {
        return plan.partitions();
    }

    /** Partition PostgreSQL would choose for these sharding-key values (in key order). */
    public int partitionOf(Object[] keyValues) {
        requireSharded();
        for (Object v : keyValues) {
            if (v == null) {
                throw new IllegalArgumentException(plan.id() + ": NULL in sharding key " + plan.keyColumns()
                        + " — a row with a NULL key has no owning shard");
            }
        }
        return hasher.remainder(keyValues, plan.partitions());
    }

    public int nodeOfPartition(int partition) {
        return TablePlan.nodeOf(partition, nodes);
    }

    /** The table that holds {@code partition} on its owning node. */
    public TableId partitionTable(int partition) {
        return partitionTables[partition];
    }

    private void requireSharded() {
        if (hasher == null) {
            throw new IllegalStateException(plan.id() + " is a reference table: its rows go to every node");
        }
    }
}
