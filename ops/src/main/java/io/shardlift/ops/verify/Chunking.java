package io.shardlift.ops.verify;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Splits a table into key ranges of about {@code chunkRows} rows on its source primary key's first column, at
 * quantiles of a block sample of the source (cheap on any size, robust to skew and gaps in the key). The ranges
 * cover the whole key space, first and last unbounded, so a row only the cluster holds still falls in one.
 */
final class Chunking {

    /** Rows sampled for the quantiles. */
    static final long SAMPLE_ROWS = 100_000;
    /** No table is split further than this: the checksum queries per range cost more than they save. */
    static final int MAX_CHUNKS = 10_000;

    private Chunking() {
    }

    /** How many ranges a table of {@code estimatedRows} is split into. */
    static int wanted(long estimatedRows, long chunkRows) {
        long n = (Math.max(0, estimatedRows) + chunkRows - 1) / chunkRows;
        return (int) Math.min(MAX_CHUNKS, Math.max(1, n));
    }

    /** The quantiles whose keys end the first {@code wanted - 1} ranges: 1/w, 2/w, ... */
    static Double[] fractions(int wanted) {
        Double[] f = new Double[Math.max(0, wanted - 1)];
        for (int i = 1; i < wanted; i++) {
            f[i - 1] = (double) i / wanted;
        }
        return f;
    }

    /** Percentage of blocks to sample for about {@link #SAMPLE_ROWS} rows; 100 reads the table. */
    static double samplePercent(long estimatedRows) {
        return Math.min(100.0, Math.max(0.01, 100.0 * SAMPLE_ROWS / Math.max(1, estimatedRows)));
    }

    /**
     * Ranges between consecutive {@code bounds} (sorted in the order the range predicates use; nulls and repeats,
     * which a sample of a skewed key gives, are dropped), plus an unbounded range at each end.
     */
    static List<KeyRange> ranges(List<String> bounds) {
        List<String> distinct = new ArrayList<>();
        for (String b : bounds) {
            if (b != null && (distinct.isEmpty() || !distinct.get(distinct.size() - 1).equals(b))) {
                distinct.add(b);
            }
        }
        if (distinct.isEmpty()) {
            return List.of(KeyRange.all());
        }
        List<KeyRange> ranges = new ArrayList<>(distinct.size() + 1);
        Optional<String> lo = Optional.empty();
        for (String b : distinct) {
            ranges.add(new KeyRange(ranges.size(), lo, Optional.of(b)));
            lo = Optional.of(b);
        }
        ranges.add(new KeyRange(ranges.size(), lo, Optional.empty()));
        return List.copyOf(ranges);
    }
}
