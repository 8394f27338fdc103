package io.shardlift.cdc.apply;

import io.shardlift.core.plan.ClusterPlan;
import java.time.Duration;

/**
 * @param groupId        Kafka consumer group: appliers in several processes with the same group share the work
 * @param maxPollRecords records per poll, i.e. the largest batch a node transaction takes
 * @param retryBudget    how long a node may stay unreachable before the applier stops
 * @param instanceId     static group membership: a restarted applier with the same id takes its partitions
 *                       back at once instead of waiting for its dead predecessor's session to time out. Each
 *                       process of a scaled-out group needs its own.
 * @param awaitCopy      whether a table's changes wait for its copy to be done on every node (ordered catch-up); the
 *                       reverse stream's target, the source, holds every row already and keeps no copy ledger
 * @param partitionTruncates per partition whose changes travel in its table's topic (the reverse stream's), the
 *                       statement that removes that partition's rows, and only them, from the table on the target: what
 *                       a TRUNCATE of that partition alone becomes. Empty for the forward stream
 */
public record ApplyConfig(ClusterPlan plan, String bootstrapServers, String topicPrefix, String groupId, int maxPollRecords,
                          Duration retryBudget, String instanceId, boolean awaitCopy,
                          java.util.Map<io.shardlift.core.TableId, String> partitionTruncates) {

    public ApplyConfig {
        partitionTruncates = java.util.Map.copyOf(partitionTruncates);
    }

    public ApplyConfig(ClusterPlan plan, String bootstrapServers, String topicPrefix, String groupId, int maxPollRecords,
                       Duration retryBudget, String instanceId, boolean awaitCopy) {
        this(plan, bootstrapServers, topicPrefix, groupId, maxPollRecords, retryBudget, instanceId, awaitCopy, java.util.Map.of());
    }

    public ApplyConfig(ClusterPlan plan, String bootstrapServers, String topicPrefix, String groupId, int maxPollRecords,
                       Duration retryBudget, String instanceId) {
        this(plan, bootstrapServers, topicPrefix, groupId, maxPollRecords, retryBudget, instanceId, true);
    }

    public static ApplyConfig of(ClusterPlan plan, String bootstrapServers, String instanceId) {
        return new ApplyConfig(plan, bootstrapServers, plan.spec().kafka().topicPrefix(),
                "shardlift-apply-" + plan.spec().replication().slot(), 5000, Duration.ofMinutes(5), instanceId);
    }
}
