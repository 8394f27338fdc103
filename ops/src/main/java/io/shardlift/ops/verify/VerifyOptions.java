package io.shardlift.ops.verify;

/**
 * How a comparison runs.
 *
 * @param jobs      chunks compared at once; each chunk's source and node queries also run side by side, so up to
 *                  {@code jobs} connections are open to the source and to every node
 * @param chunkRows rows per key range: the unit a difference is located to and the most one drill-down reads
 * @param keyLimit  keys listed per table and kind (missing, extra, different)
 */
public record VerifyOptions(int jobs, long chunkRows, int keyLimit) {

    public static final long DEFAULT_CHUNK_ROWS = 100_000;
    public static final int DEFAULT_KEY_LIMIT = 20;

    public VerifyOptions {
        if (jobs < 1 || jobs > 256) {
            throw new IllegalArgumentException("jobs must be within 1..256 but is " + jobs);
        }
        if (chunkRows < 1) {
            throw new IllegalArgumentException("chunk rows must be at least 1 but is " + chunkRows);
        }
        if (keyLimit < 0) {
            throw new IllegalArgumentException("key limit must be at least 0 but is " + keyLimit);
        }
    }

    /** {@code jobs} workers, the default chunk size and key limit. */
    public static VerifyOptions withJobs(int jobs) {
        return new VerifyOptions(jobs, DEFAULT_CHUNK_ROWS, DEFAULT_KEY_LIMIT);
    }
}
