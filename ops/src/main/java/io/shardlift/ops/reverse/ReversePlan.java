package io.shardlift.ops.reverse;

import io.shardlift.cdc.capture.Capture;
import io.shardlift.cdc.event.Topics;
import io.shardlift.core.TableId;
import io.shardlift.core.catalog.TableInfo;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.plan.NodeLayout;
import io.shardlift.core.plan.TableKind;
import io.shardlift.core.plan.TablePlan;
import io.shardlift.core.spec.KafkaSpec;
import io.shardlift.core.spec.MigrationSpec;
import io.shardlift.core.spec.ReplicationSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The forward plan turned around, so that the forward stream's classes carry the way back by configuration: a
 * "cluster" of one node, the source, on which every migrated table is one plain table (the applier writes it as it
 * writes a global table's copy), fed from topics of their own ({@code <topic_prefix>-reverse.<schema>.<table>}); and
 * per node, a capture of its published tables ({@link ReverseSlots#publishedOn}), each partition's changes sent to the
 * topic of the table it belongs to.
 *
 * <p>Changes are keyed by the cluster's primary key, which for a {@code widen_unique} table includes the sharding key:
 * a delete then removes the source row only if it still has that sharding key, and the upsert resolves on the source's
 * own key.
 */
final class ReversePlan {

    private final ClusterPlan forward;
    private final ClusterPlan reverse;
    private final String topicPrefix;

    ReversePlan(ClusterPlan forward) {
        this.forward = forward;
        MigrationSpec spec = forward.spec();
        KafkaSpec k = spec.kafka();
        this.topicPrefix = topicPrefix(spec);
        MigrationSpec rspec = new MigrationSpec(spec.version(), spec.nodes().get(0), spec.jobs(), spec.batch(), spec.options(),
                spec.schemas(), List.of(spec.source()), new KafkaSpec(k.embedded(), k.bootstrap(), k.topicPartitions(),
                k.replicationFactor(), topicPrefix), new ReplicationSpec(spec.replication().slot() + "_rev",
                ReverseSlots.publication(spec)), spec.control(), Optional.empty());
        List<TablePlan> tables = new ArrayList<>();
        for (TablePlan t : forward.tables()) {
            tables.add(new TablePlan(t.id(), TableKind.REFERENCE, keyedAsCluster(t, t.id()), List.of(), List.of(), 1, t.id(),
                    t.source().primaryKey().orElseThrow(), List.of(), List.of(), t.priority()));
        }
        this.reverse = new ClusterPlan(rspec, tables, List.of(), List.of(),
                List.of(new NodeLayout(0, spec.source(), List.of(), Map.of(), List.of(), List.of(), "reverse")), List.of());
    }

    /** The reverse stream's topic prefix: the forward one's with {@code -reverse}, so neither reads the other's topics. */
    static String topicPrefix(MigrationSpec spec) {
        return spec.kafka().topicPrefix() + "-reverse";
    }

    /** The plan the reverse applier writes by: one node, the source. */
    ClusterPlan applyPlan() {
        return reverse;
    }

    /** The reverse topics, one per migrated table. */
    List<String> topics() {
        return forward.tables().stream().map(t -> Topics.forTable(topicPrefix, t.id())).toList();
    }

    /** The capture of node {@code node}'s published tables into the reverse topics. */
    Capture.Config capture(int node, String bootstrap) {
        MigrationSpec spec = forward.spec();
        List<TableInfo> tables = new ArrayList<>();
        Map<TableId, TableId> publishAs = new LinkedHashMap<>();
        for (TablePlan t : forward.tables()) {
            List<TableId> rels = t.sharded() ? t.partitionsOn(node, forward.nodeCount()).stream().map(t::partition).toList()
                    : node == 0 ? List.of(t.id()) : List.of();
            for (TableId rel : rels) {
                tables.add(keyedAsCluster(t, rel));
                publishAs.put(rel, t.id());
            }
        }
        String slot = ReverseSlots.slot(spec, node);
        return new Capture.Config(spec.nodes().get(node), slot, ReverseSlots.publication(spec), tables,
                new Capture.Kafka(bootstrap, topicPrefix, spec.kafka().topicPartitions(), spec.kafka().replicationFactor(),
                        topicPrefix + ".offsets." + slot), Capture.Tuning.DEFAULTS, Map.of(), publishAs);
    }

    /**
     * The source table's columns under the name {@code as} (a partition on a node, or the table itself), keyed by the
     * primary key the nodes enforce: what the node's logical decoding sends as the key.
     */
    private static TableInfo keyedAsCluster(TablePlan t, TableId as) {
        TableInfo s = t.source();
        return new TableInfo(as, 'r', s.replicaIdentity(), s.columns(), Optional.of(t.primaryKey()), List.of(), List.of(),
                List.of(), List.of(), List.of(), s.estimatedRows(), s.totalBytes(), List.of());
    }
}
