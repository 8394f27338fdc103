package io.shardlift.cdc.apply;

import java.util.Optional;

/**
 * One node as the applier sees it, for people watching the migration.
 *
 * @param node              the node's index in the spec
 * @param label             host:port/database of the node (never a password)
 * @param rowsApplied       rows written to the node by the applier since this process started (net of batching)
 * @param batches           node transactions committed since this process started
 * @param lastBatchLagMs    source commit of the newest change in the node's last batch to that batch's commit on the
 *                          node; -1 before its first batch
 * @param lastAppliedAtMillis wall-clock time of the node's last commit; 0 before its first
 * @param failing           what is failing on this node right now while the applier retries (the node down), if so
 * @param failingForMs      how long it has been failing; 0 when it is not
 */
public record NodeApplyStatus(int node, String label, long rowsApplied, long batches, long lastBatchLagMs,
                              long lastAppliedAtMillis, Optional<String> failing, long failingForMs) {

    /**
     * The node's lag now: its last batch's, plus, while it fails, the time it has been failing (the changes for it
     * wait meanwhile, so its distance from the source grows with that time).
     */
    public long lagMs() {
        return Math.max(0, lastBatchLagMs) + failingForMs;
    }
}
