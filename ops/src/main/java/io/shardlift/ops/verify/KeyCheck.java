package io.shardlift.ops.verify;

import static io.shardlift.core.Sql.ident;

import io.shardlift.core.TableId;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.plan.TablePlan;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Compares given rows, by primary key, between the source and the cluster: the row hash of {@link Verifier} over
 * the same canonical text, read with key lookups instead of key ranges, so its cost follows the number of keys, not
 * the size of the tables. A cutover uses it inside its freeze for the rows that changed since the full comparison
 * before it. Its connections are opened up front (a freeze opens none) and closed with it.
 */
public final class KeyCheck implements AutoCloseable {

    /** Keys bound per statement: arrays of this many values per key column. */
    static final int BATCH = 5_000;

    /**
     * One row that differs: its table, its primary key as text, how, and the source row's hash (null when the source
     * has no such row), which tells whether the source row changed between two checks.
     */
    public record Difference(TableId table, List<String> key, String what, Long sourceHash) {
        @Override
        public String toString() {
            return table + " key " + key + ": " + what;
        }
    }

    private final ClusterPlan plan;
    private final Connection source;
    private final List<Connection> nodes = new ArrayList<>();
    private final Map<TableId, String> sourceSql = new HashMap<>();
    private final Map<TableId, String[]> nodeSql = new HashMap<>();
    private final Map<TableId, String> sourceKeysSql = new HashMap<>();
    private final Map<TableId, String[]> nodeKeysSql = new HashMap<>();

    private KeyCheck(ClusterPlan plan, Connection source) {
        this.plan = plan;
        this.source = source;
    }

    public static KeyCheck open(ClusterPlan plan) {
        Endpoint src = new Endpoint(-1, plan.spec().source());
        KeyCheck check = new KeyCheck(plan, src.open());
        try {
            for (int k = 0; k < plan.nodeCount(); k++) {
                check.nodes.add(new Endpoint(k, plan.spec().nodes().get(k)).open());
            }
            RowHash hash;
            try (Statement st = check.source.createStatement(); ResultSet rs = st.executeQuery("SHOW server_version_num")) {
                rs.next();
                hash = RowHash.forSourceVersion(rs.getInt(1));
            }
            check.source.rollback();
            for (TablePlan t : plan.tables()) {
                TableSql sql = new TableSql(t, plan.nodeCount(), hash, false);
                String keys = keysCte(t, sql.sourceKey);
                String select = sql.sourceKey.stream().map(k -> "t." + ident(k) + "::text").collect(Collectors.joining(", "))
                        + ", " + sql.rowHash;
                String match = "(" + sql.sourceKey.stream().map(k -> "t." + ident(k)).collect(Collectors.joining(", "))
                        + ") IN (SELECT * FROM k)";
                check.sourceSql.put(t.id(), keys + " SELECT " + select + " FROM " + t.id().quoted() + " t WHERE " + match);
                String[] perNode = new String[plan.nodeCount()];
                for (int k = 0; k < perNode.length; k++) {
                    List<TableId> local = t.partitionsOn(k, plan.nodeCount()).stream().map(t::partition).toList();
                    perNode[k] = local.isEmpty() ? null : keys + " " + local.stream()
                            .map(rel -> "SELECT " + select + " FROM ONLY " + rel.quoted() + " t WHERE " + match)
                            .collect(Collectors.joining(" UNION ALL "));
                }
                check.nodeSql.put(t.id(), perNode);
                String keyText = sql.sourceKey.stream().map(k -> "t." + ident(k) + "::text").collect(Collectors.joining(", "));
                check.sourceKeysSql.put(t.id(), "SELECT " + keyText + " FROM " + t.id().quoted() + " t");
                String[] nodeKeys = new String[plan.nodeCount()];
                for (int k = 0; k < nodeKeys.length; k++) {
                    List<TableId> local = t.partitionsOn(k, plan.nodeCount()).stream().map(t::partition).toList();
                    nodeKeys[k] = local.isEmpty() ? null : local.stream().map(rel -> "SELECT " + keyText + " FROM ONLY " + rel.quoted() + " t")
                            .collect(Collectors.joining(" UNION ALL "));
                }
                check.nodeKeysSql.put(t.id(), nodeKeys);
            }
            return check;
        } catch (SQLException | RuntimeException e) {
            check.close();
            throw e instanceof RuntimeException r ? r : src.failure("preparing the key check", (SQLException) e);
        }
    }

    private static String keysCte(TablePlan t, List<String> key) {
        String casts = IntStream.range(0, key.size()).mapToObj(i -> "CAST(u.k" + i + " AS "
                + t.source().column(key.get(i)).orElseThrow().type() + ")").collect(Collectors.joining(", "));
        String arrays = key.stream().map(k -> "CAST(? AS text[])").collect(Collectors.joining(", "));
        String aliases = IntStream.range(0, key.size()).mapToObj(i -> "k" + i).collect(Collectors.joining(", "));
        return "WITH k AS (SELECT " + casts + " FROM unnest(" + arrays + ") AS u(" + aliases + "))";
    }

