package io.shardlift.snapshotter;

/**
 * @param jobs      parallel copy jobs (source connections)
 * @param chunkRows target rows per chunk; tables with fewer rows are copied whole
 */
public record SnapshotOptions(int jobs, long chunkRows) {

    public static final long DEFAULT_CHUNK_ROWS = 250_000;

    public SnapshotOptions {
        if (jobs < 1) {
            throw new IllegalArgumentException("jobs must be at least 1, not " + jobs);
        }
        if (chunkRows < 1) {
            throw new IllegalArgumentException("chunk rows must be at least 1, not " + chunkRows);
        }
    }
}
