package io.shardlift.core.plan;

import io.shardlift.core.TableId;
import io.shardlift.core.spec.ConnInfo;
import java.util.List;
import java.util.Map;

/**
 * The DDL one node receives, in stages: {@code tables} before the copy (control schema, types,
 * sequences, servers, parents, partitions, reference tables), {@code indexes} after a table's data is in
 * (keys and indexes on local tables), {@code foreignKeys} at cutover (added NOT VALID, so the write
 * freeze does not wait for a scan) and {@code validations} right after the freeze.
 *
 * @param fingerprint identifies the layout; a node laid out for a different plan is refused
 */
public record NodeLayout(
        int index,
        ConnInfo conn,
        List<Ddl> tables,
        Map<TableId, List<Ddl>> indexesByTable,
        List<Ddl> foreignKeys,
        List<Ddl> validations,
        String fingerprint) {

    public NodeLayout {
        tables = List.copyOf(tables);
        indexesByTable = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(indexesByTable));
        foreignKeys = List.copyOf(foreignKeys);
        validations = List.copyOf(validations);
    }

    /** Keys and indexes of every table on this node, in plan order. */
    public List<Ddl> indexes() {
        return indexesByTable.values().stream().flatMap(List::stream).toList();
    }

    /** Keys and indexes of one table's local tables on this node. */
    public List<Ddl> indexes(TableId table) {
        return indexesByTable.getOrDefault(table, List.of());
    }

    /** FDW server name under which the other nodes reach node {@code index}. */
    public static String serverName(int index) {
        return "shardlift_node_" + index;
    }
}
