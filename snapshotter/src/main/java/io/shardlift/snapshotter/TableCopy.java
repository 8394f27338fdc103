package io.shardlift.snapshotter;

import io.shardlift.core.Sql;
import io.shardlift.core.catalog.ColumnInfo;
import io.shardlift.core.hash.KeyHasher;
import io.shardlift.core.ledger.CopyLedger.Chunk;
import io.shardlift.core.plan.TablePlan;
import java.util.List;
import java.util.stream.IntStream;

/** Everything the copy of one table needs, resolved once: columns, key positions, hasher, SQL. */
final class TableCopy {

    final TablePlan plan;
    final String keyColumn;
    final List<Chunk> chunks;
    final long estimatedRows;
    final int fieldCount;
    final int[] keyFields;
    final KeyHasher hasher;
    final int[] nodeOfPartition;
    /** Whether a worker said that the copy reads the table in a changed shape. */
    final java.util.concurrent.atomic.AtomicBoolean shapeChangeSaid = new java.util.concurrent.atomic.AtomicBoolean();
    private final List<ColumnInfo> copied;
    private final List<String> keyAndPrimaryKey;
    private final String columnList;
    private final String keyExpr;
    private final String keyType;
    private final String copyIn;

    TableCopy(TablePlan plan, int nodes, String keyColumn, List<Chunk> chunks, long estimatedRows) {
        this.plan = plan;
        this.keyColumn = keyColumn;
        this.chunks = List.copyOf(chunks);
        this.estimatedRows = estimatedRows;
        // generated columns are computed by the nodes themselves
        this.copied = plan.source().columns().stream().filter(c -> !c.isGenerated()).toList();
        List<String> columns = copied.stream().map(ColumnInfo::name).toList();
        java.util.Set<String> keys = new java.util.LinkedHashSet<>(plan.keyColumns());
        keys.addAll(plan.primaryKey().columns());
        this.keyAndPrimaryKey = List.copyOf(keys);
        this.fieldCount = columns.size();
        this.columnList = Sql.idents(columns);
        this.keyFields = plan.keyColumns().stream().mapToInt(columns::indexOf).toArray();
        this.hasher = plan.sharded() ? new KeyHasher(plan.keyTypes()) : null;
        this.nodeOfPartition = IntStream.range(0, plan.partitions()).map(p -> TablePlan.nodeOf(p, nodes)).toArray();
        this.keyExpr = Sql.ident(keyColumn);
        this.keyType = plan.source().column(keyColumn).orElseThrow().type();
        this.copyIn = "COPY " + plan.id().quoted() + " (" + columnList + ") FROM STDIN (FORMAT binary)";
    }

    /**
     * The columns as the copy reads them from the source's catalog now ({@code current}: attnum -> name), given that
     * the copy's snapshot is older than the catalog when the source changed the table's shape after the slot's
     * consistent point: a renamed column is read under its new name (its values are the snapshot's), and a dropped one
     * as NULL, since the nodes drop it too at the change's place in the stream, before any later change of the table.
     * Columns added since are not read: the nodes add them at the same place, filled as the source filled them.
     */
    Columns columnsNow(java.util.Map<Integer, String> current) {
        StringBuilder select = new StringBuilder();
        List<ColumnInfo> dropped = new java.util.ArrayList<>();
        boolean same = true;
        for (ColumnInfo c : copied) {
            String now = current.get(c.attnum());
            if (select.length() > 0) {
                select.append(", ");
            }
            if (now == null) {
                dropped.add(c);
                select.append("NULL::").append(c.type()).append(" AS ").append(Sql.ident(c.name()));
                same = false;
            } else {
                select.append(Sql.ident(now));
                same &= now.equals(c.name());
            }
        }
        return new Columns(same ? columnList : select.toString(), same, List.copyOf(dropped));
    }

    /**
     * @param select  the select list
     * @param asPlanned every column under its planned name
     * @param dropped columns dropped on the source since the copy's snapshot
     */
    record Columns(String select, boolean asPlanned, List<ColumnInfo> dropped) {
    }

    /** The sharding key's and the primary key's columns: the copy cannot route or key a row without them. */
    List<String> keyColumns() {
        return keyAndPrimaryKey;
    }

    /** COPY of one chunk from the source, under the worker's snapshot. */
    String copyOutSql(Chunk chunk) {
        return copyOutSql(chunk, new Columns(columnList, true, List.of()));
    }

    String copyOutSql(Chunk chunk, Columns columns) {
        String columnList = columns.select();
        if (chunk.lo().isEmpty() && chunk.hi().isEmpty()) {
            // COPY cannot read a partitioned table directly, only a query over it; nor read a NULL for a dropped column
            return plan.source().partitioned() || !columns.asPlanned()
                    ? "COPY (SELECT " + columnList + " FROM " + plan.id().quoted() + ") TO STDOUT (FORMAT binary)"
                    : "COPY " + plan.id().quoted() + " (" + columnList + ") TO STDOUT (FORMAT binary)";
        }
        StringBuilder where = new StringBuilder();
        chunk.lo().ifPresent(lo -> where.append(keyExpr).append(" >= ").append(Sql.literal(lo)).append("::").append(keyType));
        chunk.hi().ifPresent(hi -> where.append(where.length() > 0 ? " AND " : "").append(keyExpr).append(" < ")
                .append(Sql.literal(hi)).append("::").append(keyType));
        return "COPY (SELECT " + columnList + " FROM " + plan.id().quoted() + " WHERE " + where + ") TO STDOUT (FORMAT binary)";
    }

    /** COPY into a node's parent table: the node routes each row to its own local partition. */
    String copyInSql() {
        return copyIn;
    }

    TupleRouter router(TupleSink[] sinks) {
        return new TupleRouter(fieldCount, plan.sharded() ? keyFields : new int[0], hasher, plan.partitions(), nodeOfPartition, sinks);
    }
}
