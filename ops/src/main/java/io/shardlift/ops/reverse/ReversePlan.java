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

    /**
     * Where the source tests partition membership: per sharded table, an empty table in the source's {@code shardlift}
     * schema partitioned like the cluster's parent ({@code PARTITION BY HASH} over the same key columns and types, so
     * the same hash functions), for PostgreSQL's own {@code satisfies_hash_partition}. The source table is not
     * partitioned; without this a node's TRUNCATE of its partitions could only be carried as a TRUNCATE of the whole
     * source table, destroying the other partitions' rows.
     */
    static TableId shape(TablePlan t) {
        String name = "partitioned like " + t.id();
        if (name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 63) {
            name = "partitioned like " + Integer.toHexString(t.id().toString().hashCode());
        }
        return new TableId("shardlift", name);
    }

    /** The statements that (re)create every {@link #shape} on the source; they hold no rows. */
    List<String> shapeDdl() {
        List<String> out = new ArrayList<>();
        for (TablePlan t : forward.tables()) {
            if (!t.sharded()) {
                continue;
            }
            List<String> cols = new ArrayList<>();
            for (String k : t.keyColumns()) {
                io.shardlift.core.catalog.ColumnInfo c = t.source().columns().stream().filter(x -> x.name().equals(k)).findFirst()
                        .orElseThrow(() -> new IllegalStateException(t.id() + " has no column " + k));
                cols.add(io.shardlift.core.Sql.ident(k) + " " + c.type() + c.collation().map(x -> " COLLATE " + x).orElse(""));
            }
            out.add("DROP TABLE IF EXISTS " + shape(t).quoted());
            out.add("CREATE TABLE " + shape(t).quoted() + " (" + String.join(", ", cols) + ") PARTITION BY HASH ("
                    + t.keyColumns().stream().map(io.shardlift.core.Sql::ident).collect(java.util.stream.Collectors.joining(", ")) + ")");
        }
        return out;
    }

    /**
     * Per partition of a sharded table, the statement that removes that partition's rows, and only them, from the
     * source table: what a node's TRUNCATE of the partition (alone, or as part of its table) becomes on the source.
     */
    Map<TableId, String> partitionTruncates() {
        Map<TableId, String> out = new LinkedHashMap<>();
        for (TablePlan t : forward.tables()) {
            if (!t.sharded()) {
                continue;
            }
            String keys = t.keyColumns().stream().map(io.shardlift.core.Sql::ident).collect(java.util.stream.Collectors.joining(", "));
            for (int p = 0; p < t.partitions(); p++) {
                out.put(t.partition(p), "DELETE FROM " + t.id().quoted() + " WHERE satisfies_hash_partition("
                        + io.shardlift.core.Sql.literal(shape(t).quoted()) + "::regclass::oid, " + t.partitions() + ", " + p + ", " + keys + ")");
            }
        }
        return out;
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
