package io.shardlift.ops.verify;

import io.shardlift.core.TableId;
import io.shardlift.core.plan.TablePlan;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The shape of each table on the source against its table on every node (the partitioned parent, whose columns and
 * CHECKs its partitions share): a column missing, extra, or with another type, nullability, default or generation, and
 * a CHECK missing, extra or different, is a difference. Schema changes carried during the migration must leave both
 * sides alike; rows compared while shapes differ would compare the wrong columns, so such a table's rows are not.
 * Read with an empty search_path on both sides, so names come out schema-qualified alike.
 */
final class ShapeCompare {

    private record Column(String type, boolean notNull, String defaultExpr, String generated) {
        String describe() {
            return type + (notNull ? " NOT NULL" : "") + (defaultExpr == null ? "" : (generated.isEmpty() ? " DEFAULT "
                    : " GENERATED ALWAYS AS ") + defaultExpr);
        }
    }

    private ShapeCompare() {
    }

    /** Every difference of {@code t}'s shape between {@code source} and each node, one line each. */
    static List<String> differences(TablePlan t, Lane lane) {
        Endpoint source = lane.endpoint(-1);
        Map<String, Column> want = columns(source, lane.connection(-1), t.id());
        Map<String, String> wantChecks = checks(source, lane.connection(-1), t.id());
        List<String> out = new ArrayList<>();
        for (int k = 0; k < lane.nodes(); k++) {
            String where = t.id() + " on " + lane.endpoint(k).label();
            Map<String, Column> have = columns(lane.endpoint(k), lane.connection(k), t.id());
            for (var e : want.entrySet()) {
                Column h = have.get(e.getKey());
                Column w = e.getValue();
                if (h == null) {
                    out.add(where + ": column " + e.getKey() + " is missing (the source has " + w.describe() + ")");
                } else if (!w.type().equals(h.type()) || w.notNull() != h.notNull() || !w.generated().equals(h.generated())
                        || !sameDefault(w, h)) {
                    out.add(where + ": column " + e.getKey() + " is " + h.describe() + " but " + w.describe() + " on the source");
                }
            }
            for (String name : have.keySet()) {
                if (!want.containsKey(name)) {
                    out.add(where + ": column " + name + " is there but not on the source");
                }
            }
            Map<String, String> haveChecks = checks(lane.endpoint(k), lane.connection(k), t.id());
            for (var e : wantChecks.entrySet()) {
                if (!e.getValue().equals(haveChecks.get(e.getKey()))) {
                    out.add(where + ": CHECK " + e.getKey() + " is " + (haveChecks.containsKey(e.getKey())
                            ? haveChecks.get(e.getKey()) : "missing") + " but " + e.getValue() + " on the source");
                }
            }
            for (String name : haveChecks.keySet()) {
                if (!wantChecks.containsKey(name)) {
                    out.add(where + ": CHECK " + name + " is there but not on the source");
                }
            }
        }
        return out;
    }

    /** The layout gives a source identity column its sequence's nextval as a default. */
    private static boolean sameDefault(Column source, Column node) {
        if (IDENTITY.equals(source.defaultExpr())) {
            return node.defaultExpr() != null && (node.defaultExpr().startsWith("nextval(") || IDENTITY.equals(node.defaultExpr()));
        }
        return Objects.equals(source.defaultExpr(), node.defaultExpr());
    }

    private static Map<String, Column> columns(Endpoint side, Connection c, TableId table) {
        Map<String, Column> out = new LinkedHashMap<>();
        try {
            try (Statement st = c.createStatement()) {
                st.execute("SET LOCAL search_path = ''");
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,"
                    + " pg_get_expr(d.adbin, d.adrelid), a.attgenerated::text, a.attidentity::text FROM pg_attribute a"
                    + " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
                    + " WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum")) {
                ps.setString(1, table.quoted());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        // an identity column is a column with the sequence's nextval as its default on the nodes
                        String dflt = rs.getString(6).isEmpty() ? rs.getString(4) : IDENTITY;
                        out.put(rs.getString(1), new Column(rs.getString(2), rs.getBoolean(3), dflt, rs.getString(5)));
                    }
                }
            }
            c.rollback();
        } catch (SQLException e) {
            throw side.failure("cannot read the columns of " + table, e);
        }
        return out;
    }

    private static Map<String, String> checks(Endpoint side, Connection c, TableId table) {
        Map<String, String> out = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                + " WHERE conrelid = to_regclass(?) AND contype = 'c'")) {
            ps.setString(1, table.quoted());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getString(1), rs.getString(2));
                }
            }
            c.rollback();
        } catch (SQLException e) {
            throw side.failure("cannot read the CHECK constraints of " + table, e);
        }
        return out;
    }

    static final String IDENTITY = "(identity)";
}
