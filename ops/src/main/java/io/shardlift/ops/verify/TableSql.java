package io.shardlift.ops.verify;

import static io.shardlift.core.Sql.ident;
import static io.shardlift.core.Sql.literal;

import io.shardlift.core.TableId;
import io.shardlift.core.catalog.ColumnInfo;
import io.shardlift.core.plan.TablePlan;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Everything one table's comparison sends to the servers, resolved once: the compared columns, the row hash, the
 * relations read on the source and on each node, and the checksum and drill-down statements for every shape of
 * key range.
 *
 * <p>The compared columns are the source table's, generated columns excluded (each side computes those itself), in
 * the source's order and named, so a target that has more columns or another column order compares the same. A
 * node reads only its own rows: a sharded table's LOCAL partitions ({@code ONLY}, never the parent, whose foreign
 * partitions would read other nodes' rows through postgres_fdw) and a reference table's own copy.
 */
final class TableSql {

    /**
     * The collation that orders the key column on a server, to decide whether key ranges select the same rows on
     * every side: null when the type is not collatable.
     */
    static final String KEY_COLLATION_SQL = """
            SELECT t.typcollation <> 0,
                   CASE WHEN co.collname IS NULL OR co.collname = 'default' THEN 'default'
                        ELSE quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END,
                   concat_ws(' ', db.j ->> 'datlocprovider', db.j ->> 'datcollate',
                             coalesce(db.j ->> 'datlocale', db.j ->> 'daticulocale'))
            FROM pg_attribute a
            JOIN pg_type t ON t.oid = a.atttypid
            LEFT JOIN pg_collation co ON co.oid = a.attcollation
            LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
            CROSS JOIN (SELECT to_jsonb(d) AS j FROM pg_database d WHERE d.datname = current_database()) db
            WHERE a.attrelid = CAST(? AS regclass) AND a.attname = ? AND NOT a.attisdropped""";

    private static final int SHAPES = 4;

    final TablePlan plan;
    final List<String> sourceKey;
    final String keyColumn;
    final List<String> columns;
    final KeyOrder order;
    final boolean cCollation;
    final String sampleSql;
    /** The row hash over {@link #columns} of the row {@code t}. */
    final String rowHash;
    private final String[] sourceChecksum = new String[SHAPES];
    private final String[] sourceRows = new String[SHAPES];
    private final String[][] nodeChecksum;
    private final String[][] nodeRows;
    private final int[] nodeBranches;

    /**
     * @param cCollation compare the key in {@code "C"} order (when the sides' collations differ) rather than in the
     *                   column's own, which the primary key's index serves
     */
    TableSql(TablePlan plan, int nodes, RowHash hash, boolean cCollation) {
        this.plan = plan;
        this.sourceKey = plan.source().primaryKey().orElseThrow(() -> new IllegalStateException(
                plan.id() + " has no primary key; the plan should have refused it")).columns();
        this.keyColumn = sourceKey.get(0);
        this.columns = plan.source().columns().stream().filter(c -> !c.isGenerated()).map(ColumnInfo::name).toList();
        this.order = KeyOrder.of(sourceKey.stream().map(k -> column(k).typname()).toList());
        this.cCollation = cCollation;
        String keyType = column(keyColumn).type();
        String key = "t." + ident(keyColumn) + (cCollation ? " COLLATE \"C\"" : "");
        this.rowHash = hash.of("ROW(" + columns.stream().map(c -> "t." + ident(c)).collect(Collectors.joining(", ")) + ")::text");
        String[] where = new String[SHAPES];
        for (int shape = 0; shape < SHAPES; shape++) {
            List<String> conditions = new ArrayList<>(2);
            if ((shape & 1) != 0) {
                conditions.add(key + " >= CAST(? AS " + keyType + ")");
            }
            if ((shape & 2) != 0) {
                conditions.add(key + " < CAST(? AS " + keyType + ")");
            }
            where[shape] = conditions.isEmpty() ? "" : " WHERE " + String.join(" AND ", conditions);
        }
        List<TableId> sourceFrom = List.of(plan.id());
        this.nodeChecksum = new String[nodes][SHAPES];
        this.nodeRows = new String[nodes][SHAPES];
        this.nodeBranches = new int[nodes];
        List<List<TableId>> nodeFrom = new ArrayList<>();
        for (int k = 0; k < nodes; k++) {
            List<TableId> from = plan.partitionsOn(k, nodes).stream().map(plan::partition).toList();
            nodeFrom.add(from);
            nodeBranches[k] = from.size();
        }
        for (int shape = 0; shape < SHAPES; shape++) {
            sourceChecksum[shape] = checksumSql(sourceFrom, false, rowHash, where[shape]);
            sourceRows[shape] = rowsSql(sourceFrom, false, rowHash, where[shape]);
            for (int k = 0; k < nodes; k++) {
                if (nodeBranches[k] > 0) {
                    nodeChecksum[k][shape] = checksumSql(nodeFrom.get(k), true, rowHash, where[shape]);
                    nodeRows[k][shape] = rowsSql(nodeFrom.get(k), true, rowHash, where[shape]);
                }
            }
        }
        this.sampleSql = "SELECT percentile_disc(CAST(? AS float8[])) WITHIN GROUP (ORDER BY " + key + ")::text[] FROM "
                + plan.id().quoted() + " t";
    }

