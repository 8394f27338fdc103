package io.shardlift.core.catalog;

import io.shardlift.core.TableId;
import java.util.List;
import java.util.Optional;

/**
 * Everything shardlift needs to know about one source table, read once from the catalog.
 *
 * @param relkind      {@code r} plain, {@code p} partitioned, {@code v} view, {@code f} foreign...
 * @param replicaIdentity {@code d} default, {@code f} full, {@code i} index, {@code n} nothing
 * @param estimatedRows   for a partitioned table, the sum over its leaf partitions
 * @param totalBytes      for a partitioned table, the sum over its leaf partitions
 * @param partitions      a partitioned table's partitions at every level (leaves and sub-partitioned ones), parents
 *                        first; empty for a plain table. Writes straight into a partition bypass the parent's
 *                        statement triggers, so whatever guards the table guards each of these too
 */
public record TableInfo(
        TableId id,
        char relkind,
        char replicaIdentity,
        List<ColumnInfo> columns,
        Optional<KeyConstraint> primaryKey,
        List<KeyConstraint> uniques,
        List<IndexInfo> indexes,
        List<ForeignKeyInfo> foreignKeys,
        List<CheckInfo> checks,
        List<SequenceInfo> sequences,
        long estimatedRows,
        long totalBytes,
        List<TableId> partitions) {

    public TableInfo {
        columns = List.copyOf(columns);
        uniques = List.copyOf(uniques);
        indexes = List.copyOf(indexes);
        foreignKeys = List.copyOf(foreignKeys);
        checks = List.copyOf(checks);
        sequences = List.copyOf(sequences);
        partitions = List.copyOf(partitions);
    }

    /** A plain table. */
    public TableInfo(TableId id, char relkind, char replicaIdentity, List<ColumnInfo> columns, Optional<KeyConstraint> primaryKey,
                     List<KeyConstraint> uniques, List<IndexInfo> indexes, List<ForeignKeyInfo> foreignKeys, List<CheckInfo> checks,
                     List<SequenceInfo> sequences, long estimatedRows, long totalBytes) {
        this(id, relkind, replicaIdentity, columns, primaryKey, uniques, indexes, foreignKeys, checks, sequences, estimatedRows,
                totalBytes, List.of());
    }

    public boolean partitioned() {
        return relkind == 'p';
    }

    /** The table and, when it is partitioned, each of its partitions: every relation a write to its rows can name. */
    public List<TableId> relations() {
        if (partitions.isEmpty()) {
            return List.of(id);
        }
        List<TableId> all = new java.util.ArrayList<>(partitions.size() + 1);
        all.add(id);
        all.addAll(partitions);
        return List.copyOf(all);
    }

    public Optional<ColumnInfo> column(String name) {
        return columns.stream().filter(c -> c.name().equals(name)).findFirst();
    }

    public List<String> columnNames() {
        return columns.stream().map(ColumnInfo::name).toList();
    }
}
