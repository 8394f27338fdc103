package io.shardlift.cdc.apply;

import io.shardlift.core.ledger.CopyLedger;
import io.shardlift.core.ledger.Markers;

import io.micrometer.core.instrument.MeterRegistry;
import io.shardlift.cdc.event.ChangeEvent;
import io.shardlift.cdc.event.Op;
import io.shardlift.cdc.event.Position;
import io.shardlift.cdc.event.Row;
import io.shardlift.cdc.event.TableCodec;
import io.shardlift.cdc.event.Topics;
import io.shardlift.cdc.apply.NodeBatch.TopicPartitionKey;
import io.shardlift.core.route.Router;
import io.shardlift.core.TableId;
import io.shardlift.core.TargetException;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.ledger.LedgerSchema;
import io.shardlift.core.plan.TablePlan;
import io.shardlift.core.spec.ConnInfo;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Consumes the change topics and applies them to the nodes, exactly once in effect.
 *
 * <p>A table's topic is consumed only once its copy and indexes are done on every node (ordered catch-up).
 * Each poll becomes at most one transaction per node, holding the net effect of the changes for that node
 * and, per Kafka partition, the offset and source position reached. On (re)assignment the consumer seeks to
 * the lowest offset any node holds, and each node skips what it already has. Changes a capture restart sends
 * twice are a contiguous suffix in source order: replaying it converges to the same rows.
 *
 * <p>TRUNCATE arrives on every partition of the table's topic; each partition pauses at it (after applying
 * what came before), and once every partition has arrived, one applier truncates the table on every node
 * and records it on node 0, after which all partitions go on. MARKERs (cutover) are recorded on node 0 per
 * partition once everything before them is applied on every node.
 */
