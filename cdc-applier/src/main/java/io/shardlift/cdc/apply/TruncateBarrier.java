package io.shardlift.cdc.apply;

import io.shardlift.cdc.event.ChangeEvent;
import io.shardlift.cdc.event.Position;
import io.shardlift.core.TargetException;
import io.shardlift.core.ledger.ApplyLedger;
import io.shardlift.core.spec.ConnInfo;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TRUNCATE arrives on every Kafka partition of the table's topic. Each partition pauses at it (after applying what
 * came before) and records its arrival on node 0; once every partition has arrived, one applier (of however many
 * processes share the topic) truncates the table on every node and records that on node 0, after which all
 * partitions go on past it.
 *
 * <p>A TRUNCATE of one partition travelling in its table's topic (the reverse stream's: a node truncated its local
 * partition, or truncated the table, which truncated each partition on the node that holds it) empties that
 * partition's rows only, by the statement {@link ApplyConfig#partitionTruncates} gives for it; it is its own barrier,
 * as one statement truncating several partitions of a node sends one TRUNCATE per partition at the same position.
 * A partition it has no statement for stops the applier: never a TRUNCATE of the whole table in its place.
 */
final class TruncateBarrier {

    private static final Logger log = LoggerFactory.getLogger(TruncateBarrier.class);

    private record Waiting(TableApply table, String topic, long offset, Position position, long commitMicros, String barrier,
                           java.util.Optional<io.shardlift.core.TableId> partition) {
    }

    private final Map<TopicPartition, Waiting> waiting = new ConcurrentHashMap<>();
    private final ConnInfo node0;
    private final Node0Ledger ledger;
    private final NodeCommits commits;
    private final Positions positions;
    private final Map<io.shardlift.core.TableId, String> partitionTruncates;

    TruncateBarrier(ConnInfo node0, Node0Ledger ledger, NodeCommits commits, Positions positions,
                    Map<io.shardlift.core.TableId, String> partitionTruncates) {
        this.partitionTruncates = Map.copyOf(partitionTruncates);
        this.node0 = node0;
        this.ledger = ledger;
        this.commits = commits;
        this.positions = positions;
    }

    /** True while some partition waits at a barrier. */
    boolean pending() {
        return !waiting.isEmpty();
    }

    /** Whether {@code kafkaPartition} is paused at a barrier: its records wait. */
    boolean holds(TopicPartition kafkaPartition) {
        return waiting.containsKey(kafkaPartition);
    }

    /**
     * A partition reached a TRUNCATE (everything before it is committed). When the TRUNCATE was carried out already
     * (a replay), the partition goes on past it; else it is paused at it.
     */
    void arrive(Consumer<?, ?> consumer, TableApply t, TopicPartition tp, long offset, ChangeEvent e) throws InterruptedException {
        String position = barrier(e);
        if (ledger.barrierCarriedOut(tp.topic(), position)) {
            PollBatch past = new PollBatch(commits.writers().length);
            past.advance(tp, offset, e, positions.of(tp));
            commits.commit(past);
            return;
        }
        ledger.arriveAtBarrier(tp.topic(), position, tp.partition());
        waiting.put(tp, new Waiting(t, tp.topic(), offset, e.position(), e.commitTimeMicros(), position, e.truncatedPartition()));
        consumer.pause(List.of(tp));
        consumer.seek(tp, offset + 1);
        log.info("{} partition {}: TRUNCATE at {} — waiting for every partition of the topic", tp.topic(), tp.partition(),
                e.position());
    }

    /** Carries out TRUNCATEs every partition has reached, and releases partitions whose TRUNCATE is done. */
    void check(Consumer<?, ?> consumer) throws InterruptedException {
        for (var entry : new ArrayList<>(waiting.entrySet())) {
            TopicPartition tp = entry.getKey();
            Waiting w = entry.getValue();
            String position = w.barrier();
            if (!ledger.barrierCarriedOut(w.topic(), position)) {
                tryTruncate(w, consumer.partitionsFor(w.topic()).size());
            }
            if (ledger.barrierCarriedOut(w.topic(), position)) {
                PollBatch past = new PollBatch(commits.writers().length);
                for (NodeBatch b : past.nodes) {
                    b.advance(tp, w.offset(), w.position(), w.commitMicros());
                }
                commits.commit(past);
                waiting.remove(tp);
                consumer.resume(List.of(tp));
            }
        }
    }

    void forget(TopicPartition kafkaPartition) {
        waiting.remove(kafkaPartition);
    }

    /** The barrier's name in the ledger: the position, and for one partition's TRUNCATE, the partition. */
    private static String barrier(ChangeEvent e) {
        return e.position() + e.truncatedPartition().map(p -> " " + p.name()).orElse("");
    }

    private void tryTruncate(Waiting w, int kafkaPartitions) throws InterruptedException {
        String position = w.barrier();
        String partial = null;
        if (w.partition().isPresent()) {
            partial = partitionTruncates.get(w.partition().get());
            if (partial == null) {
                throw new TargetException("a TRUNCATE of " + w.partition().get() + " alone reached the stream of " + w.table().id()
                        + " at " + w.position() + ", and this applier knows no way to empty only that partition's rows: the"
                        + " stream stops here rather than truncate the whole table (nothing was truncated). Empty those rows"
                        + " on the target by hand, then skip the record");
            }
        }
        try (Connection c = node0.connect()) {
            c.setAutoCommit(false);
            ApplyLedger.BarrierState state = ApplyLedger.lockBarrier(c, w.topic(), position);
            if (state.carriedOut() || state.arrived() < kafkaPartitions) {
                c.rollback();
                return;
            }
            // every partition applied everything before the TRUNCATE and none went past it: truncate once
            for (NodeWriter writer : commits.writers()) {
                if (partial == null) {
                    writer.truncate(w.table());
                } else {
                    writer.truncatePart(w.table(), w.partition().get(), partial);
                }
            }
            ApplyLedger.recordBarrierCarriedOut(c, w.topic(), position);
            c.commit();
            log.info("{}: TRUNCATE{} at {} applied on every node", w.table().id(),
                    w.partition().map(p -> " of its partition " + p.name() + " (its rows only)").orElse(""), w.position());
        } catch (SQLException e) {
            throw new TargetException("node 0: TRUNCATE barrier of " + w.table().id() + ": " + e.getMessage(), e);
        }
    }
}
