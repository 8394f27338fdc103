package io.shardlift.ops.verify;

import java.math.BigInteger;

/**
 * Row count and sum of 64-bit row hashes of a set of rows. Both are sums, so the checksums of disjoint sets add up
 * to the checksum of their union: a sharded table's per-node checksums sum to what the source gives for the same
 * key range, whatever the order or placement of its rows.
 */
record Checksum(long rows, BigInteger sum) {

    static final Checksum ZERO = new Checksum(0, BigInteger.ZERO);

    Checksum plus(Checksum o) {
        return new Checksum(rows + o.rows, sum.add(o.sum));
    }
}
