package io.shardlift.core.plan;

import io.shardlift.core.TableId;
import io.shardlift.core.catalog.UserType;
import io.shardlift.core.catalog.SequenceInfo;
import io.shardlift.core.spec.MigrationSpec;
import java.util.List;
import java.util.Optional;

/**
 * The validated layout of a migration: every table's plan (in copy order: priority descending, then
 * name), the DDL per node, and the warnings an operator must read before running it.
 */
public record ClusterPlan(
        MigrationSpec spec,
        List<TablePlan> tables,
        List<UserType> types,
        List<SequenceInfo> sequences,
        List<NodeLayout> nodes,
        List<String> warnings) {

    public ClusterPlan {
        tables = List.copyOf(tables);
        types = List.copyOf(types);
        sequences = List.copyOf(sequences);
        nodes = List.copyOf(nodes);
        warnings = List.copyOf(warnings);
    }

    public Optional<TablePlan> table(TableId id) {
        return tables.stream().filter(t -> t.id().equals(id)).findFirst();
    }

    public int nodeCount() {
        return nodes.size();
    }

    /** The tables {@code node} holds locally: the partitions it owns of each sharded table, each reference table. */
    public List<TableId> localTables(int node) {
        return tables.stream().flatMap(t -> t.partitionsOn(node, nodeCount()).stream().map(t::partition)).toList();
    }
}
