package io.shardlift.cdc.apply;

import io.shardlift.core.TableId;
import java.util.Optional;
import java.util.Set;

/**
 * @param readyTables   tables whose copy and indexes are done, so their changes are applied
 * @param assigned      whether the consumer group has given this applier its partitions yet
 * @param consumerLag   records in Kafka not yet applied, over the partitions this applier holds
 * @param commitLagMs   now minus the source commit time of the last change applied
 * @param appliedLsn    highest source LSN applied
 * @param lastError     why the applier stopped, when it did
 * @param retrying      what is failing right now while the applier retries (a node down: which, what, since when)
 */
public record ApplierStatus(Applier.State state, Set<TableId> readyTables, boolean assigned, long eventsApplied, long consumerLag,
                            long commitLagMs, long appliedLsn, Optional<String> lastError,
                            Optional<String> retrying) {
}