public final class Applier implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Applier.class);

    public enum State { STARTING, WAITING_FOR_COPY, APPLYING, FAILED, STOPPED }

    /** Commit lag under which an applier with records still queued counts as caught up. */
    static final long CAUGHT_UP_LAG_MS = 1_000;

    private final ApplyConfig config;
    private final ClusterPlan plan;
    private final int n;
    private final Map<String, TableApply> byTopic = new LinkedHashMap<>();
    private final Map<TableId, String> topicOf = new LinkedHashMap<>();
    private final NodeWriter[] writers;
    private final ToastFiller toast;
    private final RetryBudget budget;
    private final ExecutorService nodePool;
    private final ApplyMetrics metrics;
    private final Set<TableId> ready = new java.util.concurrent.CopyOnWriteArraySet<>();
    private final Map<TopicPartitionKey, long[]> appliedOffsets = new HashMap<>(); // tp -> per node offset
    private final Map<TopicPartition, Barrier> barriers = new java.util.concurrent.ConcurrentHashMap<>();
    private final AtomicReference<State> state = new AtomicReference<>(State.STARTING);
    private final AtomicReference<String> lastError = new AtomicReference<>();
    private volatile boolean running = true;
    private volatile long consumerLag;
    /** Whether the group gave this applier its partitions (until then nothing is "queued" that it could see). */
    private volatile boolean assigned;
    private volatile int assignedPartitions;
    private final ChangeJournal journal = new ChangeJournal();
    private boolean warnedUnbound;
    private KafkaConsumer<byte[], byte[]> consumer;
    /** Node 0, for markers and barriers: one connection, reopened when it breaks, not one per record. */
    private Connection control;
    private Thread thread;

    private record Barrier(TableApply table, String topic, String position, long offset, Position pos, long commitMicros) {
    }

    public Applier(ApplyConfig config, MeterRegistry registry) {
        this.config = config;
        this.plan = config.plan();
        this.n = plan.nodeCount();
        Router router = Router.of(plan);
        for (TablePlan t : plan.tables()) {
            String topic = Topics.forTable(config.topicPrefix(), t.id());
            byTopic.put(topic, new TableApply(t, TableCodec.of(t.source()), router.table(t.id())));
            topicOf.put(t.id(), topic);
        }
        this.metrics = new ApplyMetrics(registry);
        this.toast = new ToastFiller(plan.spec().source());
        this.budget = new RetryBudget(config.retryBudget());
        this.writers = new NodeWriter[n];
        for (int i = 0; i < n; i++) {
            writers[i] = new NodeWriter(i, plan.spec().nodes().get(i), n, budget, metrics);
        }
        this.nodePool = Executors.newFixedThreadPool(n, r -> {
            Thread t = new Thread(r, "shardlift-apply-node");
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts applying on a thread of its own. */
    public synchronized void start() {
        if (thread != null) {
            throw new IllegalStateException("applier already started");
        }
        thread = new Thread(this::loop, "shardlift-applier");
        thread.start();
    }

    /** The keys this applier routes while a cutover compares content; see {@link ChangeJournal}. */
    public ChangeJournal journal() {
        return journal;
    }

    /**
     * Kafka partitions the consumer group gave this applier: fewer than the topics have means other appliers
     * ({@code shardlift apply}) apply the rest, and this one's journal does not see their changes.
     */
    public int assignedPartitions() {
        return assignedPartitions;
    }

    public ApplierStatus status() {
        // with nothing queued the stream is idle, not late
        long commitLag = consumerLag == 0 ? 0 : metrics.commitLagMillis();
        return new ApplierStatus(state.get(), Set.copyOf(ready), assigned, metrics.eventsApplied.get(), consumerLag,
                commitLag, metrics.appliedLsn.get(), Optional.ofNullable(lastError.get()), budget.current());
    }

    /** True when every table is being applied and what waits in Kafka is under a second old (or nothing waits). */
    public boolean caughtUp() {
        // under a steady write load a few records are always in flight: caught up means current, not empty
        return state.get() == State.APPLYING && ready.size() == byTopic.size() && assigned && barriers.isEmpty()
                && (consumerLag == 0 || metrics.commitLagMillis() < CAUGHT_UP_LAG_MS);
    }

    private void loop() {
        try {
            consumer = new KafkaConsumer<>(consumerProps());
            long nextRefresh = 0;
            long nextLag = 0;
            state.set(State.WAITING_FOR_COPY);
            while (running) {
                long now = System.nanoTime();
                if (now >= nextRefresh) {
                    refreshReady();
                    nextRefresh = now + 2_000_000_000L;
                }
                if (ready.isEmpty()) {
                    Thread.sleep(200);
                    continue;
                }
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(200));
                if (!records.isEmpty()) {
                    process(records);
                }
                checkBarriers();
                if (now >= nextLag) {
                    updateLag();
                    nextLag = now + 1_000_000_000L;
                }
                state.compareAndSet(State.WAITING_FOR_COPY, State.APPLYING);
            }
            state.set(State.STOPPED);
        } catch (WakeupException e) {
            state.set(State.STOPPED);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            state.set(State.STOPPED);
        } catch (Throwable e) {
            lastError.set(e.getMessage());
            state.set(State.FAILED);
            log.error("applier stopped: {}", e.getMessage(), e);
        } finally {
            if (consumer != null) {
                consumer.close(Duration.ofSeconds(5));
            }
            closeControl();
        }
    }

    private Properties consumerProps() {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, config.groupId());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, String.valueOf(config.maxPollRecords()));
        // a node restart must not cost the group membership
        p.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, String.valueOf(Math.max(300_000, config.retryBudget().toMillis() + 60_000)));
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "shardlift-applier-" + ProcessHandle.current().pid());
        p.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, config.instanceId());
        // a member that died without a static successor is noticed in 10 s, not Kafka's default 45 s
        p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "10000");
        p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "2000");
        // a partition resumed after a TRUNCATE barrier is fetched only once the fetch already waiting at the
        // broker returns: with Kafka's 500 ms that was most of a cutover's freeze (measured: 450 ms). Under
        // load fetches return at once whatever this is; 25 ms cost throughput (with a 20 ms Debezium poll)
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "100");
        return p;
    }

    /** Tables whose copy is done on node 0's record and whose indexes every node has built. */
    private void refreshReady() {
        Set<TableId> now = new LinkedHashSet<>(ready);
        if (now.size() == byTopic.size()) {
            return;
        }
        try {
            Set<String> copied;
            try (Connection c = connect(0)) {
                copied = CopyLedger.copiedTables(c);
            }
            List<Set<String>> indexed = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                try (Connection c = connect(i)) {
                    indexed.add(CopyLedger.indexedTables(c));
                }
            }
            for (TablePlan t : plan.tables()) {
                String name = t.id().toString();
                if (copied.contains(name) && indexed.stream().allMatch(s -> s.contains(name))) {
                    now.add(t.id());
                }
            }
        } catch (SQLException e) {
            log.warn("cannot read copy progress from the nodes ({}); retrying", e.getMessage());
            return;
        }
        if (!now.equals(ready)) {
            Set<TableId> added = new LinkedHashSet<>(now);
            added.removeAll(ready);
            ready.clear();
            ready.addAll(now);
            List<String> topics = ready.stream().map(topicOf::get).toList();
            log.info("applying changes of {} (copy and indexes done); {} of {} tables now", added, ready.size(), byTopic.size());
            consumer.subscribe(topics, new Rebalance());
        }
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> parts) {
            for (TopicPartition tp : parts) {
                barriers.remove(tp);
                appliedOffsets.remove(new TopicPartitionKey(tp.topic(), tp.partition()));
            }
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> parts) {
            try {
                loadOffsets(parts);
            } catch (SQLException e) {
                throw new TargetException("cannot read applied positions from the nodes: " + e.getMessage(), e);
            }
            for (TopicPartition tp : parts) {
                long[] offs = appliedOffsets.get(new TopicPartitionKey(tp.topic(), tp.partition()));
                long min = Long.MAX_VALUE;
                for (long o : offs) {
                    min = Math.min(min, o);
                }
                // resume after the lowest offset any node holds; nodes ahead skip what they have
                consumer.seek(tp, min + 1);
            }
            assigned = true;
            assignedPartitions = consumer.assignment().size(); // the whole assignment, also under incremental rebalancing
            log.info("assigned {} partitions", parts.size());
        }
    }

    private void loadOffsets(Collection<TopicPartition> parts) throws SQLException {
        Map<TopicPartitionKey, Long> starts = streamStarts();
        for (TopicPartition tp : parts) {
            TopicPartitionKey key = new TopicPartitionKey(tp.topic(), tp.partition());
            long[] offs = new long[n];
            // a node that applied nothing of a partition yet holds everything before the migration's stream start
            Long start = starts == null ? Long.valueOf(0) : starts.get(key);
            if (start == null) {
                throw new TargetException("node 0 records no stream start for " + tp + " — the spec's tables or"
                        + " kafka.topic_partitions changed since the migration started; restore them, or start over on fresh nodes");
            }
            java.util.Arrays.fill(offs, start - 1);
            appliedOffsets.put(key, offs);
        }
        for (int i = 0; i < n; i++) {
            try (Connection c = connect(i); PreparedStatement ps = c.prepareStatement(
                    "SELECT topic, kafka_partition, kafka_offset FROM " + LedgerSchema.APPLIED)) {
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        long[] offs = appliedOffsets.get(new TopicPartitionKey(rs.getString(1), rs.getInt(2)));
                        if (offs != null) {
                            offs[i] = rs.getLong(3);
                        }
                    }
                }
            }
        }
    }

    /**
     * Where the migration's stream begins in each partition (see StreamBinding), or null when node 0 records no
     * migration: an applier used on its own, on topics it owns from their first record.
     */
    private Map<TopicPartitionKey, Long> streamStarts() throws SQLException {
        try (Connection c = connect(0); PreparedStatement ps = c.prepareStatement("SELECT s.topic, s.kafka_partition, s.start_offset,"
                + " m.value FROM " + LedgerSchema.META + " m LEFT JOIN " + LedgerSchema.STREAM_START
                + " s ON s.migration_id = m.value WHERE m.key = ?")) {
            ps.setString(1, LedgerSchema.META_MIGRATION_ID);
            Map<TopicPartitionKey, Long> out = null;
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (out == null) {
                        out = new HashMap<>();
                    }
                    if (rs.getString(1) != null) {
                        out.put(new TopicPartitionKey(rs.getString(1), rs.getInt(2)), rs.getLong(3));
                    }
                }
            }
            if (out == null && !warnedUnbound) {
                warnedUnbound = true;
                log.warn("node 0 records no migration id: applying the topics from their first record");
            }
            return out;
        }
    }

    private void process(ConsumerRecords<byte[], byte[]> records) throws InterruptedException {
        NodeBatch[] batches = newBatches();
        List<Markers.Arrival> markers = new ArrayList<>();
        for (TopicPartition tp : records.partitions()) {
            TableApply t = byTopic.get(tp.topic());
            TopicPartitionKey key = new TopicPartitionKey(tp.topic(), tp.partition());
            long[] applied = appliedOffsets.get(key);
            if (t == null || applied == null || barriers.containsKey(tp)) {
                continue;
            }
            for (ConsumerRecord<byte[], byte[]> rec : records.records(tp)) {
                ChangeEvent e = t.codec.decode(rec.value());
                long offset = rec.offset();
                if (e.op() == Op.MARKER) {
                    // no flush here: the marker is recorded once every node committed this poll's batches, which
                    // hold everything before it in its partition (a cutover waits on markers: one commit per poll)
                    for (int i = 0; i < n; i++) {
                        if (offset > applied[i]) {
                            batches[i].advance(key, offset, e.position(), e.commitTimeMicros());
                        }
                    }
                    markers.add(new Markers.Arrival(e.marker().orElseThrow(), tp.topic(), tp.partition(), e.position().lsn()));
                    continue;
                }
                if (e.op() == Op.TRUNCATE) {
                    journal.recordTruncate(t.id());
                    flush(batches);
                    batches = newBatches();
                    if (barrierDone(tp.topic(), e.position())) {
                        advanceEverywhere(key, offset, e);
                        continue;
                    }
                    arriveAtBarrier(tp, e.position());
                    barriers.put(tp, new Barrier(t, tp.topic(), e.position().toString(), offset, e.position(), e.commitTimeMicros()));
                    consumer.pause(List.of(tp));
                    consumer.seek(tp, offset + 1);
                    log.info("{} partition {}: TRUNCATE at {} — waiting for every partition of the topic", tp.topic(),
                            tp.partition(), e.position());
                    break;
                }
                route(t, e, key, offset, applied, batches);
            }
        }
        flush(batches);
        recordMarkers(markers);
    }

    private void route(TableApply t, ChangeEvent e, TopicPartitionKey tp, long offset, long[] applied, NodeBatch[] batches) {
        // A source INSERT of a widened table goes to the owner alone, with no sweep of the other partitions: the key
        // did not exist on the source just before it, so the cluster holds no old copy of it. Where a copy taken later
        // (a resumed snapshot) holds the key elsewhere, the key changed after this INSERT, and that change, an UPDATE or
        // DELETE, comes later in the stream and sweeps every node. A key the cluster held from an earlier life was
        // deleted before the INSERT, and that DELETE swept it. So inserts, most of a write load, cost one node, not all.
        boolean freshInsert = t.widened && e.op() == Op.INSERT;
        // a key change's new row, or a widened table's update that may have moved the row, cannot keep
        // TOAST values from an old row on the target: take them from the source
        if (e.op() != Op.DELETE && e.after().hasUnchanged() && (e.op() == Op.INSERT || t.widened)) {
            Row filled = toast.fill(t, e.after());
            if (filled == null) {
                for (int i = 0; i < n; i++) {
                    if (offset > applied[i]) {
                        batches[i].advance(tp, offset, e.position(), e.commitTimeMicros());
                    }
                }
                return; // gone from the source: its DELETE follows in the stream
            }
            e = ChangeEvent.row(Op.INSERT, e.table(), e.key(), filled, e.position(), e.txId(), e.commitTimeMicros());
        }
        Row key;
        int partition;
        boolean everyNode;
        if (e.op() == Op.DELETE) {
            key = e.key();
            everyNode = !t.plan.sharded() || t.widened;
            partition = everyNode ? (t.plan.sharded() ? -1 : 0) : t.partitionOfKey(key);
        } else {
            key = t.codec.keyOf(e.after());
            partition = t.partitionOfRow(e.after());
            // a widened table's full image may have moved the row: every node drops its old copy
            everyNode = !t.plan.sharded() || (t.widened && !freshInsert);
        }
        journal.record(t, key);
        int owner = t.plan.sharded() && partition >= 0 ? t.route.nodeOfPartition(partition) : -1;
        for (int i = 0; i < n; i++) {
            if (offset <= applied[i]) {
                continue; // this node has it already
            }
            if (everyNode || i == owner) {
                batches[i].add(t, e, key, partition, freshInsert);
            }
            batches[i].advance(tp, offset, e.position(), e.commitTimeMicros());
        }
    }

    private NodeBatch[] newBatches() {
        NodeBatch[] b = new NodeBatch[n];
        for (int i = 0; i < n; i++) {
            b[i] = new NodeBatch(i);
        }
        return b;
    }

    /** Applies each node's batch in its own transaction, all nodes at once; then remembers the offsets. */
    private void flush(NodeBatch[] batches) throws InterruptedException {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        long events = 0;
        for (int i = 0; i < n; i++) {
            NodeBatch b = batches[i];
            if (b.isEmpty()) {
                continue;
            }
            events = Math.max(events, b.events);
            NodeWriter w = writers[i];
            all.add(CompletableFuture.runAsync(() -> {
                try {
                    w.apply(b);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new CompletionException(ie);
                }
            }, nodePool));
        }
        if (all.isEmpty()) {
            return;
        }
        try {
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).join();
        } catch (CompletionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof InterruptedException ie) {
                throw ie;
            }
            throw cause instanceof RuntimeException r ? r : new IllegalStateException(cause);
        }
        long maxLsn = 0;
        long maxCommit = 0;
        long total = 0;
        for (NodeBatch b : batches) {
            for (var p : b.progress.entrySet()) {
                appliedOffsets.get(p.getKey())[b.node] = p.getValue().offset();
                maxLsn = Math.max(maxLsn, p.getValue().position().lsn());
                maxCommit = Math.max(maxCommit, p.getValue().commitTimeMicros());
            }
            total = Math.max(total, b.ordered.size());
        }
        metrics.eventsApplied.addAndGet(countEvents(batches));
        metrics.appliedLsn.accumulateAndGet(maxLsn, Math::max);
        metrics.lastCommitMicros.accumulateAndGet(maxCommit, Math::max);
    }

    private static long countEvents(NodeBatch[] batches) {
        Set<Object> seen = new HashSet<>();
        for (NodeBatch b : batches) {
            for (NodeBatch.Routed r : b.ordered) {
                seen.add(r.event());
            }
        }
        return seen.size();
    }

    /** Records on every node that the partition reached {@code offset} (a marker or a finished barrier). */
    private void advanceEverywhere(TopicPartitionKey tp, long offset, ChangeEvent e) throws InterruptedException {
        NodeBatch[] b = newBatches();
        long[] applied = appliedOffsets.get(tp);
        for (int i = 0; i < n; i++) {
            if (offset > applied[i]) {
                b[i].advance(tp, offset, e.position(), e.commitTimeMicros());
            }
        }
        flush(b);
    }

    /** Arrivals at markers: partitions that applied everything before them on every node, in one statement. */
    private void recordMarkers(List<Markers.Arrival> markers) {
        try {
            Markers.record(control(), markers);
        } catch (SQLException e) {
            closeControl();
            throw new TargetException("node 0: recording cutover markers: " + e.getMessage(), e);
        }
    }

    private boolean barrierDone(String topic, Position position) {
        try (PreparedStatement ps = control().prepareStatement("SELECT 1 FROM " + LedgerSchema.BARRIER
                + " WHERE topic = ? AND position = ? AND kafka_partition = -1")) {
            ps.setString(1, topic);
            ps.setString(2, position.toString());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        } catch (SQLException e) {
            closeControl();
            throw new TargetException("node 0: cannot read TRUNCATE barriers: " + e.getMessage(), e);
        }
    }

    private void arriveAtBarrier(TopicPartition tp, Position position) {
        execute0("INSERT INTO " + LedgerSchema.BARRIER + " (topic, position, kafka_partition) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                tp.topic(), position.toString(), tp.partition());
    }

    /** Carries out TRUNCATEs every partition has reached, and releases partitions whose TRUNCATE is done. */
    private void checkBarriers() throws InterruptedException {
        if (barriers.isEmpty()) {
            return;
        }
        for (var entry : new ArrayList<>(barriers.entrySet())) {
            TopicPartition tp = entry.getKey();
            Barrier b = entry.getValue();
            if (!barrierDone(b.topic(), b.pos())) {
                int partitions = consumer.partitionsFor(b.topic()).size();
                tryTruncate(b, partitions);
            }
            if (barrierDone(b.topic(), b.pos())) {
                TopicPartitionKey key = new TopicPartitionKey(tp.topic(), tp.partition());
                NodeBatch[] nb = newBatches();
                for (int i = 0; i < n; i++) {
                    nb[i].advance(key, b.offset(), b.pos(), b.commitMicros());
                }
                flush(nb);
                barriers.remove(tp);
                consumer.resume(List.of(tp));
            }
        }
    }

    private void tryTruncate(Barrier b, int partitions) throws InterruptedException {
        try (Connection c = connect(0)) {
            c.setAutoCommit(false);
            try (PreparedStatement lock = c.prepareStatement("SELECT pg_advisory_xact_lock(hashtext(?))")) {
                lock.setString(1, "shardlift.barrier." + b.topic());
                lock.execute();
            }
            int arrived;
            boolean done;
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FILTER (WHERE kafka_partition >= 0),"
                    + " count(*) FILTER (WHERE kafka_partition = -1) FROM " + LedgerSchema.BARRIER + " WHERE topic = ? AND position = ?")) {
                ps.setString(1, b.topic());
                ps.setString(2, b.position());
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    arrived = rs.getInt(1);
                    done = rs.getInt(2) > 0;
                }
            }
            if (done || arrived < partitions) {
                c.rollback();
                return;
            }
            // every partition applied everything before the TRUNCATE and none went past it: truncate once
            for (NodeWriter w : writers) {
                w.truncate(b.table());
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + LedgerSchema.BARRIER
                    + " (topic, position, kafka_partition) VALUES (?, ?, -1)")) {
                ps.setString(1, b.topic());
                ps.setString(2, b.position());
                ps.executeUpdate();
            }
            c.commit();
            log.info("{}: TRUNCATE at {} applied on every node", b.table().id(), b.position());
        } catch (SQLException e) {
            throw new TargetException("node 0: TRUNCATE barrier of " + b.table().id() + ": " + e.getMessage(), e);
        }
    }

    private void updateLag() {
        // a copy: the assignment is a live view that a rebalance during endOffsets may change
        Set<TopicPartition> assigned = new java.util.HashSet<>(consumer.assignment());
        if (assigned.isEmpty()) {
            consumerLag = 0;
            return;
        }
        Map<TopicPartition, Long> ends;
        try {
            ends = consumer.endOffsets(assigned, Duration.ofSeconds(5));
        } catch (org.apache.kafka.common.errors.WakeupException | org.apache.kafka.common.errors.InterruptException e) {
            throw e;
        } catch (RuntimeException e) {
            // the lag is a gauge: a failed read (a timeout, a rebalance racing it: seen as a ConcurrentModificationException
            // inside the consumer's offset fetcher) keeps the last figure and must never stop the applier
            log.debug("consumer lag not refreshed: {}", e.toString());
            return;
        }
        long total = 0;
        for (TopicPartition tp : assigned) {
            long[] offs = appliedOffsets.get(new TopicPartitionKey(tp.topic(), tp.partition()));
            long min = Long.MAX_VALUE;
            if (offs != null) {
                for (long o : offs) {
                    min = Math.min(min, o);
                }
            }
            long lag = Math.max(0, ends.getOrDefault(tp, 0L) - (min == Long.MAX_VALUE ? 0 : min + 1));
            metrics.consumerLag(tp.topic(), tp.partition(), lag);
            total += lag;
        }
        consumerLag = total;
    }

    private void execute0(String sql, Object... args) {
        try (PreparedStatement ps = control().prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            ps.executeUpdate();
        } catch (SQLException e) {
            closeControl();
            throw new TargetException("node 0: " + e.getMessage(), e);
        }
    }

    private Connection control() throws SQLException {
        if (control == null || control.isClosed()) {
            control = connect(0);
        }
        return control;
    }

    private void closeControl() {
        try {
            if (control != null) {
                control.close();
            }
        } catch (SQLException ignored) {
            // reopened on next use
        }
        control = null;
    }

    private Connection connect(int node) throws SQLException {
        ConnInfo c = plan.spec().nodes().get(node);
        return c.connect();
    }

    /** Stops after the batch in flight; what it applied is recorded, the rest is applied next time. */
    @Override
    public void close() {
        running = false;
        if (consumer != null) {
            consumer.wakeup();
        }
        if (thread != null) {
            try {
                thread.join(30_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (NodeWriter w : writers) {
            w.close();
        }
        toast.close();
        nodePool.shutdownNow();
    }
}
