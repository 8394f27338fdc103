package io.shardlift.router.catalog;

import io.shardlift.router.TableId;
import java.util.List;
import java.util.Optional;

/**
 * Everything shardlift needs to know about one source table, read once from the catalog.
 *
 * @param relkind      {@code r} plain, {@code p} partitioned, {@code v} view, {@code f} foreign...
 * @param replicaIdentity {@code d} default, {@code f} full, {@code i} index, {@code n} nothing
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
        long totalBytes) {

    public TableInfo {
        columns = List.copyOf(columns);
        uniques = List.copyOf(uniques);
        indexes = List.copyOf(indexes);
        foreignKeys = List.copyOf(foreignKeys);
        checks = List.copyOf(checks);
        sequences = List.copyOf(sequences);
    }

    public Optional<ColumnInfo> column(String name) {
        return columns.stream().filter(c -> c.name().equals(name)).findFirst();
    }

    public List<String> columnNames() {
        return columns.stream().map(ColumnInfo::name).toList();
    }
}
