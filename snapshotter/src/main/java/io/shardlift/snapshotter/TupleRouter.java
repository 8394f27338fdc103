package io.shardlift.snapshotter;

import io.shardlift.core.hash.KeyHasher;

/**
 * The copy hot path: walks the CopyData messages of a binary {@code COPY ... TO STDOUT}, finds each
 * tuple's sharding-key fields without decoding the row, hashes them exactly as PostgreSQL does, and hands
 * the tuple's bytes unchanged to the owning node's sink. Allocates nothing per row.
 *
 * <p>PostgreSQL sends the header together with the first tuple and then one tuple per message; the
 * parser accepts any number of whole tuples per message and refuses a tuple split across messages.
 */
final class TupleRouter {

    private final int fieldCount;
    private final int[] keySlotOfField; // field position -> key slot, or -1
    private final KeyHasher hasher;     // null: reference table, every tuple to every sink
    private final int partitions;
    private final int[] nodeOfPartition;
    private final TupleSink[] sinks;    // per node; null for nodes that must not receive this chunk
    private final byte[][] keyBufs;
    private final int[] keyOffs;
    private final int[] keyLens;

    private boolean headerSeen;
    private boolean trailerSeen;
    private long rows;
    private long bytes;

    /**
     * @param keyFields       positions (in the COPY column list) of the key columns; empty for reference tables
     * @param hasher          the table's key hasher; null for reference tables
     * @param nodeOfPartition owning node of each partition
     * @param sinks           one per node; a null entry drops that node's tuples (already copied there)
     */
    TupleRouter(int fieldCount, int[] keyFields, KeyHasher hasher, int partitions, int[] nodeOfPartition, TupleSink[] sinks) {
        this.fieldCount = fieldCount;
        this.keySlotOfField = new int[fieldCount];
        java.util.Arrays.fill(keySlotOfField, -1);
        for (int i = 0; i < keyFields.length; i++) {
            keySlotOfField[keyFields[i]] = i;
        }
        this.hasher = hasher;
        this.partitions = partitions;
        this.nodeOfPartition = nodeOfPartition.clone();
        this.sinks = sinks.clone();
        this.keyBufs = new byte[keyFields.length][];
        this.keyOffs = new int[keyFields.length];
        this.keyLens = new int[keyFields.length];
    }

    /** One CopyData message from the source. */
    void accept(byte[] msg, int off, int len) {
        int at = off;
        int end = off + len;
        if (!headerSeen) {
            at += BinaryCopy.headerLength(msg, at, end);
            headerSeen = true;
        }
        while (at < end) {
            if (trailerSeen) {
                throw new IllegalStateException("data after the binary COPY trailer");
            }
            int start = at;
            if (end - at < 2) {
                throw new IllegalStateException("binary COPY tuple split across messages");
            }
            int n = BinaryCopy.int16(msg, at);
            at += 2;
            if (n == -1) {
                trailerSeen = true;
                continue;
            }
            if (n != fieldCount) {
                throw new IllegalStateException("binary COPY tuple has " + n + " fields, expected " + fieldCount);
            }
            for (int f = 0; f < n; f++) {
                if (end - at < 4) {
                    throw new IllegalStateException("binary COPY tuple split across messages");
                }
                int flen = BinaryCopy.int32(msg, at);
                at += 4;
                int slot = keySlotOfField[f];
                if (slot >= 0) {
                    keyBufs[slot] = msg;
                    keyOffs[slot] = at;
                    keyLens[slot] = flen;
                }
                if (flen > 0) {
                    at += flen;
                }
                if (at > end) {
                    throw new IllegalStateException("binary COPY tuple split across messages");
                }
            }
            route(msg, start, at - start);
        }
    }

    private void route(byte[] msg, int start, int len) {
        rows++;
        bytes += len;
        if (hasher == null) {
            for (int node = 0; node < sinks.length; node++) {
                if (sinks[node] != null) {
                    sinks[node].write(msg, start, len);
                }
            }
            return;
        }
        for (int i = 0; i < keyLens.length; i++) {
            if (keyLens[i] < 0) {
                throw new IllegalStateException("NULL in the sharding key of a source row: a row with a NULL key has no owning shard");
            }
        }
        int node = nodeOfPartition[KeyHasher.remainderOf(hasher.rowHashBinary(keyBufs, keyOffs, keyLens), partitions)];
        if (sinks[node] != null) {
            sinks[node].write(msg, start, len);
        }
    }

    boolean complete() {
        return trailerSeen;
    }

    /** Rows read from the source (all of them, including those for nodes that already had them). */
    long rows() {
        return rows;
    }

    long bytes() {
        return bytes;
    }
}
