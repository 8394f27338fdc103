package io.shardlift.cdc.capture;

import io.shardlift.core.TargetException;
import io.shardlift.core.ledger.StreamLedger;
import io.shardlift.core.spec.ConnInfo;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RetriableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Binds the Kafka positions a migration consumes to that migration. Topics (an external broker's, or an embedded
 * broker's data directory) may hold records of an earlier attempt with the same topic names; applied into a fresh
 * cluster they would corrupt it. So before the capture sends its first record, node 0 records the migration's id
 * and each table topic partition's end offset at that moment ({@link StreamLedger}), in one
 * transaction: the applier starts a partition nobody applied yet at that offset, never at the earliest, and the
 * capture keeps its Debezium offsets under the id, so offsets of an earlier attempt on the same slot name are not
 * read either. On every later start the recorded binding is checked against the broker.
 *
 * @param id     the migration's id
 * @param starts per topic partition, the first offset that belongs to this migration
 */
public record StreamBinding(String id, Map<TopicPartition, Long> starts) {

    private static final Logger log = LoggerFactory.getLogger(StreamBinding.class);
    private static final long TIMEOUT_S = 60;

    public StreamBinding {
        starts = Map.copyOf(starts);
    }

    /**
     * The binding recorded on node 0, made now if there is none: the table topics are created if missing and their
     * end offsets recorded. A recorded binding that the broker contradicts (a partition ends before the recorded
     * start: another broker, or the topics were recreated) is refused with what to do.
     */
    public static StreamBinding establish(ConnInfo node0, String bootstrap, List<String> topics, int partitions,
                                          short replicationFactor) {
        String where = "node 0 (" + node0.label() + ")";
        try (Connection c = node0.connect()) {
            c.setAutoCommit(false);
            // one binding even if two processes race here: the second waits and then reads the first's
            StreamLedger.lock(c);
            Optional<StreamBinding> recorded = read(c);
            if (recorded.isPresent()) {
                StreamBinding b = recorded.get().withNewTopics(c, bootstrap, topics, partitions, replicationFactor);
                c.commit();
                b.check(bootstrap, topics, partitions);
                log.info("migration {}: stream positions bound on {} since its start", b.id(), where);
                return b;
            }
            TopicSetup.ensure(bootstrap, topics, partitions, replicationFactor);
            Map<TopicPartition, Long> ends = endOffsets(bootstrap, topics, partitions);
            String id = UUID.randomUUID().toString();
            List<StreamLedger.Start> starts = new ArrayList<>();
            ends.forEach((tp, offset) -> starts.add(new StreamLedger.Start(tp.topic(), tp.partition(), offset)));
            StreamLedger.record(c, new StreamLedger.Binding(id, starts));
            c.commit();
            long earlier = ends.values().stream().mapToLong(Long::longValue).sum();
            log.info("migration {}: change stream bound on {}; {}", id, where, earlier == 0 ? "the topics are empty"
                    : earlier + " records already in the topics belong to an earlier attempt and will not be applied");
            return new StreamBinding(id, ends);
        } catch (SQLException e) {
            throw new TargetException(where + ": cannot record the migration's stream positions: " + e.getMessage(), e);
        }
    }

    /**
     * This binding with the topics no partition of which it records: those of tables a restart took on (created on the
     * source during the migration; the layout and the publication refuse any other new table). They are created if
     * missing and start at their end offsets now, before the capture sends anything to them.
     */
    private StreamBinding withNewTopics(Connection c, String bootstrap, List<String> topics, int partitions,
                                        short replicationFactor) throws SQLException {
        List<String> fresh = topics.stream().filter(t -> starts.keySet().stream().noneMatch(tp -> tp.topic().equals(t))).toList();
        if (fresh.isEmpty()) {
            return this;
        }
        TopicSetup.ensure(bootstrap, fresh, partitions, replicationFactor);
        Map<TopicPartition, Long> ends = endOffsets(bootstrap, fresh, partitions);
        List<StreamLedger.Start> added = new ArrayList<>();
        ends.forEach((tp, offset) -> added.add(new StreamLedger.Start(tp.topic(), tp.partition(), offset)));
        StreamLedger.addStarts(c, id, added);
        Map<TopicPartition, Long> all = new HashMap<>(starts);
        all.putAll(ends);
        log.info("migration {}: stream positions bound for the topics of tables taken on since its start: {}", id, fresh);
        return new StreamBinding(id, all);
    }

    /** The binding node 0 holds, if any. */
    private static Optional<StreamBinding> read(Connection c) throws SQLException {
        return StreamLedger.read(c).map(b -> {
            Map<TopicPartition, Long> starts = new HashMap<>();
            b.starts().forEach(s -> starts.put(new TopicPartition(s.topic(), s.partition()), s.offset()));
            return new StreamBinding(b.migrationId(), starts);
        });
    }

    /** Every recorded partition still reaches at least its recorded start, and every topic partition has one. */
    private void check(String bootstrap, List<String> topics, int partitions) {
        List<String> missing = new ArrayList<>();
        for (String t : topics) {
            for (int p = 0; p < partitions; p++) {
                if (!starts.containsKey(new TopicPartition(t, p))) {
                    missing.add(t + "-" + p);
                }
            }
        }
        if (!missing.isEmpty()) {
            throw new TargetException("migration " + id + " recorded no stream start for " + missing + " — the spec's tables or"
                    + " kafka.topic_partitions changed since the migration started; restore them, or start over on fresh nodes");
        }
        Map<TopicPartition, Long> ends = endOffsets(bootstrap, topics, partitions);
        Map<String, String> behind = new TreeMap<>();
        ends.forEach((tp, end) -> {
            long start = starts.get(tp);
            if (end < start) {
                behind.put(tp.toString(), "ends at " + end + ", started at " + start);
            }
        });
        if (!behind.isEmpty()) {
            throw new TargetException("migration " + id + ": Kafka at " + bootstrap + " holds less than the migration recorded "
                    + behind + " — this is not the broker (or the topics) the migration started on; point kafka.bootstrap"
                    + " at that broker, or start the migration over on fresh nodes");
        }
    }

    private static Map<TopicPartition, Long> endOffsets(String bootstrap, List<String> topics, int partitions) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, "shardlift-stream-binding");
        Map<TopicPartition, OffsetSpec> want = new HashMap<>();
        for (String t : topics) {
            for (int i = 0; i < partitions; i++) {
                want.put(new TopicPartition(t, i), OffsetSpec.latest());
            }
        }
        try (Admin admin = Admin.create(p)) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
            while (true) {
                try {
                    Map<TopicPartition, Long> out = new HashMap<>();
                    admin.listOffsets(want).all().get(TIMEOUT_S, TimeUnit.SECONDS).forEach((tp, info) -> out.put(tp, info.offset()));
                    return out;
                } catch (ExecutionException e) {
                    // topics created a moment ago may not have a leader on every broker yet
                    if (!(e.getCause() instanceof RetriableException) || System.nanoTime() > deadline) {
                        throw e;
                    }
                    Thread.sleep(200);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CaptureException("interrupted while reading the end offsets of the table topics on " + bootstrap, e);
        } catch (ExecutionException | TimeoutException e) {
            throw new CaptureException("cannot read the end offsets of the table topics on " + bootstrap + ": " + e.getMessage(), e);
        }
    }
}
