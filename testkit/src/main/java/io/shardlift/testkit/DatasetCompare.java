package io.shardlift.testkit;

import io.shardlift.testkit.Datasets.RowDiff;
import io.shardlift.testkit.Datasets.TableDigest;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/** Digest and row diff behind {@link Datasets#tableDigest} and {@link Datasets#diffRows}. */
final class DatasetCompare {

    private static final int FETCH_SIZE = 2000;

    /** Key types ordered natively (index order) and compared as numbers; everything else by text in "C" order. */
    private static final Set<String> NUMERIC_KEY_TYPES = Set.of("int2", "int4", "int8", "numeric");

    /**
     * Row text depends on these settings; pinning them makes two servers (or two sessions) render
     * the same values identically. Set LOCAL inside a savepoint, so the caller's session is untouched.
     */
    private static final String CANONICAL_SETTINGS = "SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, MDY'; "
            + "SET LOCAL IntervalStyle = 'postgres'; SET LOCAL extra_float_digits = 1; SET LOCAL bytea_output = 'hex'";

    private DatasetCompare() {
    }

    static TableDigest digest(Connection c, String table, List<String> keyColumns, List<String> columns)
            throws SQLException {
        Objects.requireNonNull(keyColumns, "keyColumns");
        Table t = Table.describe(c, table);
        List<String> cols = canonicalColumns(t, keyColumns, columns);
        String sql = "SELECT count(*), md5(count(*) || ':' || coalesce(sum(hashtextextended(r, 0)::numeric), 0)"
                + " || ':' || coalesce(sum(hashtextextended(r, 1)::numeric), 0))"
                + " FROM (SELECT " + rowText(cols) + " AS r FROM " + t.quoted + ") t";
        return inCanonicalSession(c, () -> {
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
                rs.next();
                return new TableDigest(rs.getLong(1), rs.getString(2));
            }
        });
    }

    static List<RowDiff> diff(Connection a, String tableA, Connection b, String tableB, List<String> keyColumns,
            int limit) throws SQLException {
        Objects.requireNonNull(keyColumns, "keyColumns");
        if (keyColumns.isEmpty()) {
            throw new IllegalArgumentException("diffRows needs at least one key column");
        }
        if (limit < 0) {
            throw new IllegalArgumentException("diffRows limit must be >= 0 but is " + limit);
        }
        Table ta = Table.describe(a, tableA);
        Table tb = Table.describe(b, tableB);
        List<String> cols = canonicalColumns(ta, keyColumns, null);
        for (String col : cols) {
            if (!tb.types.containsKey(col)) {
                throw new IllegalArgumentException("column \"" + col + "\" of " + ta.name + " on side a is missing from "
                        + tb.name + " on side b (columns there: " + tb.types.keySet() + ")");
            }
        }
        // native order only when both sides can use it; otherwise both sort by text, so the
        // server order and the comparator below always agree
        boolean[] numeric = new boolean[keyColumns.size()];
        @SuppressWarnings("unchecked")
        Comparator<String>[] comparators = new Comparator[keyColumns.size()];
        for (int i = 0; i < numeric.length; i++) {
            String k = keyColumns.get(i);
            numeric[i] = NUMERIC_KEY_TYPES.contains(ta.types.get(k)) && NUMERIC_KEY_TYPES.contains(tb.types.get(k));
            comparators[i] = numeric[i] ? DatasetCompare::compareNumeric : DatasetCompare::compareCodePoints;
        }
        Comparator<String[]> keyOrder = (x, y) -> {
            for (int i = 0; i < comparators.length; i++) {
                int r = compareNullsLast(x[i], y[i], comparators[i]);
                if (r != 0) {
                    return r;
                }
            }
            return 0;
        };
        String sqlA = sideSql(ta, keyColumns, cols, numeric);
        String sqlB = sideSql(tb, keyColumns, cols, numeric);
        return inCanonicalSession(a, () -> inCanonicalSession(b, () -> {
            try (PreparedStatement pa = a.prepareStatement(sqlA); PreparedStatement pb = b.prepareStatement(sqlB)) {
                pa.setFetchSize(FETCH_SIZE);
                pb.setFetchSize(FETCH_SIZE);
                try (ResultSet ra = pa.executeQuery(); ResultSet rb = pb.executeQuery()) {
                    return merge(new Side("a", ta.name, keyColumns, ra, keyOrder),
                            new Side("b", tb.name, keyColumns, rb, keyOrder), keyOrder, limit);
                }
            }
        }));
    }

    private static List<RowDiff> merge(Side a, Side b, Comparator<String[]> keyOrder, int limit) throws SQLException {
        List<RowDiff> diffs = new ArrayList<>();
        a.advance();
        b.advance();
        while (diffs.size() < limit && (a.key != null || b.key != null)) {
            int cmp = a.key == null ? 1 : b.key == null ? -1 : keyOrder.compare(a.key, b.key);
            if (cmp < 0) {
                diffs.add(new RowDiff(RowDiff.Kind.MISSING, List.of(a.key)));
                a.advance();
            } else if (cmp > 0) {
                diffs.add(new RowDiff(RowDiff.Kind.EXTRA, List.of(b.key)));
                b.advance();
            } else {
                if (!a.hash.equals(b.hash)) {
                    diffs.add(new RowDiff(RowDiff.Kind.DIFFERENT, List.of(a.key)));
                }
                a.advance();
                b.advance();
            }
        }
        return diffs;
    }

    /** One side of the merge: the current key and row hash, checked to ascend strictly. */
    private static final class Side {
        private final String label;
        private final String table;
        private final List<String> keyColumns;
        private final ResultSet rs;
        private final Comparator<String[]> keyOrder;
        String[] key;
        String hash;

        Side(String label, String table, List<String> keyColumns, ResultSet rs, Comparator<String[]> keyOrder) {
            this.label = label;
            this.table = table;
            this.keyColumns = keyColumns;
            this.rs = rs;
            this.keyOrder = keyOrder;
        }

        void advance() throws SQLException {
            String[] previous = key;
            if (!rs.next()) {
                key = null;
                hash = null;
                return;
            }
            String[] next = new String[keyColumns.size()];
            for (int i = 0; i < next.length; i++) {
                next[i] = rs.getString(i + 1);
            }
            hash = rs.getString(next.length + 1);
            key = next;
            if (previous != null) {
                int cmp = keyOrder.compare(previous, next);
                if (cmp == 0) {
                    throw new IllegalStateException("key " + keyColumns + " is not unique in " + table + " on side "
                            + label + ": " + Arrays.toString(next) + " appears twice; diffRows needs a unique key");
                }
                if (cmp > 0) {
                    throw new IllegalStateException("rows of " + table + " on side " + label + " arrived out of key order: "
                            + Arrays.toString(previous) + " before " + Arrays.toString(next));
                }
            }
        }
    }

    private static String sideSql(Table t, List<String> keys, List<String> cols, boolean[] numeric) {
        StringBuilder select = new StringBuilder("SELECT ");
        StringBuilder order = new StringBuilder(" ORDER BY ");
        for (int i = 0; i < keys.size(); i++) {
            // qualified, so ORDER BY cannot resolve to the text output column of the same name
            String k = "t." + quote(keys.get(i));
            select.append(k).append("::text AS k").append(i).append(", ");
            if (i > 0) {
                order.append(", ");
            }
            order.append(numeric[i] ? k : "(" + k + "::text) COLLATE \"C\"").append(" NULLS LAST");
        }
        select.append("md5(").append(rowText(cols)).append(") AS h FROM ").append(t.quoted).append(" t");
        return select.append(order).toString();
    }

    /** Key columns in the caller's order, then the others by name: column order on disk does not matter. */
    private static List<String> canonicalColumns(Table t, List<String> keys, List<String> columns) {
        Set<String> result = new LinkedHashSet<>();
        for (String k : keys) {
            requireColumn(t, k);
            result.add(k);
        }
        List<String> rest = new ArrayList<>(columns == null ? t.types.keySet() : columns);
        rest.forEach(col -> requireColumn(t, col));
        rest.sort(Comparator.naturalOrder());
        result.addAll(rest);
        return new ArrayList<>(result);
    }

    private static void requireColumn(Table t, String col) {
        if (!t.types.containsKey(col)) {
            throw new IllegalArgumentException("column \"" + col + "\" does not exist in " + t.name + " (columns: "
                    + t.types.keySet() + ")");
        }
    }

    private static String rowText(List<String> cols) {
        return "ROW(" + cols.stream().map(DatasetCompare::quote).collect(Collectors.joining(", ")) + ")::text";
    }

    /** A table as found on one connection: its quoted name and its live columns with their type names. */
    private record Table(String name, String quoted, Map<String, String> types) {

        static Table describe(Connection c, String qualified) throws SQLException {
            String quoted = splitName(qualified).stream().map(DatasetCompare::quote).collect(Collectors.joining("."));
            Map<String, String> types = new LinkedHashMap<>();
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT a.attname, t.typname
                    FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
                    WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped
                    ORDER BY a.attnum""")) {
                ps.setString(1, quoted);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        types.put(rs.getString(1), rs.getString(2));
                    }
                }
            }
            if (types.isEmpty()) {
                throw new IllegalArgumentException("table " + quoted + " does not exist (or has no columns) in database "
                        + c.getCatalog());
            }
            return new Table(qualified, quoted, types);
        }
    }

    /** Splits {@code schema.table} on dots outside double quotes; quoted parts are unquoted, others taken literally. */
    static List<String> splitName(String qualified) {
        Objects.requireNonNull(qualified, "table");
        List<String> parts = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        boolean wasQuoted = false;
        for (int i = 0; i < qualified.length(); i++) {
            char ch = qualified.charAt(i);
            if (quoted) {
                if (ch == '"') {
                    if (i + 1 < qualified.length() && qualified.charAt(i + 1) == '"') {
                        cur.append('"');
                        i++;
                    } else {
                        quoted = false;
                    }
                } else {
                    cur.append(ch);
                }
            } else if (ch == '"') {
                quoted = true;
                wasQuoted = true;
            } else if (ch == '.') {
                parts.add(checkedPart(qualified, cur, wasQuoted));
                cur.setLength(0);
                wasQuoted = false;
            } else {
                cur.append(ch);
            }
        }
        if (quoted) {
            throw new IllegalArgumentException("unterminated quote in table name " + qualified);
        }
        parts.add(checkedPart(qualified, cur, wasQuoted));
        if (parts.size() > 2) {
            throw new IllegalArgumentException("table name must be table or schema.table but is " + qualified);
        }
        return parts;
    }

    private static String checkedPart(String qualified, StringBuilder part, boolean wasQuoted) {
        if (part.length() == 0 && !wasQuoted) {
            throw new IllegalArgumentException("empty name part in table name " + qualified);
        }
        return part.toString();
    }

    static String quote(String identifier) {
        return "\"" + identifier.replace("\"", "\"\"") + "\"";
    }

    /**
     * Same order as {@code COLLATE "C"} on UTF-8 text: UTF-8 preserves code point order bytewise. (The shardlift
     * verify's KeyOrder walks code points without allocating; the test kit cannot depend on shardlift's modules,
     * so it leans on the JDK instead of keeping a copy of that loop.)
     */
    static int compareCodePoints(String x, String y) {
        return Arrays.compareUnsigned(x.getBytes(StandardCharsets.UTF_8), y.getBytes(StandardCharsets.UTF_8));
    }

    /** PostgreSQL numeric order, including -Infinity < numbers < Infinity < NaN. */
    static int compareNumeric(String x, String y) {
        int rx = numericRank(x);
        int ry = numericRank(y);
        if (rx != 0 || ry != 0) {
            return Integer.compare(rx, ry);
        }
        return new BigDecimal(x).compareTo(new BigDecimal(y));
    }

    private static int numericRank(String v) {
        return switch (v) {
            case "-Infinity" -> -1;
            case "Infinity" -> 1;
            case "NaN" -> 2;
            default -> 0;
        };
    }

    private static int compareNullsLast(String x, String y, Comparator<String> cmp) {
        if (x == null || y == null) {
            return x == null ? (y == null ? 0 : 1) : -1;
        }
        return cmp.compare(x, y);
    }

    interface SqlWork<T> {
        T run() throws SQLException;
    }

    /**
     * Runs {@code work} in a transaction (or a savepoint of the caller's) with the canonical
     * settings, then rolls the settings back: the work only reads. Cursors with a fetch size also
     * need the transaction.
     */
    static <T> T inCanonicalSession(Connection c, SqlWork<T> work) throws SQLException {
        boolean auto = c.getAutoCommit();
        Savepoint sp = null;
        if (auto) {
            c.setAutoCommit(false);
        } else {
            sp = c.setSavepoint();
        }
        try {
            try (Statement st = c.createStatement()) {
                st.execute(CANONICAL_SETTINGS);
            }
            return work.run();
        } finally {
            if (auto) {
                c.rollback();
                c.setAutoCommit(true);
            } else {
                c.rollback(sp);
                c.releaseSavepoint(sp);
            }
        }
    }
}
