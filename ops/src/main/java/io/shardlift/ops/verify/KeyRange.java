package io.shardlift.ops.verify;

import java.util.Optional;

/**
 * Rows whose key column is {@code >= lo} and {@code < hi}, unbounded where empty. Bounds are the key's text, cast
 * back to the column's type on each side, so source and nodes select the same rows.
 */
record KeyRange(int index, Optional<String> lo, Optional<String> hi) {

    static KeyRange all() {
        return new KeyRange(0, Optional.empty(), Optional.empty());
    }

    /** Which bounds the range has, as the index of the prepared SQL variant: bit 0 lo, bit 1 hi. */
    int shape() {
        return (lo.isPresent() ? 1 : 0) | (hi.isPresent() ? 2 : 0);
    }

    /** {@code event_id >= 1001 and < 2001}, {@code all keys}... for operators. */
    String describe(String column) {
        if (lo.isEmpty() && hi.isEmpty()) {
            return "all keys";
        }
        if (lo.isEmpty()) {
            return column + " < " + hi.get();
        }
        if (hi.isEmpty()) {
            return column + " >= " + lo.get();
        }
        return column + " >= " + lo.get() + " and < " + hi.get();
    }
}
