package io.shardlift.snapshotter;

/** Receives whole binary-COPY tuples for one node. */
interface TupleSink {
    void write(byte[] buf, int off, int len);
}
