package io.shardlift.snapshotter;

import io.shardlift.core.Lsn;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * What a snapshot run did.
 *
 * @param consistentPoint the slot's consistent point if this run created the slot
 * @param rows            rows read from the source in this run (chunks copied before a restart not included)
 * @param chunksCopied    chunks copied in this run
 * @param chunksSkipped   chunks every node already held
 */
public record SnapshotResult(Optional<Lsn> consistentPoint, long rows, long bytes, int chunksCopied, int chunksSkipped,
                             Duration duration, List<CopyProgress.TableView> tables) {
}
