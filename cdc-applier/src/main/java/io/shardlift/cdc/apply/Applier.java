package io.shardlift.cdc.apply;

import io.micrometer.core.instrument.MeterRegistry;
import io.shardlift.cdc.event.ChangeEvent;
import io.shardlift.cdc.event.Position;
import io.shardlift.cdc.event.TableCodec;
import io.shardlift.cdc.event.Topics;
import io.shardlift.core.SqlErrors;
import io.shardlift.core.TableId;
import io.shardlift.core.TargetException;
import io.shardlift.core.ledger.Markers;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.plan.TablePlan;
import io.shardlift.core.route.Router;
import io.shardlift.core.spec.ConnInfo;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Consumes the change topics and applies them to the nodes, exactly once in effect: a short loop over named roles.
 *
 * <p>{@link ReadyTables} says which topics to consume (ordered catch-up). Each record is decoded by its table's codec;
 * a row change is given its destinations once by {@link ChangeRouter}; {@link PollBatch} hands each step to the nodes
 * whose {@link Positions} lack the record (exactly-once skip), where {@link NodeBatch} folds it into the net effect;
 * {@link NodeCommits} commits each node's batch in ONE transaction with its positions ({@link NodeWriter}). A TRUNCATE
 * waits at the {@link TruncateBarrier}; a MARKER is recorded on node 0 ({@link Node0Ledger}) once the poll's batches,
 * which hold everything before it, are committed. {@link ConsumerLag} and {@link ApplyMetrics} measure the lag.
 * On (re)assignment the consumer seeks to the lowest offset any node holds. Changes a capture restart sends twice
 * are a contiguous suffix in source order: replaying it converges to the same rows.
 */
