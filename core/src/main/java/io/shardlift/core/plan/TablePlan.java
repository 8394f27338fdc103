package io.shardlift.core.plan;

import io.shardlift.core.TableId;
import io.shardlift.core.catalog.ForeignKeyInfo;
import io.shardlift.core.catalog.KeyConstraint;
import io.shardlift.core.catalog.TableInfo;
import io.shardlift.core.hash.KeyType;
import java.util.List;
import java.util.Optional;

/**
 * How one source table is laid out on the cluster: its kind, sharding key, partitions and the keys and
 * foreign keys it gets on the nodes.
 *
 * @param keyColumns       sharding key columns (empty for reference tables)
 * @param keyTypes         their hash types, in key order
 * @param partitions       hash partitions (1 for reference tables)
 * @param colocationRoot   the table whose partitioning this one shares (itself when it is the root)
 * @param primaryKey       the primary key on the nodes (widened with the sharding key when opted in)
 * @param uniques          unique constraints on the nodes (likewise)
 * @param foreignKeys      foreign keys re-created at cutover
 * @param priority         copy priority, higher first
 */
public record TablePlan(
        TableId id,
        TableKind kind,
        TableInfo source,
        List<String> keyColumns,
        List<KeyType> keyTypes,
        int partitions,
        TableId colocationRoot,
        KeyConstraint primaryKey,
        List<KeyConstraint> uniques,
        List<ForeignKeyInfo> foreignKeys,
        int priority) {

    public TablePlan {
        keyColumns = List.copyOf(keyColumns);
        keyTypes = List.copyOf(keyTypes);
        uniques = List.copyOf(uniques);
        foreignKeys = List.copyOf(foreignKeys);
    }

    public boolean sharded() {
        return kind == TableKind.SHARDED;
    }

    /** The table that holds partition {@code index} (on its owning node; a foreign table elsewhere). */
    public TableId partition(int index) {
        if (!sharded()) {
            return id;
        }
        return new TableId(id.schema(), Names.partition(id.name(), index));
    }

    /** Node that owns {@code partition} in a cluster of {@code nodes}: partition i lives on node i mod N. */
    public static int nodeOf(int partition, int nodes) {
        return partition % nodes;
    }

    /** Partitions owned by node {@code node}. */
    public List<Integer> partitionsOn(int node, int nodes) {
        if (!sharded()) {
            return List.of(0);
        }
        return java.util.stream.IntStream.range(0, partitions).filter(p -> nodeOf(p, nodes) == node).boxed().toList();
    }

    public Optional<Integer> keyPosition(String column) {
        int i = keyColumns.indexOf(column);
        return i < 0 ? Optional.empty() : Optional.of(i);
    }
}
