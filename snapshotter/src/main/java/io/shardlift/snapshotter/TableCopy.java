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
        List<String> columns = plan.source().columns().stream().filter(c -> !c.isGenerated()).map(ColumnInfo::name).toList();
        this.fieldCount = columns.size();
        this.columnList = Sql.idents(columns);
        this.keyFields = plan.keyColumns().stream().mapToInt(columns::indexOf).toArray();
        this.hasher = plan.sharded() ? new KeyHasher(plan.keyTypes()) : null;
        this.nodeOfPartition = IntStream.range(0, plan.partitions()).map(p -> TablePlan.nodeOf(p, nodes)).toArray();
        this.keyExpr = Sql.ident(keyColumn);
        this.keyType = plan.source().column(keyColumn).orElseThrow().type();
        this.copyIn = "COPY " + plan.id().quoted() + " (" + columnList + ") FROM STDIN (FORMAT binary)";
    }

    /** COPY of one chunk from the source, under the worker's snapshot. */
    String copyOutSql(Chunk chunk) {
        if (chunk.lo().isEmpty() && chunk.hi().isEmpty()) {
            // COPY cannot read a partitioned table directly, only a query over it
            return plan.source().partitioned()
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
