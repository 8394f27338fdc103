package io.shardlift.embedded;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Apache Kafka broker inside this JVM: one KRaft node in combined mode (broker and controller,
 * static voter set), listening on 127.0.0.1 only, data under {@link EmbeddedDir#baseDir()}{@code /kafka-<unique>}.
 *
 * <p>Ports and data directory are fixed for the broker's life, so {@link #stop()} and {@link #restart()}
 * bring back the same broker at the same address with its topics, records and committed offsets: clients
 * that were connected before reconnect on their own. {@link #close()} stops it and deletes the directory.
 * Several brokers may run in one JVM at once; none of them can end the JVM (see {@link KafkaExitGuard}).
 *
 * <p>Topics are not created automatically ({@code auto.create.topics.enable=false}): create them with
 * {@link #createTopics}, so a misspelt topic fails loudly instead of appearing with one partition.
 */
public final class EmbeddedKafkaBroker implements KafkaBroker {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafkaBroker.class);

    static final String HOST = "127.0.0.1";
    private static final int NODE_ID = 1;
    private static final String BROKER_LISTENER = "PLAINTEXT";
    private static final String CONTROLLER_LISTENER = "CONTROLLER";
    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(30);

    /** Settings the kit derives from ports and directory; overriding them would break stop/restart. */
    static final Set<String> RESERVED_KEYS = Set.of("process.roles", "node.id", "controller.quorum.voters",
            "controller.quorum.bootstrap.servers", "listeners", "advertised.listeners",
            "listener.security.protocol.map", "controller.listener.names", "inter.broker.listener.name",
            "log.dir", "log.dirs", "metadata.log.dir");

    /**
     * Single node, small footprint: the machine (2 cores) is shared with several PostgreSQL servers, so
     * threads, the cleaner's dedupe buffer, segment sizes and internal-topic partition counts are cut down
     * from server defaults (50 offsets partitions alone add a second to the first consumer group).
     */
    static final Map<String, String> BASE_CONFIG = Map.ofEntries(
            Map.entry("offsets.topic.replication.factor", "1"),
            Map.entry("offsets.topic.num.partitions", "5"),
            Map.entry("offsets.topic.segment.bytes", String.valueOf(16 << 20)),
            Map.entry("transaction.state.log.replication.factor", "1"),
            Map.entry("transaction.state.log.min.isr", "1"),
            Map.entry("transaction.state.log.num.partitions", "5"),
            Map.entry("transaction.state.log.segment.bytes", String.valueOf(16 << 20)),
            Map.entry("share.coordinator.state.topic.replication.factor", "1"),
            Map.entry("share.coordinator.state.topic.min.isr", "1"),
            Map.entry("share.coordinator.state.topic.num.partitions", "1"),
            Map.entry("default.replication.factor", "1"),
            Map.entry("min.insync.replicas", "1"),
            Map.entry("num.partitions", "1"),
            Map.entry("auto.create.topics.enable", "false"),
            Map.entry("group.initial.rebalance.delay.ms", "0"),
            // a segment holds at least one whole batch: the table topics take change events up to 64 MiB (a row)
            Map.entry("log.segment.bytes", String.valueOf(128 << 20)),
            Map.entry("log.index.size.max.bytes", String.valueOf(1 << 20)),
            Map.entry("log.cleaner.threads", "1"),
            Map.entry("log.cleaner.dedupe.buffer.size", String.valueOf(8 << 20)),
            Map.entry("num.network.threads", "2"),
            Map.entry("num.io.threads", "2"),
            Map.entry("background.threads", "2"),
            Map.entry("num.replica.fetchers", "1"),
            Map.entry("num.recovery.threads.per.data.dir", "1"),
            // the first heartbeat unfences the broker: a shorter interval shortens startup and restart
            Map.entry("broker.heartbeat.interval.ms", "500"));

    /** Lifecycle of the broker; transitions are logged from -> to. */
    public enum State { RUNNING, STOPPED, CLOSED }

    private final Path dir;
    private final Path logDir;
    private final int port;
    private final int controllerPort;
    private final Map<String, String> config;
    private boolean persistent;
    private State state;
    private KafkaRaftServer server;

    private EmbeddedKafkaBroker(Path dir, int port, int controllerPort, Map<String, String> config) {
        this.dir = dir;
        this.logDir = dir.resolve("data");
        this.port = port;
        this.controllerPort = controllerPort;
        this.config = config;
    }

    /** Starts a broker with the kit's single-node settings and returns once it accepts clients. */
    public static EmbeddedKafkaBroker start() {
        return start(Map.of());
    }

    /**
     * Starts a broker; {@code overrides} replace or add broker settings (for example
     * {@code message.max.bytes}). Listener, quorum and directory settings belong to the kit and are refused.
     */
    public static EmbeddedKafkaBroker start(Map<String, String> overrides) {
        List<String> reserved = overrides.keySet().stream().filter(RESERVED_KEYS::contains).sorted().toList();
        if (!reserved.isEmpty()) {
            throw new IllegalArgumentException("broker settings " + reserved + " are set by the test kit and cannot be "
                    + "overridden (they fix the ports and directory that stop/restart rely on)");
        }
        KafkaExitGuard.install();
        Path dir;
        try {
            dir = Files.createTempDirectory(EmbeddedDir.baseDir(), "kafka-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a Kafka directory under " + EmbeddedDir.baseDir(), e);
        }
        EmbeddedKafkaBroker broker = configure(dir, LocalPorts.free(HOST, 2), overrides);
        try {
            broker.format();
            broker.launch("start");
        } catch (RuntimeException e) {
            broker.deleteDir();
            throw e;
        }
        return broker;
    }

    /**
     * A broker whose data outlives it: the first call formats {@code dir} and records the ports it chose;
     * later calls (a restarted shardlift) reopen the same data, on the same ports while they are free, else on
     * new ones (another process may hold an old port by now: clients of a reopened broker are new too, so
     * nothing depends on the old address). {@link #close()} stops it and keeps the directory. For the
     * {@code embedded} broker of {@code shardlift run}.
     */
    public static EmbeddedKafkaBroker openPersistent(Path dir) {
        KafkaExitGuard.install();
        Path portsFile = dir.resolve("ports");
        try {
            Files.createDirectories(dir);
            boolean exists = Files.exists(portsFile) && Files.exists(dir.resolve("data").resolve("meta.properties"));
            int[] ports;
            if (exists) {
                String[] parts = Files.readString(portsFile).trim().split(",");
                int[] before = {Integer.parseInt(parts[0]), Integer.parseInt(parts[1])};
                List<Integer> taken = new ArrayList<>();
                for (int p : before) {
                    if (!LocalPorts.bindable(HOST, p)) {
                        taken.add(p);
                    }
                }
                ports = taken.isEmpty() ? before : LocalPorts.free(HOST, 2);
                if (!taken.isEmpty()) {
                    // the single voter's address comes from the configuration, never from the data: it may move
                    LOG.info("Kafka data in {}: port(s) {} of its last run are taken now; reopening on {} and {}", dir, taken,
                            ports[0], ports[1]);
                }
            } else {
                ports = LocalPorts.free(HOST, 2);
            }
            EmbeddedKafkaBroker broker = configure(dir, ports, Map.of());
            broker.persistent = true;
            if (!exists) {
                broker.format();
            }
            Files.writeString(portsFile, ports[0] + "," + ports[1]);
            try {
                broker.launch(exists ? "reopen" : "start");
            } catch (IllegalStateException e) {
                if (!LocalPorts.bindFailed(e)) {
                    throw e;
                }
                // taken between the check and the bind: once more on ports free right now
                int[] again = LocalPorts.free(HOST, 2);
                LOG.info("Kafka data in {}: port {} or {} was taken while starting; once more on {} and {}", dir, ports[0], ports[1],
                        again[0], again[1]);
                broker = configure(dir, again, Map.of());
                broker.persistent = true;
                Files.writeString(portsFile, again[0] + "," + again[1]);
                broker.launch(exists ? "reopen" : "start");
            }
            return broker;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the Kafka directory " + dir, e);
        }
    }

    private static EmbeddedKafkaBroker configure(Path dir, int[] ports, Map<String, String> overrides) {
        Map<String, String> config = new LinkedHashMap<>(BASE_CONFIG);
        config.putAll(overrides);
        config.put("process.roles", "broker,controller");
        config.put("node.id", String.valueOf(NODE_ID));
        config.put("controller.quorum.voters", NODE_ID + "@" + HOST + ":" + ports[1]);
        config.put("listeners", BROKER_LISTENER + "://" + HOST + ":" + ports[0] + "," + CONTROLLER_LISTENER + "://" + HOST + ":" + ports[1]);
        config.put("advertised.listeners", BROKER_LISTENER + "://" + HOST + ":" + ports[0]);
        config.put("listener.security.protocol.map", BROKER_LISTENER + ":PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT");
        config.put("controller.listener.names", CONTROLLER_LISTENER);
        config.put("inter.broker.listener.name", BROKER_LISTENER);
        config.put("log.dirs", dir.resolve("data").toString());
        return new EmbeddedKafkaBroker(dir, ports[0], ports[1], Map.copyOf(config));
    }

    @Override
    public String bootstrapServers() {
        return HOST + ":" + port;
    }

    public int port() {
        return port;
    }

    public int controllerPort() {
        return controllerPort;
    }

    /** The broker's own directory ({@code kafka-<unique>}); the log and metadata directory is inside it. */
    public Path dir() {
        return dir;
    }

    public synchronized State state() {
        return state;
    }

    @Override
    public boolean isEmbedded() {
        return true;
    }

    @Override
    public void createTopics(Map<String, Integer> partitionsByTopic) {
        requireState("create topics", State.RUNNING);
        KafkaAdmin.createTopics(bootstrapServers(), partitionsByTopic, ADMIN_TIMEOUT);
    }

    /** Shuts the broker down cleanly; its port is closed until {@link #restart()}. Data stays. */
    public synchronized void stop() {
        requireState("stop", State.RUNNING);
        long t0 = System.nanoTime();
        shutdownServer();
        moveTo(State.STOPPED, "stopped in " + millisSince(t0) + " ms");
    }

    /**
     * Brings the broker back on the same port with the same data, stopping it first if it is running, and
     * returns once it accepts clients again.
     */
    public synchronized void restart() {
        requireState("restart", State.RUNNING, State.STOPPED);
        if (state == State.RUNNING) {
            stop();
        }
        launch("restart");
    }

    /** Stops the broker if it runs and deletes its directory (a persistent broker keeps it). Idempotent. */
    @Override
    public synchronized void close() {
        if (state == State.CLOSED) {
            return;
        }
        if (state == State.RUNNING) {
            try {
                shutdownServer();
            } catch (RuntimeException e) {
                LOG.warn("Kafka {}: shutdown failed, deleting its directory anyway", bootstrapServers(), e);
            }
        }
        if (persistent) {
            moveTo(State.CLOSED, "data kept in " + dir);
            return;
        }
        deleteDir();
        moveTo(State.CLOSED, "directory " + dir + " deleted");
    }

    @Override
    public String toString() {
        return "EmbeddedKafkaBroker[" + bootstrapServers() + ", " + state + ", " + dir + "]";
    }

    /** Writes meta.properties and the bootstrap metadata snapshot, as {@code kafka-storage format} would. */
    private void format() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8)) {
            new Formatter()
                    .setPrintStream(print)
                    .setNodeId(NODE_ID)
                    .setClusterId(Uuid.randomUuid().toString())
                    .addDirectory(logDir.toString())
                    .setMetadataLogDirectory(logDir.toString())
                    .setControllerListenerName(CONTROLLER_LISTENER)
                    .run();
        } catch (Exception e) {
            throw new IllegalStateException("cannot format Kafka storage in " + logDir + ": " + e.getMessage(), e);
        }
        LOG.debug("Kafka storage formatted: {}", out.toString(StandardCharsets.UTF_8).trim());
    }

    private synchronized void launch(String what) {
        long t0 = System.nanoTime();
        KafkaRaftServer started = null;
        String phases;
        try {
            // the constructor already reads meta.properties and the bootstrap snapshot: a bad directory fails here
            started = new KafkaRaftServer(new KafkaConfig(config, false), Time.SYSTEM);
            long t1 = System.nanoTime();
            started.startup();
            server = started;
            long t2 = System.nanoTime();
            KafkaAdmin.awaitCluster(bootstrapServers(), STARTUP_TIMEOUT);
            phases = " (construct " + (t1 - t0) / 1_000_000 + ", startup " + (t2 - t1) / 1_000_000
                    + ", first describeCluster " + millisSince(t2) + ")";
        } catch (RuntimeException e) {
            server = null;
            if (started != null) {
                quietShutdown(started);
            }
            throw new IllegalStateException("Kafka broker " + bootstrapServers() + " (controller port " + controllerPort
                    + ", data " + logDir + ") failed to " + what + ": " + e.getMessage(), e);
        }
        moveTo(State.RUNNING, what + " took " + millisSince(t0) + " ms" + phases + ", controller port " + controllerPort + ", data " + logDir);
    }

    private void shutdownServer() {
        KafkaRaftServer s = server;
        server = null;
        s.shutdown();
        s.awaitShutdown();
    }

    private static void quietShutdown(KafkaRaftServer s) {
        try {
            s.shutdown();
            s.awaitShutdown();
        } catch (RuntimeException e) {
            LOG.warn("shutting down a broker that failed to start also failed", e);
        }
    }

    private void requireState(String action, State... allowed) {
        State actual = state();
        for (State a : allowed) {
            if (a == actual) {
                return;
            }
        }
        throw new IllegalStateException("cannot " + action + " Kafka broker " + bootstrapServers() + ": it is " + actual
                + ", expected " + (allowed.length == 1 ? allowed[0] : List.of(allowed)));
    }

    private void moveTo(State next, String detail) {
        LOG.info("Kafka broker {}: {} -> {} ({})", bootstrapServers(), state == null ? "NEW" : state, next, detail);
        state = next;
    }

    private void deleteDir() {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            List<Path> paths = new ArrayList<>(walk.sorted(Comparator.reverseOrder()).toList());
            for (Path p : paths) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete Kafka directory " + dir, e);
        }
    }

    private static long millisSince(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }
}
