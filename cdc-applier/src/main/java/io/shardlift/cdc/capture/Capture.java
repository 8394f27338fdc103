package io.shardlift.cdc.capture;

import io.shardlift.core.ledger.Markers;
import io.debezium.embedded.Connect;
import io.debezium.embedded.KafkaConnectUtil;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.shardlift.cdc.event.Position;
import io.shardlift.cdc.event.TableCodec;
import io.shardlift.cdc.event.Topics;
import io.shardlift.core.TableId;
import io.shardlift.core.catalog.TableInfo;
import io.shardlift.core.spec.ConnInfo;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.connect.runtime.WorkerConfig;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.storage.KafkaOffsetBackingStore;
import org.apache.kafka.connect.util.SharedTopicAdmin;
import org.apache.kafka.connect.util.TopicAdmin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Change capture: Debezium Embedded streams every change of the configured tables from a pre-created pgoutput
 * slot into Kafka, one topic per table ({@link Topics#forTable}), keyed by primary key, values written by the
 * table's {@link TableCodec}. The slot's confirmed position only moves past changes Kafka has acknowledged,
 * so a crash at any point loses nothing (changes after the last confirmed position may be sent twice; they
 * repeat their {@link Position}).
 *
 * <p>Lifecycle: {@code NEW -> STARTING -> STREAMING -> STOPPED}, or {@code FAILED} from any running state.
 * A failure (Kafka gave up on a record, a table changed shape, Debezium stopped) stops the engine and is kept
 * in {@link #status()}; it is never skipped.
 *
 * <p>Its size (about 500 lines) is the engine's lifecycle: configuration checks, start, the guarded transitions,
 * the heartbeat and the stop, each short; the per-record work is in {@link ChangeSender} and {@link RowReader}.
 */
public final class Capture implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Capture.class);
    /** The prefix of the messages heartbeats commit so the slot moves on a quiet source; never a marker. */
    static final String HEARTBEAT_PREFIX = "shardlift-heartbeat";
    /**
     * Debezium's stand-in for a TOASTed column an UPDATE did not send. The NUL bytes make it impossible as a
     * text, json or numeric value (PostgreSQL refuses NUL in those), so a real value is never taken for it.
     */
    static final String UNCHANGED_PLACEHOLDER = "\u0000shardlift:unchanged-toast\u0000";
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);

    /** Where the Kafka side lives. */
    public record Kafka(String bootstrapServers, String topicPrefix, int topicPartitions, short replicationFactor,
                        String offsetTopic) {
        public Kafka {
            Objects.requireNonNull(bootstrapServers, "bootstrapServers");
            Objects.requireNonNull(topicPrefix, "topicPrefix");
            Objects.requireNonNull(offsetTopic, "offsetTopic");
        }
    }

    /**
     * Knobs with sensible defaults ({@link #DEFAULTS}). {@code pollInterval} is how long Debezium holds a batch
     * that is not full before handing it over (its queue waits the whole interval: read in 3.6.1's bytecode):
     * every change waits up to that long, the cutover's marker included. 20 ms took the cutover's drain from
     * 82-102 to 41-89 ms but cost 22% of the sustained rate and tripled the lag p99 under pgbench (smaller
     * batches: more producer flushes, offset commits and node transactions on 2 cores), so it stays at 100 ms.
     */
    public record Tuning(Duration heartbeatInterval, Duration pollInterval, int maxBatchSize, int maxQueueSize) {
        public static final Tuning DEFAULTS = new Tuning(Duration.ofSeconds(5), Duration.ofMillis(100), 4096, 16384);
    }

    /**
     * Everything a capture needs; validated as a whole when the capture is built.
     *
     * @param source      the source database (the user needs REPLICATION and SELECT on the tables)
     * @param slot        an existing pgoutput slot on {@code source}
     * @param publication an existing publication that includes every table
     * @param tables      the captured tables as the catalog describes them (columns in order, primary key)
     */
    /**
     * @param shardingKeys per table, the columns of its primary key whose change the capture counts: a change of a
     *                     sharded table's sharding key, which the source accepts and the cluster will refuse after the
     *                     cutover (see {@link #shardingKeyChanges()})
     */
    /**
     * @param carryDdl     whether the source's DDL log ({@code core.ddl.SourceDdlLog}) is captured, so that schema
     *                     changes travel with the data; without it a change of shape stops the capture
     * @param publishAs    per captured table, the table whose topic its changes go to (absent: its own). The reverse
     *                     stream captures a node's local partitions and publishes them as the table they belong to, so
     *                     the applier of the source sees one topic per source table
     */
    public record Config(ConnInfo source, String slot, String publication, List<TableInfo> tables, Kafka kafka,
                         Tuning tuning, Map<TableId, List<String>> shardingKeys, boolean carryDdl,
                         Map<TableId, TableId> publishAs) {
        public Config {
            Objects.requireNonNull(source, "source");
            Objects.requireNonNull(slot, "slot");
            Objects.requireNonNull(publication, "publication");
            tables = List.copyOf(tables);
            Objects.requireNonNull(kafka, "kafka");
            tuning = tuning == null ? Tuning.DEFAULTS : tuning;
            shardingKeys = shardingKeys == null ? Map.of() : Map.copyOf(shardingKeys);
            publishAs = publishAs == null ? Map.of() : Map.copyOf(publishAs);
        }

        public Config(ConnInfo source, String slot, String publication, List<TableInfo> tables, Kafka kafka, Tuning tuning,
                      Map<TableId, List<String>> shardingKeys) {
            this(source, slot, publication, tables, kafka, tuning, shardingKeys, false, Map.of());
        }

        public Config(ConnInfo source, String slot, String publication, List<TableInfo> tables, Kafka kafka, Tuning tuning,
                      Map<TableId, List<String>> shardingKeys, boolean carryDdl) {
            this(source, slot, publication, tables, kafka, tuning, shardingKeys, carryDdl, Map.of());
        }

        public Config(ConnInfo source, String slot, String publication, List<TableInfo> tables, Kafka kafka, Tuning tuning,
                      Map<TableId, List<String>> shardingKeys, Map<TableId, TableId> publishAs) {
            this(source, slot, publication, tables, kafka, tuning, shardingKeys, false, publishAs);
        }

        /**
         * Debezium's logical server name: its JMX names and its own topics (messages, heartbeats) derive from it. The
         * topic prefix, unless several captures share the topics (one per node, publishing as the tables they belong to):
         * then each needs its own, or their JMX registrations collide and each start waits a minute for the others.
         */
        String serverName() {
            return publishAs.isEmpty() ? kafka.topicPrefix() : kafka.topicPrefix() + "." + slot;
        }

        /** The topic a captured table's changes go to. */
        String topicOf(TableId table) {
            return Topics.forTable(kafka.topicPrefix(), publishAs.getOrDefault(table, table));
        }

        public Config(ConnInfo source, String slot, String publication, List<TableInfo> tables, Kafka kafka, Tuning tuning) {
            this(source, slot, publication, tables, kafka, tuning, Map.of(), false, Map.of());
        }

        /** Every problem at once, each naming the key, the value and the rule; empty when valid. */
        public List<String> problems() {
            List<String> p = new ArrayList<>();
            if (!slot.matches("[a-z0-9_]{1,63}")) {
                p.add("slot \"" + slot + "\" must be 1-63 lower-case letters, digits or underscores (PostgreSQL's rule)");
            }
            if (publication.isBlank()) {
                p.add("publication must not be empty");
            }
            if (tables.isEmpty()) {
                p.add("tables must name at least one table");
            }
            if (kafka.bootstrapServers().isBlank()) {
                p.add("kafka.bootstrapServers must not be empty");
            }
            if (!kafka.topicPrefix().matches("[a-zA-Z0-9._-]{1,100}")) {
                p.add("kafka.topicPrefix \"" + kafka.topicPrefix() + "\" must be 1-100 of [a-zA-Z0-9._-]");
            }
            if (kafka.topicPartitions() < 1 || kafka.topicPartitions() > 10_000) {
                p.add("kafka.topicPartitions " + kafka.topicPartitions() + " must be between 1 and 10000");
            }
            if (kafka.replicationFactor() < 1) {
                p.add("kafka.replicationFactor " + kafka.replicationFactor() + " must be at least 1");
            }
            if (!kafka.offsetTopic().matches("[a-zA-Z0-9._-]{1,249}")) {
                p.add("kafka.offsetTopic \"" + kafka.offsetTopic() + "\" is not a legal Kafka topic name");
            }
            if (tuning.heartbeatInterval().toMillis() < 100) {
                p.add("tuning.heartbeatInterval " + tuning.heartbeatInterval() + " must be at least 100 ms");
            }
            if (tuning.pollInterval().toMillis() < 1) {
                p.add("tuning.pollInterval " + tuning.pollInterval() + " must be at least 1 ms");
            }
            if (tuning.maxBatchSize() < 1 || tuning.maxQueueSize() <= tuning.maxBatchSize()) {
                p.add("tuning.maxBatchSize " + tuning.maxBatchSize() + " must be at least 1 and below tuning.maxQueueSize "
                        + tuning.maxQueueSize());
            }
            Map<String, TableId> topics = new HashMap<>();
            for (TableInfo t : tables) {
                TableId other = publishAs.isEmpty() ? topics.put(topicOf(t.id()), t.id()) : null;
                if (other != null) {
                    p.add("tables " + other + " and " + t.id() + " map to the same topic");
                }
                try {
                    TableCodec.of(t);
                } catch (IllegalArgumentException e) {
                    p.add(e.getMessage());
                }
            }
            return p;
        }
    }

    /** Lifecycle states; see the class comment for the transitions. */
    public enum State { NEW, STARTING, STREAMING, FAILED, STOPPED }

    /**
     * A snapshot of the capture's progress.
     *
     * @param ackedLsn         highest source LSN such that it and everything before it is in Kafka (0 before the first batch)
     * @param lastCommitMicros source commit time of the last change Kafka acknowledged (0 before the first)
     * @param lagMillis        commit-to-acknowledgement delay of the last batch; 0 when idle
     */
    public record Status(State state, Optional<String> error, Map<TableId, Long> eventsPerTable, long events,
                         long markers, long ackedLsn, long lastCommitMicros, long lagMillis) {
        @Override
        public String toString() {
            return state + error.map(e -> " (" + e + ")").orElse("") + ", " + events + " events, " + markers + " markers, acked to "
                    + io.shardlift.core.Lsn.format(ackedLsn) + ", lag " + lagMillis + " ms";
        }
    }

    private final Config config;
    private final CaptureProgress progress;
    private final List<CapturedTable> plans;
    private final CountDownLatch done = new CountDownLatch(1);
    private final CountDownLatch polling = new CountDownLatch(1);
    private State state = State.NEW;
    private String error;
    private Producer<byte[], byte[]> producer;
    private DebeziumEngine<RecordChangeEvent<SourceRecord>> engine;
    private Thread thread;

    /**
     * Validates the configuration and registers the meters; connects to nothing yet.
     *
     * @throws IllegalArgumentException listing every configuration problem
     */
    public Capture(Config config, MeterRegistry registry) {
        List<String> problems = config.problems();
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("invalid capture configuration: " + String.join("; ", problems));
        }
        this.config = config;
        this.progress = new CaptureProgress(registry, config.slot());
        RowReader.Placeholder ph = RowReader.Placeholder.of(UNCHANGED_PLACEHOLDER);
        List<CapturedTable> list = new ArrayList<>();
        for (TableInfo t : config.tables()) {
            Counter c = Counter.builder("shardlift.capture.events").description("change events Kafka acknowledged")
                    .tag("table", t.id().toString()).register(registry);
            progress.register(c);
            TableCodec codec = TableCodec.of(t);
            list.add(new CapturedTable(list.size(), t, codec, config.topicOf(t.id()), c, ph,
                    keyPositions(codec, config.shardingKeys().getOrDefault(t.id(), List.of())),
                    !config.publishAs().getOrDefault(t.id(), t.id()).equals(t.id())));
        }
        this.plans = List.copyOf(list);
    }

    /** Where each of {@code columns} stands in the table's key. */
    private static int[] keyPositions(TableCodec codec, List<String> columns) {
        List<String> key = new ArrayList<>();
        for (int k = 0; k < codec.keySize(); k++) {
            key.add(codec.column(codec.keyIndex(k)).name());
        }
        return columns.stream().mapToInt(key::indexOf).filter(i -> i >= 0).toArray();
    }

    /** Sharding-key changes the capture carried for one table since it started. */
    public record KeyChanges(long count, long lastAtMillis) {
    }

    /**
     * Per table with any: how many changes of its sharding key (a primary-key change that moved one of the
     * {@code shardingKeys} columns) the capture carried since it started, and when the last one was committed.
     */
    public Map<TableId, KeyChanges> shardingKeyChanges() {
        Map<TableId, KeyChanges> m = new LinkedHashMap<>();
        for (CapturedTable p : plans) {
            long n = p.shardingKeyChanges.get();
            if (n > 0) {
                m.put(p.id, new KeyChanges(n, p.lastShardingKeyChangeMillis));
            }
        }
        return m;
    }

    /** The Kafka topic of each captured table, in configuration order. */
    public Map<TableId, String> topics() {
        Map<TableId, String> m = new LinkedHashMap<>();
        plans.forEach(p -> m.put(p.id, p.topic));
        return m;
    }

    /**
     * Checks the source, creates the topics and starts streaming on a thread of its own; returns once the
     * engine runs (state STARTING, then STREAMING).
     *
     * @throws IllegalStateException if not NEW; a failed preflight or topic setup leaves the capture FAILED and
     *                               throws with the operator's message
     */
    public void start() {
        start(null);
    }

    /**
     * As {@link #start()}, for the migration {@code migrationId} (see {@link StreamBinding}): Debezium's offsets are
     * kept under it, so offsets an earlier attempt stored for the same slot name are never read.
     */
    public void start(String migrationId) {
        transition(State.NEW, State.STARTING, null);
        try {
            Preflight.check(config);
            TopicSetup.ensure(config.kafka().bootstrapServers(), plans.stream().map(p -> p.topic).distinct().toList(),
                    config.kafka().topicPartitions(), config.kafka().replicationFactor());
            producer = new KafkaProducer<>(producerProperties());
            DdlRecords ddl = config.carryDdl() ? new DdlRecords(plans) : null;
            if (ddl != null) {
                ddl.loadHistory(config.source());
            }
            ChangeSender sender = new ChangeSender(plans, config.kafka().topicPartitions(), producer,
                    config.serverName(), Markers.PREFIX, progress, ddl);
            engine = DebeziumEngine.create(ChangeEventFormat.of(Connect.class))
                    .using(DebeziumProperties.of(config, UNCHANGED_PLACEHOLDER, migrationId))
                    .notifying(sender)
                    .using(new DebeziumEngine.ConnectorCallback() {
                        @Override
                        public void pollingStarted() {
                            polling.countDown();
                            transition(State.STARTING, State.STREAMING, null);
                        }
                    })
                    .using(this::engineFinished)
                    .build();
        } catch (RuntimeException e) {
            fail(e.getMessage());
            closeProducer();
            done.countDown();
            throw e;
        }
        thread = new Thread(engine, "shardlift-capture-" + config.slot());
        thread.setDaemon(true);
        thread.start();
        LOG.info("capture of {} tables from {} slot '{}' publication '{}' into {} ({} partitions per topic)", plans.size(),
                config.source().label(), config.slot(), config.publication(), config.kafka().bootstrapServers(),
                config.kafka().topicPartitions());
    }

    private void engineFinished(boolean success, String message, Throwable err) {
        try {
            synchronized (this) {
                if (state == State.STOPPED || state == State.FAILED) {
                    return;
                }
            }
            Throwable root = err;
            while (root != null && !(root instanceof CaptureException) && root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            String reason = root instanceof CaptureException ? root.getMessage()
                    : success ? "Debezium stopped on its own: " + message
                    : "Debezium failed: " + (err == null ? message : err.getClass().getSimpleName() + ": " + err.getMessage());
            fail(reason);
        } finally {
            closeProducer();
            done.countDown();
        }
    }

    /**
     * Waits until the capture streams.
     *
     * @throws IllegalStateException if it failed or stopped meanwhile, with the reason, or did not stream in time
     */
    public void awaitStreaming(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Status s = status();
            if (s.state() == State.STREAMING) {
                return;
            }
            if (s.state() == State.FAILED || s.state() == State.STOPPED) {
                throw new IllegalStateException("capture is " + s.state() + s.error().map(e -> ": " + e).orElse(""));
            }
            Thread.sleep(20);
        }
        throw new IllegalStateException("capture did not start streaming within " + timeout.toMillis() + " ms; it is " + status());
    }

    /**
     * Debezium's engine refuses to close until its tasks poll, and it says "polling started" a moment before it counts
     * them as polling: a close in that moment was refused, and the engine ran on until the wait below gave up (60 s,
     * seen right after a cutover stopped a reverse capture that had just started). So a refusal is tried again.
     */
    private void closeEngine() throws IOException, InterruptedException {
        long until = System.nanoTime() + STOP_TIMEOUT.toNanos();
        while (true) {
            try {
                engine.close();
                return;
            } catch (IllegalStateException refused) {
                if (done.getCount() == 0 || System.nanoTime() > until) {
                    throw refused;
                }
                Thread.sleep(100);
            }
        }
    }

    public synchronized Status status() {
        Map<TableId, Long> per = new LinkedHashMap<>();
        plans.forEach(p -> per.put(p.id, p.events.get()));
        return new Status(state, Optional.ofNullable(error), per, progress.events.get(), progress.markers.get(),
                progress.ackedLsn.get(), progress.lastCommitMicros.get(), progress.lagMillis.get());
    }

    /**
     * Stops streaming: Debezium finishes the batch in hand (waiting for Kafka), stores its offset and
     * closes. Idempotent; a FAILED capture stays FAILED.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (state == State.NEW) {
                moveTo(State.STOPPED, "closed before start");
                progress.removeMeters();
                return;
            }
        }
        if (engine != null && done.getCount() > 0) {
            try {
                // Debezium refuses to close while its tasks are starting
                polling.await(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                synchronized (this) {
                    if (state == State.STARTING || state == State.STREAMING) {
                        moveTo(State.STOPPED, "closed");
                    }
                }
                closeEngine();
            } catch (IOException | IllegalStateException e) {
                LOG.debug("closing the Debezium engine: {}", e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            try {
                if (!done.await(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                    LOG.warn("capture of slot '{}' did not stop within {} s", config.slot(), STOP_TIMEOUT.toSeconds());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        closeProducer();
        synchronized (this) {
            if (state != State.FAILED && state != State.STOPPED) {
                moveTo(State.STOPPED, "closed");
            }
        }
        progress.removeMeters();
    }

    private synchronized void closeProducer() {
        if (producer != null) {
            try {
                producer.close(Duration.ofSeconds(10));
            } catch (RuntimeException e) {
                LOG.warn("closing the Kafka producer: {}", e.getMessage());
            }
            producer = null;
        }
    }

    private synchronized void fail(String reason) {
        if (state == State.FAILED) {
            return;
        }
        error = reason;
        moveTo(State.FAILED, reason);
    }

    private synchronized void transition(State expected, State next, String detail) {
        if (state != expected) {
            if (expected == State.STARTING && (state == State.STOPPED || state == State.FAILED)) {
                return; // a late callback after close or failure
            }
            throw new IllegalStateException("capture of slot '" + config.slot() + "' cannot go to " + next
                    + ": expected " + expected + " but it is " + state);
        }
        moveTo(next, detail);
    }

    private void moveTo(State next, String detail) {
        LOG.info("capture of slot '{}': {} -> {}{}", config.slot(), state, next, detail == null ? "" : " (" + detail + ")");
        state = next;
    }

    private Properties producerProperties() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.kafka().bootstrapServers());
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "shardlift-capture-" + config.slot());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "5"); // idempotence keeps order up to 5
        p.put(ProducerConfig.RETRIES_CONFIG, String.valueOf(Integer.MAX_VALUE));
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "120000"); // how long a broker outage is ridden out
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "30000");
        p.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, "100");
        p.put(CommonClientConfigs.RECONNECT_BACKOFF_MAX_MS_CONFIG, "1000");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, String.valueOf(256 * 1024));
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        // one change event may be as large as a row: up to MAX_EVENT_BYTES (Kafka's default, 1 MiB, stopped the
        // stream on the first change of a row with a larger value); the buffer holds at least two of them
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, String.valueOf(TopicSetup.MAX_EVENT_BYTES + TopicSetup.EVENT_OVERHEAD_BYTES));
        p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, String.valueOf(2L * (TopicSetup.MAX_EVENT_BYTES + TopicSetup.EVENT_OVERHEAD_BYTES)));
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return p;
    }

    /**
     * Debezium's offset store in Kafka, with the admin client it creates closed on stop (Debezium's own
     * factory leaves it running). Public only because Debezium instantiates it by class name; not API.
     */
    public static final class KafkaOffsetStore extends KafkaOffsetBackingStore {
        private final AdminSupplier admin;

        public KafkaOffsetStore() {
            this(new AdminSupplier());
        }

        private KafkaOffsetStore(AdminSupplier admin) {
            super(admin, () -> "shardlift-capture", KafkaConnectUtil.converterForOffsetStore());
            this.admin = admin;
        }

        @Override
        public void configure(WorkerConfig config) {
            Map<String, Object> props = new HashMap<>();
            config.originals().forEach((k, v) -> {
                if (k.equals(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG) || k.startsWith("security.")
                        || k.startsWith("ssl.") || k.startsWith("sasl.")) {
                    props.put(k, v);
                }
            });
            props.put(CommonClientConfigs.CLIENT_ID_CONFIG, "shardlift-capture-offsets-admin");
            admin.shared = new SharedTopicAdmin(props);
            super.configure(config);
        }

        @Override
        public void stop() {
            try {
                super.stop();
            } finally {
                admin.close();
            }
        }
    }

    private static final class AdminSupplier implements Supplier<TopicAdmin> {
        private volatile SharedTopicAdmin shared;

        @Override
        public TopicAdmin get() {
            return shared.get();
        }

        void close() {
            if (shared != null) {
                shared.close();
            }
        }
    }
}
