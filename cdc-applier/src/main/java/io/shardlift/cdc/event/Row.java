package io.shardlift.cdc.event;

import java.util.Arrays;

/**
 * Column values of one row, in the order of the table's {@link TableCodec} (for a key: in key order).
 *
 * <p>Each value is {@code null} (SQL NULL), {@link #UNCHANGED} (a TOASTed column the update did not touch: the
 * target must keep what it has), or a value of the column's {@link ValueKind}: {@code Long} for the integer,
 * date, time and timestamp kinds, {@code Float}, {@code Double}, {@code Boolean}, {@code String}, {@code byte[]}
 * (never modify it), or an unmodifiable {@code List} of element values for arrays.
 */
public final class Row {

    /** Marks a column whose value did not come with the change (unchanged TOAST): do not overwrite it. */
    public static final Object UNCHANGED = new Object() {
        @Override
        public String toString() {
            return "UNCHANGED";
        }
    };

    static final Row EMPTY = new Row(new Object[0]);

    private final Object[] values;

    private Row(Object[] values) {
        this.values = values;
    }

    /** A row holding a copy of {@code values}. */
    public static Row of(Object... values) {
        return new Row(values.clone());
    }

    /** Takes ownership of {@code values}: the caller must not touch the array afterwards. */
    static Row wrap(Object[] values) {
        return new Row(values);
    }

    public int size() {
        return values.length;
    }

    public Object get(int i) {
        return values[i];
    }

    public boolean isNull(int i) {
        return values[i] == null;
    }

    public boolean isUnchanged(int i) {
        return values[i] == UNCHANGED;
    }

    /** True if any column is {@link #UNCHANGED}. */
    public boolean hasUnchanged() {
        for (Object v : values) {
            if (v == UNCHANGED) {
                return true;
            }
        }
        return false;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Row r && Arrays.deepEquals(values, r.values);
    }

    @Override
    public int hashCode() {
        return Arrays.deepHashCode(values);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < values.length; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            Object v = values[i];
            if (v instanceof byte[] b) {
                sb.append("bytes[").append(b.length).append(']');
            } else if (v instanceof String s && s.length() > 60) {
                sb.append('\'').append(s, 0, 57).append("...'(").append(s.length()).append(')');
            } else {
                sb.append(v instanceof String ? "'" + v + "'" : String.valueOf(v));
            }
        }
        return sb.append(')').toString();
    }
}