    private ColumnInfo column(String name) {
        return plan.source().column(name).orElseThrow(() -> new IllegalStateException(
                "column " + name + " of the primary key of " + plan.id() + " is not in the catalog"));
    }

    /** {@code ONLY} on a node: its partitions and reference tables have no children, and must not read any. */
    private static String from(TableId relation, boolean node) {
        return (node ? "ONLY " : "") + relation.quoted() + " t";
    }

    private static String checksumSql(List<TableId> relations, boolean node, String rowHash, String where) {
        String branches = relations.stream().map(r -> "SELECT " + rowHash + " AS h FROM " + from(r, node) + where)
                .collect(Collectors.joining(" UNION ALL "));
        return "SELECT count(*), coalesce(sum(h), 0) FROM (" + branches + ") u";
    }

    /** A node's rows carry the name of the relation they come from, written into each branch: no per-row lookup. */
    private String rowsSql(List<TableId> relations, boolean node, String rowHash, String where) {
        StringBuilder keys = new StringBuilder();
        for (int i = 0; i < sourceKey.size(); i++) {
            keys.append("t.").append(ident(sourceKey.get(i))).append(" AS k").append(i).append(", ");
        }
        String branches = relations.stream()
                .map(r -> "SELECT " + keys + rowHash + " AS h" + (node ? ", " + literal(r.toString()) + " AS rel" : "")
                        + " FROM " + from(r, node) + where)
                .collect(Collectors.joining(" UNION ALL "));
        StringBuilder sql = new StringBuilder("SELECT ");
        StringBuilder orderBy = new StringBuilder(" ORDER BY ");
        for (int i = 0; i < sourceKey.size(); i++) {
            sql.append("u.k").append(i).append("::text, ");
            orderBy.append(i == 0 ? "" : ", ").append(order.numeric(i) ? "u.k" + i : "(u.k" + i + "::text) COLLATE \"C\"");
        }
        sql.append("u.h").append(node ? ", u.rel" : "").append(" FROM (").append(branches).append(") u").append(orderBy);
        return sql.toString();
    }

    /** Whether node {@code k} holds any of the table's rows (every node holds a reference table). */
    boolean onNode(int k) {
        return nodeBranches[k] > 0;
    }

    String sourceChecksum(KeyRange r) {
        return sourceChecksum[r.shape()];
    }

    String nodeChecksum(int node, KeyRange r) {
        return nodeChecksum[node][r.shape()];
    }

    String sourceRows(KeyRange r) {
        return sourceRows[r.shape()];
    }

    String nodeRows(int node, KeyRange r) {
        return nodeRows[node][r.shape()];
    }

    /** Binds the range's bounds once per UNION ALL branch of a node's statement (once for the source's). */
    int branches(int node) {
        return node < 0 ? 1 : nodeBranches[node];
    }

    static void bind(PreparedStatement ps, KeyRange r, int branches) throws SQLException {
        int i = 1;
        for (int b = 0; b < branches; b++) {
            if (r.lo().isPresent()) {
                ps.setString(i++, r.lo().get());
            }
            if (r.hi().isPresent()) {
                ps.setString(i++, r.hi().get());
            }
        }
    }

    /** The sample that splits the table: {@code percent} of its blocks, repeatable so a rerun splits the same way. */
    String sampleSql(double percent) {
        return percent >= 100 ? sampleSql : sampleSql + " TABLESAMPLE SYSTEM (" + percent + ") REPEATABLE (0)";
    }
}
