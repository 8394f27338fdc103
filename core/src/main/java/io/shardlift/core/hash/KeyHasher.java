package io.shardlift.core.hash;

import java.util.List;

/**
 * The partition hash of a table's key, exactly as PostgreSQL's {@code compute_partition_hash_value}
 * computes it for {@code PARTITION BY HASH (col1, col2, ...)}: starting from 0, each non-NULL key
 * column's extended hash (seeded with {@link PgHash#HASH_PARTITION_SEED}) is folded in with
 * {@code hash_combine64}; NULL columns are skipped. A row belongs to the partition
 * {@code FOR VALUES WITH (MODULUS m, REMAINDER r)} where {@code r = rowHash mod m}, taken unsigned.
 *
 * <p>Built once per table; immutable and thread-safe. The binary methods allocate nothing.
 */
public final class KeyHasher {

    private final KeyType[] types;
    private final List<KeyType> typeList;

    /** @param keyTypes the partition key columns in {@code PARTITION BY HASH} order */
    public KeyHasher(List<KeyType> keyTypes) {
        if (keyTypes == null || keyTypes.isEmpty()) {
            throw new IllegalArgumentException("a hash partition key needs at least one column but got " + keyTypes);
        }
        this.typeList = List.copyOf(keyTypes);
        this.types = typeList.toArray(new KeyType[0]);
    }

    public static KeyHasher of(KeyType... keyTypes) {
        return new KeyHasher(List.of(keyTypes));
    }

    public List<KeyType> keyTypes() {
        return typeList;
    }

    /** The row's partition hash from Java values, one per key column in key order; null elements are NULL. */
    public long rowHash(Object[] keyValues) {
        requireArity(keyValues.length, "key values");
        long rowHash = 0;
        for (int i = 0; i < types.length; i++) {
            Object v = keyValues[i];
            if (v != null) {
                rowHash = PgHash.hashCombine64(rowHash, types[i].hash(v, PgHash.HASH_PARTITION_SEED));
            }
        }
        return rowHash;
    }

    /** The remainder of the partition that holds the row when the table has {@code modulus} partitions. */
    public int remainder(Object[] keyValues, int modulus) {
        return remainderOf(rowHash(keyValues), modulus);
    }

    /**
     * The row's partition hash from each key column's binary send format:
     * column {@code i} is {@code bufs[i][offs[i], offs[i] + lens[i])}, and {@code lens[i] < 0} means NULL
     * (as in a binary COPY tuple, whose field length is -1 for NULL).
     */
    public long rowHashBinary(byte[][] bufs, int[] offs, int[] lens) {
        requireArity(bufs.length, "buffers");
        requireArity(offs.length, "offsets");
        requireArity(lens.length, "lengths");
        long rowHash = 0;
        for (int i = 0; i < types.length; i++) {
            int len = lens[i];
            if (len >= 0) {
                rowHash = PgHash.hashCombine64(rowHash,
                        PgHash.hashBinary(types[i], bufs[i], offs[i], len, PgHash.HASH_PARTITION_SEED));
            }
        }
        return rowHash;
    }

    /** {@link #rowHashBinary} reduced to the partition remainder for {@code modulus} partitions. */
    public int remainderBinary(byte[][] bufs, int[] offs, int[] lens, int modulus) {
        return remainderOf(rowHashBinary(bufs, offs, lens), modulus);
    }

    /** {@code rowHash mod modulus} with rowHash read as the unsigned 64-bit value PostgreSQL computes. */
    public static int remainderOf(long rowHash, int modulus) {
        if (modulus <= 0) {
            throw new IllegalArgumentException("modulus must be a positive integer but is " + modulus);
        }
        return (int) Long.remainderUnsigned(rowHash, modulus);
    }

    private void requireArity(int actual, String what) {
        if (actual != types.length) {
            throw new IllegalArgumentException("key " + typeList + " has " + types.length + " columns but got "
                    + actual + " " + what);
        }
    }

    @Override
    public String toString() {
        return "KeyHasher" + typeList;
    }
}
