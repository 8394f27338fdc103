package io.shardlift.core.catalog;

import io.shardlift.core.TableId;
import java.util.Optional;

/**
 * A sequence a migrated table draws from: owned by one of its columns (serial, identity) or named in
 * a column default.
 *
 * @param column    the column whose default or identity uses it
 * @param identity  true when it backs an identity column
 * @param lastValue the source's current value; empty when never called
 */
public record SequenceInfo(
        TableId id,
        String column,
        boolean identity,
        String dataType,
        long start,
        long increment,
        long min,
        long max,
        boolean cycle,
        Optional<Long> lastValue) {
}
