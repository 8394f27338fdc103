package io.shardlift.ops.verify;

import java.math.BigDecimal;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

/**
 * The order of key tuples in a drill-down, the same as the servers' {@code ORDER BY}: integer and numeric columns
 * by value (their index order), every other type by its text in code-point order ({@code COLLATE "C"}), which Java
 * reproduces exactly whatever the databases' collations.
 */
final class KeyOrder implements Comparator<String[]> {

    /** Type names (pg_type.typname) ordered and compared as numbers. */
    static final Set<String> NUMERIC_TYPES = Set.of("int2", "int4", "int8", "numeric");

    private final boolean[] numeric;

    KeyOrder(boolean[] numeric) {
        this.numeric = numeric.clone();
    }

    static KeyOrder of(List<String> typnames) {
        boolean[] numeric = new boolean[typnames.size()];
        for (int i = 0; i < numeric.length; i++) {
            numeric[i] = NUMERIC_TYPES.contains(typnames.get(i));
        }
        return new KeyOrder(numeric);
    }

    boolean numeric(int column) {
        return numeric[column];
    }

    int columns() {
        return numeric.length;
    }

    @Override
    public int compare(String[] x, String[] y) {
        for (int i = 0; i < numeric.length; i++) {
            int c = numeric[i] ? compareNumeric(x[i], y[i]) : compareCodePoints(x[i], y[i]);
            if (c != 0) {
                return c;
            }
        }
        return 0;
    }

    /**
     * PostgreSQL's numeric order: -Infinity, numbers, Infinity, NaN (key columns are never null). numeric has had
     * infinities since PostgreSQL 14 and float keys always had them; BigDecimal cannot parse them (verify failed on
     * such a key).
     */
    static int compareNumeric(String x, String y) {
        int rx = rank(x);
        int ry = rank(y);
        if (rx != 0 || ry != 0) {
            return Integer.compare(rx, ry);
        }
        if (x.length() < 19 && y.length() < 19 && x.indexOf('.') < 0 && y.indexOf('.') < 0 && x.indexOf('e') < 0
                && y.indexOf('e') < 0 && x.indexOf('E') < 0 && y.indexOf('E') < 0) {
            return Long.compare(Long.parseLong(x), Long.parseLong(y));
        }
        return new BigDecimal(x).compareTo(new BigDecimal(y));
    }

    private static int rank(String v) {
        return switch (v) {
            case "-Infinity" -> -1;
            case "Infinity" -> 1;
            case "NaN" -> 2;
            default -> 0;
        };
    }

    /** Code-point order, which is {@code COLLATE "C"} on UTF-8 text. */
    static int compareCodePoints(String x, String y) {
        int i = 0;
        int j = 0;
        while (i < x.length() && j < y.length()) {
            int cx = x.codePointAt(i);
            int cy = y.codePointAt(j);
            if (cx != cy) {
                return Integer.compare(cx, cy);
            }
            i += Character.charCount(cx);
            j += Character.charCount(cy);
        }
        return Boolean.compare(i < x.length(), j < y.length());
    }
}
