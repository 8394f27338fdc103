package io.shardlift.ops.verify;

/** One side's rows of a key range, in {@link KeyOrder}: key, row hash, and where the row lives. */
interface RowCursor {

    /** Moves to the next row; false at the end. A side that fails throws its own exception (source or node). */
    boolean next();

    /** The current row's key values as text; valid until the next call of {@link #next}. */
    String[] key();

    long hash();

    /** The node the row is on; -1 for the source. */
    int node();

    /** The table that holds the row (a partition on a node), or null where it does not matter. */
    String relation();
}
