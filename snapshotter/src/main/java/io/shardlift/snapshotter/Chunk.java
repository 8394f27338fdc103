package io.shardlift.snapshotter;

import java.util.Optional;

/**
 * A key range of one table: {@code lo <= key < hi} on the first primary-key column, unbounded where empty.
 * Key ranges, not ctid ranges: a row's key does not change between snapshots, so a chunk recopied under a
 * fresh snapshot holds exactly the rows it would have held, and no row can move into a chunk already done.
 */
record Chunk(int index, Optional<String> lo, Optional<String> hi) {

    static Chunk whole() {
        return new Chunk(0, Optional.empty(), Optional.empty());
    }
}