    /**
     * The rows of {@code keys} (per table, each key its primary-key columns as text) that differ: missing on the
     * cluster, extra there, or with other content; at most {@code limit} described, none when all are equal.
     */
    public List<Difference> differences(Map<TableId, ? extends Collection<List<String>>> keys, int limit) {
        List<Difference> out = new ArrayList<>();
        for (Map.Entry<TableId, ? extends Collection<List<String>>> e : keys.entrySet()) {
            TablePlan t = plan.table(e.getKey()).orElse(null);
            if (t == null || e.getValue().isEmpty()) {
                continue;
            }
            Iterator<List<String>> it = e.getValue().iterator();
            while (it.hasNext() && out.size() < limit) {
                List<List<String>> batch = new ArrayList<>(BATCH);
                while (it.hasNext() && batch.size() < BATCH) {
                    batch.add(it.next());
                }
                compare(t, batch, out, limit);
            }
        }
        return out;
    }

    /**
     * Every key of {@code table} on the source and on the cluster, read on the connections already open: what a table
     * whose changes were not journaled key by key (a TRUNCATE) is compared by. Reads the whole table: for tables that
     * are truncated and refilled, which are small in practice.
     */
    public java.util.Set<List<String>> allKeys(TableId table) {
        java.util.Set<List<String>> keys = new java.util.HashSet<>();
        readKeys(-1, source, sourceKeysSql.get(table), keys);
        String[] perNode = nodeKeysSql.get(table);
        for (int k = 0; k < nodes.size(); k++) {
            if (perNode[k] != null) {
                readKeys(k, nodes.get(k), perNode[k], keys);
            }
        }
        return keys;
    }

    private void readKeys(int node, Connection c, String sql, java.util.Set<List<String>> into) {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            int width = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                List<String> key = new ArrayList<>(width);
                for (int i = 1; i <= width; i++) {
                    key.add(rs.getString(i));
                }
                into.add(key);
            }
            c.rollback();
        } catch (SQLException e) {
            Endpoint ep = new Endpoint(node, node < 0 ? plan.spec().source() : plan.spec().nodes().get(node));
            throw ep.failure("reading keys", e);
        }
    }

    private void compare(TablePlan t, List<List<String>> batch, List<Difference> out, int limit) {
        Map<List<String>, Long> src = read(-1, source, sourceSql.get(t.id()), batch);
        Map<List<String>, Long> cluster = new LinkedHashMap<>();
        String[] perNode = nodeSql.get(t.id());
        for (int k = 0; k < nodes.size() && out.size() < limit; k++) {
            if (perNode[k] == null) {
                continue;
            }
            Map<List<String>, Long> rows = read(k, nodes.get(k), perNode[k], batch);
            if (t.sharded()) {
                rows.forEach((key, h) -> {
                    if (cluster.put(key, h) != null) {
                        out.add(new Difference(t.id(), key, "on more than one node", src.get(key)));
                    }
                });
            } else {
                describe(t, "node " + k, src, rows, out, limit);
            }
        }
        if (t.sharded()) {
            describe(t, "the cluster", src, cluster, out, limit);
        }
    }

    private static void describe(TablePlan t, String where, Map<List<String>, Long> src, Map<List<String>, Long> dst,
                                 List<Difference> out, int limit) {
        for (Map.Entry<List<String>, Long> s : src.entrySet()) {
            if (out.size() >= limit) {
                return;
            }
            Long d = dst.get(s.getKey());
            if (d == null) {
                out.add(new Difference(t.id(), s.getKey(), "missing on " + where, s.getValue()));
            } else if (!d.equals(s.getValue())) {
                out.add(new Difference(t.id(), s.getKey(), "different on " + where, s.getValue()));
            }
        }
        for (List<String> key : dst.keySet()) {
            if (out.size() >= limit) {
                return;
            }
            if (!src.containsKey(key)) {
                out.add(new Difference(t.id(), key, "on " + where + " but not on the source", null));
            }
        }
    }

    private Map<List<String>, Long> read(int node, Connection c, String sql, List<List<String>> batch) {
        int width = batch.get(0).size();
        Map<List<String>, Long> rows = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < width; i++) {
                int col = i;
                ps.setArray(i + 1, c.createArrayOf("text", batch.stream().map(k -> k.get(col)).toArray()));
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    List<String> key = new ArrayList<>(width);
                    for (int i = 1; i <= width; i++) {
                        key.add(rs.getString(i));
                    }
                    rows.put(key, rs.getLong(width + 1));
                }
            }
            c.rollback();
            return rows;
        } catch (SQLException e) {
            Endpoint ep = new Endpoint(node, node < 0 ? plan.spec().source() : plan.spec().nodes().get(node));
            throw ep.failure("comparing rows by key", e);
        }
    }

    @Override
    public void close() {
        List<Connection> all = new ArrayList<>(nodes);
        all.add(source);
        for (Connection c : all) {
            if (c == null) {
                continue;
            }
            try {
                c.close();
            } catch (SQLException ignored) {
                // closing: nothing left to do with it
            }
        }
    }
}