public final class Applier implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Applier.class);

    public enum State { STARTING, WAITING_FOR_COPY, APPLYING, FAILED, STOPPED }

    /** Commit lag under which an applier with records still queued counts as caught up. */
    static final long CAUGHT_UP_LAG_MS = 1_000;

    private final ApplyConfig config;
    private final int nodeCount;
    private final Map<String, TableApply> byTopic = new LinkedHashMap<>();
    private final Map<TableId, String> topicOf = new LinkedHashMap<>();
    private final ApplyMetrics metrics;
    private final RetryBudget budget;
    private final ChangeJournal journal = new ChangeJournal();
    private final ToastFiller toast;
    private final ReadyTables ready;
    private final Positions positions;
    private final ChangeRouter router;
    private final NodeCommits commits;
    private final Node0Ledger node0;
    private final TruncateBarrier barrier;
    private final DdlBarrier ddl;
    private final ConsumerLag lag;
    private final AtomicReference<State> state = new AtomicReference<>(State.STARTING);
    private final AtomicReference<String> lastError = new AtomicReference<>();
    private volatile boolean running = true;
    /** Whether the group gave this applier its partitions (until then nothing is "queued" that it could see). */
    private volatile boolean assigned;
    private volatile int assignedPartitions;
    private KafkaConsumer<byte[], byte[]> consumer;
    private Thread thread;

    public Applier(ApplyConfig config, MeterRegistry registry) {
        this.config = config;
        ClusterPlan plan = config.plan();
        List<ConnInfo> nodes = plan.spec().nodes();
        this.nodeCount = plan.nodeCount();
        Router routes = Router.of(plan);
        for (TablePlan t : plan.tables()) {
            String topic = Topics.forTable(config.topicPrefix(), t.id());
            byTopic.put(topic, new TableApply(t, TableCodec.of(t.source()), routes.table(t.id())));
            topicOf.put(t.id(), topic);
        }
        this.metrics = new ApplyMetrics(registry);
        plan.tables().forEach(t -> metrics.missedCounter(t.id()));
        this.budget = new RetryBudget(config.retryBudget());
        this.toast = new ToastFiller(plan.spec().source());
        this.ready = new ReadyTables(plan.tables(), nodes, config.awaitCopy());
        this.positions = new Positions(nodes);
        this.router = new ChangeRouter(toast, toast, journal);
        this.commits = new NodeCommits(nodes, budget, positions, metrics);
        this.node0 = new Node0Ledger(nodes.get(0), budget);
        this.barrier = new TruncateBarrier(nodes.get(0), node0, commits, positions, config.partitionTruncates());
        this.ddl = new DdlBarrier(nodes, plan.spec().source(), node0, commits, positions, byTopic::put,
                id -> byTopic.values().stream().map(t -> t.plan).filter(p -> p.id().equals(id)).findFirst());
        this.lag = new ConsumerLag(positions, metrics);
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
        long queued = lag.total();
        // with nothing queued the stream is idle, not late
        long commitLag = queued == 0 ? 0 : metrics.commitLagMillis();
        return new ApplierStatus(state.get(), ready.now(), assigned, metrics.eventsApplied.get(), queued,
                commitLag, metrics.appliedLsn.get(),
                Optional.ofNullable(lastError.get()).or(() -> ddl.stopped().isEmpty() ? Optional.empty()
                        : Optional.of(String.join("; ", new java.util.TreeMap<>(ddl.stopped()).values()))), budget.current());
    }

    /**
     * Tables whose stream stopped at a schema change that cannot be carried, by table, with the operator's message;
     * their changes wait in Kafka, the other tables go on.
     */
    public Map<TableId, String> stoppedTables() {
        Map<TableId, String> m = new LinkedHashMap<>();
        ddl.stopped().forEach((topic, message) -> topicOf.forEach((id, tp) -> {
            if (tp.equals(topic)) {
                m.put(id, message);
            }
        }));
        return m;
    }

    /** Each node: rows and batches applied, its last batch's lag, and whether it is failing right now (node down). */
    public List<NodeApplyStatus> nodes() {
        List<NodeApplyStatus> out = new ArrayList<>();
        for (NodeWriter w : commits.writers()) {
            out.add(w.status());
        }
        return out;
    }

    /** True when every table is being applied and what waits in Kafka is under a second old (or nothing waits). */
    public boolean caughtUp() {
        // under a steady write load a few records are always in flight: caught up means current, not empty
        return state.get() == State.APPLYING && ready.all() && assigned && !barrier.pending() && !ddl.pending()
                && (lag.total() == 0 || metrics.commitLagMillis() < CAUGHT_UP_LAG_MS);
    }

    private void loop() {
        try {
            ddl.restore(byTopic, config.plan().spec().source(), config.plan().spec().replication().slot());
            consumer = new KafkaConsumer<>(consumerProps());
            long nextRefresh = 0;
            long nextLag = 0;
            state.set(State.WAITING_FOR_COPY);
            while (running) {
                long now = System.nanoTime();
                if (now >= nextRefresh) {
                    ready.refresh().ifPresent(tables -> consumer.subscribe(tables.stream().map(topicOf::get).toList(), new Rebalance()));
                    nextRefresh = now + 2_000_000_000L;
                }
                if (ready.none()) {
                    Thread.sleep(200);
                    continue;
                }
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(200));
                if (!records.isEmpty()) {
                    process(records);
                }
                try {
                    barrier.check(consumer);
                    ddl.check(consumer);
                } catch (TargetException e) {
                    // carrying out a barrier is idempotent (node 0's ledger and each node's record of it): a lost
                    // connection is retried at the next turn, within the budget, instead of stopping the applier
                    if (!(e.getCause() instanceof SQLException s) || !SqlErrors.classify(s).retryable()) {
                        throw e;
                    }
                    budget.failed(node0.label(), s);
                }
                if (now >= nextLag) {
                    lag.refresh(consumer);
                    nextLag = now + 1_000_000_000L;
                }
                state.compareAndSet(State.WAITING_FOR_COPY, State.APPLYING);
            }
            state.set(State.STOPPED);
        } catch (WakeupException | InterruptException e) {
            state.set(State.STOPPED);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            state.set(State.STOPPED);
        } catch (Throwable e) {
            lastError.set(e.getMessage());
            state.set(State.FAILED);
            log.error("applier stopped: {}", e.getMessage(), e);
        } finally {
            // a close that ended a retry arrives here with the interrupt flag set, and Kafka's close throws on it (an
            // uncaught InterruptException that left the consumer group unclosed): close first, then restore the flag
            boolean interrupted = Thread.interrupted();
            try {
                if (consumer != null) {
                    consumer.close(Duration.ofSeconds(5));
                }
                node0.close();
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /** One poll: route every record, commit every node's batch, then record the markers the batches passed. */
    private void process(ConsumerRecords<byte[], byte[]> records) throws InterruptedException {
        PollBatch batch = new PollBatch(nodeCount);
        List<Markers.Arrival> markers = new ArrayList<>();
        for (TopicPartition tp : records.partitions()) {
            TableApply t = byTopic.get(tp.topic());
            long[] applied = positions.of(tp);
            if (t == null || applied == null || barrier.holds(tp) || ddl.holds(tp)) {
                continue;
            }
            for (ConsumerRecord<byte[], byte[]> rec : records.records(tp)) {
                t = byTopic.get(tp.topic()); // a schema change passed in this poll moves the table to its new shape
                ChangeEvent e;
                try {
                    e = t.codec.decode(rec.value());
                } catch (IllegalArgumentException otherShape) {
                    Position at = TableCodec.positionOf(rec.value());
                    if (!ddl.beforeCurrentShape(tp.topic(), at)) {
                        throw otherShape;
                    }
                    // sent again by a capture restart from before the schema change the table has passed: applied then
                    batch.advance(tp, rec.offset(), at, applied);
                    continue;
                }
                switch (e.op()) {
                    case MARKER -> {
                        // no commit here: the marker is recorded once every node committed this poll's batches, which
                        // hold everything before it in its Kafka partition (a cutover waits on markers: one commit per poll)
                        batch.advance(tp, rec.offset(), e, applied);
                        markers.add(new Markers.Arrival(e.marker().orElseThrow(), tp.topic(), tp.partition(), e.position().lsn()));
                    }
                    case TRUNCATE -> {
                        journal.recordTruncate(t.id());
                        commits.commit(batch);
                        batch = new PollBatch(nodeCount);
                        barrier.arrive(consumer, t, tp, rec.offset(), e);
                    }
                    case DDL -> {
                        commits.commit(batch);
                        batch = new PollBatch(nodeCount);
                        ddl.arrive(consumer, t, tp, rec.offset(), e);
                    }
                    default -> batch.add(router.route(t, e), tp, rec.offset(), e, applied);
                }
                if (barrier.holds(tp) || ddl.holds(tp)) {
                    break; // paused at the barrier: the rest of this Kafka partition's records are fetched again
                }
            }
        }
        commits.commit(batch);
        node0.recordMarkers(markers);
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> parts) {
            for (TopicPartition tp : parts) {
                barrier.forget(tp);
                ddl.forget(tp);
                positions.forget(tp);
            }
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> parts) {
            // a node down as the partitions come (the start, a take-on's restart, a rebalance) is ridden out within the
            // budget like one down while applying: failing here stopped the applier, and with it `run`, at once
            String what = "reading the applied positions from the nodes";
            for (;;) {
                try {
                    positions.load(parts);
                    budget.succeeded(what);
                    break;
                } catch (SQLException e) {
                    if (!SqlErrors.classify(e).retryable()) {
                        throw new TargetException("cannot read applied positions from the nodes: " + SqlErrors.describe(e));
                    }
                    try {
                        budget.failed(what, e);
                    } catch (InterruptedException closing) {
                        throw new InterruptException(closing); // passed through by Kafka; sets the interrupt flag again
                    }
                }
            }
            for (TopicPartition tp : parts) {
                consumer.seek(tp, positions.resumeAt(tp));
            }
            assigned = true;
            assignedPartitions = consumer.assignment().size(); // the whole assignment, also under incremental rebalancing
            log.info("assigned {} partitions", parts.size());
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
        // a Kafka partition resumed after a TRUNCATE barrier is fetched only once the fetch already waiting at the
        // broker returns: with Kafka's 500 ms that was most of a cutover's freeze (measured: 450 ms). Under
        // load fetches return at once whatever this is; 25 ms cost throughput (with a 20 ms Debezium poll)
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "100");
        return p;
    }

    /** Stops after the batch in flight; what it applied is recorded, the rest is applied next time. */
    @Override
    public void close() {
        running = false;
        budget.stop(); // a node down: its writer would retry for minutes before the loop could see `running`
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
        commits.close();
        toast.close();
        metrics.removeGauges();
    }
}
