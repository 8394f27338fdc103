package io.shardlift.ops.workflow;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.shardlift.cdc.apply.Applier;
import io.shardlift.cdc.apply.ApplierStatus;
import io.shardlift.cdc.apply.ApplyConfig;
import io.shardlift.cdc.apply.NodeApplyStatus;
import io.shardlift.cdc.capture.Capture;
import io.shardlift.cdc.capture.StreamBinding;
import io.shardlift.ops.cutover.Cutover;
import io.shardlift.ops.cutover.CutoverReport;
import io.shardlift.ops.cutover.CutoverState;
import io.shardlift.ops.cutover.Rollback;
import io.shardlift.ops.cutover.Completion;
import io.shardlift.ops.reverse.ReverseStream;
import io.shardlift.core.Lsn;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.plan.TablePlan;
import io.shardlift.core.spec.KafkaSpec;
import io.shardlift.core.spec.MigrationSpec;
import io.shardlift.snapshotter.CopyProgress;
import io.shardlift.snapshotter.SnapshotOptions;
import io.shardlift.snapshotter.SnapshotResult;
import io.shardlift.snapshotter.Snapshotter;
import io.shardlift.embedded.EmbeddedKafkaBroker;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root of an online migration: the broker (when embedded), the applier (which waits for
 * each table's copy), the snapshot copy, and the capture, started the moment the slot exists. Everything
 * it does is resumable: a restart reads the durable state on the nodes and in Kafka and goes on.
 */
public final class Migration implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Migration.class);

    /**
     * @param dataDir    where the embedded broker keeps its data between runs
     * @param instanceId the applier's member id in the consumer group; empty: derived from host and data directory
     */
    public record Options(int jobs, long chunkRows, Path dataDir, Optional<String> instanceId) {
    }

    private final ClusterPlan plan;
    private final EmbeddedKafkaBroker broker;
    private final String bootstrap;
    /** The forward stream; replaced when a rollback starts it again. */
    private volatile Capture capture;
    private volatile Applier applier;
    private final CopyProgress progress;
    private final Thread snapshotThread;
    private final AtomicReference<SnapshotResult> snapshot = new AtomicReference<>();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final AtomicLong sourceLsn = new AtomicLong();
    private volatile long sourceLsnReadAt;
    private final Cutover cutover;
    private final Rollback rollback;
    private final Completion completion;
    private final AtomicReference<CutoverReport> lastRollback = new AtomicReference<>();
    private volatile boolean rollingBack;
    private final java.util.concurrent.locks.ReentrantLock cutoverLock = new java.util.concurrent.locks.ReentrantLock();
    private final AtomicReference<CutoverReport> lastCutover = new AtomicReference<>();
    /** The process's registry as this migration registers on it: close() removes what it registered, nothing else. */
    private final OwnedMeters meters;
    private final MeterRegistry registry;
    private volatile boolean cuttingOver;
    private final LagProbe probe;
    private final ProgressLedgers ledgers;
    private volatile boolean cutOver;
    /** Set by close(): a stage that stops with an error from now on was stopped, it did not fail. */
    private volatile boolean closing;
    /** The embedded broker's data directory; null with an external broker. */
    private final Path embeddedDataDir;
    private final String instanceId;
    /** The way back, from the point of no return on (the rollback window); null before. */
    private volatile ReverseStream reverse;

    private Migration(ClusterPlan plan, Options options, MeterRegistry registry) {
        this.plan = plan;
        this.meters = new OwnedMeters(registry);
        this.registry = meters.registry();
        MigrationSpec spec = plan.spec();
        KafkaSpec kafka = spec.kafka();
        this.embeddedDataDir = kafka.embedded() ? options.dataDir() : null;
        if (kafka.embedded()) {
            // before the broker opens (and writes) the directory: another migration's stream is never reopened
            DataDirIdentity.claim(options.dataDir(), spec);
        }
        this.broker = kafka.embedded() ? EmbeddedKafkaBroker.openPersistent(options.dataDir().resolve("kafka")) : null;
        this.bootstrap = broker != null ? broker.bootstrapServers() : kafka.bootstrap();
        this.progress = new CopyProgress(registry, plan.tables().stream().map(TablePlan::id).toList());
        this.capture = newCapture();
        this.instanceId = options.instanceId().orElseGet(() -> instanceId(options.dataDir(), spec));
        this.applier = new Applier(ApplyConfig.of(plan, bootstrap, instanceId), registry);
        Gauge.builder("shardlift.lag.wal", this, Migration::walLagBytes).baseUnit("bytes")
                .description("source WAL not yet in Kafka: current WAL position minus the position Kafka acknowledged")
                .register(registry);
        this.cutover = new Cutover(plan, Cutover.Options.defaults(kafka.topicPartitions() * plan.tables().size()));
        this.rollback = new Rollback(plan, Cutover.Options.defaults(kafka.topicPartitions() * plan.tables().size()));
        this.completion = new Completion(plan);
        // probes only while the stream runs for a cutover to come: not during the copy, nor a cutover, nor after one
        this.probe = new LagProbe(plan, kafka.topicPartitions() * plan.tables().size(), () -> snapshot.get() != null
                && !cutOver && !cutoverLock.isLocked() && capture.status().state() == Capture.State.STREAMING
                && applier.status().readyTables().size() == plan.tables().size());
        // NaN until a probe has gone all the way: unknown, which Prometheus and Grafana leave out, not a lag of 0
        Gauge.builder("shardlift.lag.end_to_end", this, m -> m.probe.lagMillis().isPresent() ? m.probe.lagMillis().getAsLong() / 1000.0
                        : Double.NaN).baseUnit("seconds")
                .description("a marker's round trip from the source's WAL through Kafka to every node (NaN: none yet)")
                .register(registry);
        Gauge.builder("shardlift.cutover.write_freeze", lastCutover, r -> r.get() == null ? Double.NaN : r.get().freezeMillis() / 1000.0)
                .baseUnit("seconds").description("writes frozen by the last cutover or dry run of this process, first LOCK attempt to"
                        + " COMMIT (NaN: none yet)").register(registry);
        Gauge.builder("shardlift.cutover.pooler_pause", lastCutover, r -> r.get() == null || r.get().poolerPauseMillis().isEmpty()
                        ? Double.NaN : r.get().poolerPauseMillis().getAsLong() / 1000.0).baseUnit("seconds")
                .description("clients paused in PgBouncer by the last cutover or dry run of this process (NaN: none, or no pooler)")
                .register(registry);
        this.ledgers = new ProgressLedgers(plan);
        Snapshotter snapshotter = new Snapshotter(plan, new SnapshotOptions(options.jobs(), options.chunkRows()), progress)
                .onSlotReady(() -> {
                    if (cutOver) {
                        return; // the source is fenced: the forward stream has nothing to carry, and must not echo the reverse one
                    }
                    // before the capture sends anything: what the topics hold now is not this migration's
                    StreamBinding binding = StreamBinding.establish(spec.nodes().get(0), bootstrap,
                            List.copyOf(capture.topics().values()), kafka.topicPartitions(), kafka.replicationFactor());
                    capture.start(Rollback.forwardOffsetsId(spec.nodes().get(0), binding.id()));
                });
        this.snapshotThread = new Thread(() -> {
            try {
                snapshot.set(snapshotter.run());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Throwable e) {
                if (closing) {
                    // stopped on purpose (Ctrl-C, SIGTERM): every chunk committed stays, the next run copies the rest
                    log.info("copy stopped ({}); chunks copied so far are kept: run the same command again to go on",
                            e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName());
                    return;
                }
                failure.compareAndSet(null, e);
                log.error("snapshot failed: {}", e.getMessage() != null ? e.getMessage() : e.toString());
            }
        }, "shardlift-snapshot");
    }

    private Capture newCapture() {
        return newCapture(plan);
    }

    private Capture newCapture(ClusterPlan plan) {
        MigrationSpec spec = plan.spec();
        KafkaSpec kafka = spec.kafka();
        return new Capture(new Capture.Config(spec.source(), spec.replication().slot(), spec.replication().publication(),
                plan.tables().stream().map(TablePlan::source).toList(),
                new Capture.Kafka(bootstrap, kafka.topicPrefix(), kafka.topicPartitions(), kafka.replicationFactor(),
                        kafka.topicPrefix() + ".offsets." + spec.replication().slot()),
                Capture.Tuning.DEFAULTS, plan.tables().stream().filter(TablePlan::sharded)
                        .collect(java.util.stream.Collectors.toMap(TablePlan::id, TablePlan::keyColumns)),
                spec.replication().replicateDdl()), registry);
    }

    /** One per host and data directory: the same process restarted gets the same id, two processes differ. */
    static String instanceId(Path dataDir, MigrationSpec spec) {
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            host = "localhost";
        }
        String where = host + ":" + dataDir.toAbsolutePath().normalize() + ":" + spec.replication().slot();
        return "shardlift-" + Integer.toHexString(where.hashCode());
    }

    /** Starts every stage; returns at once. A cutover a crashed process left half done is settled first. */
    public static Migration start(ClusterPlan plan, Options options, MeterRegistry registry) {
        Migration m = new Migration(plan, options, registry);
        try {
            return started(m);
        } catch (RuntimeException e) {
            m.close(); // what it opened before it failed (a node or the source away): a take-on starts it again
            throw e;
        }
    }

    private static Migration started(Migration m) {
        m.cutover.recover().ifPresent(outcome -> log.info("interrupted cutover settled on start: {}", outcome));
        Optional<CutoverState> cut = m.durableCutoverState();
        boolean completed = cut.map(st -> st.state() == CutoverState.State.COMPLETED).orElse(false);
        m.cutOver = completed || cut.map(st -> st.state() == CutoverState.State.CUT_OVER).orElse(false);
        if (completed) {
            // the window is closed: nothing streams either way, and the snapshot would make the forward slot again
            m.capture.close();
            try {
                m.completion.cleanUp(); // again: a process stopped between COMPLETED and the drops left them
            } catch (RuntimeException e) {
                log.error("{}", e.getMessage());
            }
        } else if (m.cutOver) {
            m.openRollbackWindow();
        } else {
            m.applier.start();
        }
        if (!completed) {
            m.snapshotThread.start();
        }
        m.probe.start();
        return m;
    }

    public ClusterPlan plan() {
        return plan;
    }

    public String bootstrapServers() {
        return bootstrap;
    }

    public CopyProgress copyProgress() {
        return progress;
    }

    public Optional<SnapshotResult> snapshotResult() {
        return Optional.ofNullable(snapshot.get());
    }

    public Capture.Status captureStatus() {
        return capture.status();
    }

    public ApplierStatus applierStatus() {
        return applier.status();
    }

    /** Each node as the applier sees it: rows applied, lag of its last batch, failing right now. */
    public List<NodeApplyStatus> applierNodes() {
        return applier.nodes();
    }

    /** The first failure of any stage, if one has stopped. */
    public Optional<Throwable> failure() {
        Throwable f = failure.get();
        if (f != null) {
            return Optional.of(f);
        }
        Capture.Status cs = capture.status();
        if (cs.state() == Capture.State.FAILED) {
            return Optional.of(new io.shardlift.core.SourceException("capture failed: " + cs.error().orElse("unknown")));
        }
        ApplierStatus as = applier.status();
        if (as.state() == Applier.State.FAILED) {
            return Optional.of(new io.shardlift.core.TargetException("applier failed: " + as.lastError().orElse("unknown")));
        }
        return reverseStatus().flatMap(ReverseStream.Status::error).map(e -> new io.shardlift.core.TargetException(e));
    }

    /**
     * Copy done everywhere, the capture streaming and no more than a moment behind the source, every table
     * applying and nothing waiting in Kafka. The applier alone cannot tell: while the capture is still starting
     * or behind, the applier's queue is empty too.
     */
    public boolean caughtUp() {
        Capture.Status cs = capture.status();
        if (snapshot.get() == null || cs.state() != Capture.State.STREAMING || cs.ackedLsn() == 0 || cs.lagMillis() >= 2_000
                || !applier.caughtUp()) {
            return false;
        }
        // the decisive test: a marker went all the way, quickly, and the one under way is not late
        OptionalLong endToEnd = probe.lagMillis();
        if (endToEnd.isEmpty() || endToEnd.getAsLong() >= CAUGHT_UP_MS) {
            return false;
        }
        // the capture's own lag reads 0 before its first batch: compare what Kafka holds with the source's WAL now
        if (System.nanoTime() - sourceLsnReadAt > 500_000_000L) {
            refreshSourcePosition();
        }
        return walLagBytes() < CAUGHT_UP_WAL_BYTES;
    }

    /** The longest end-to-end round trip that still counts as caught up. */
    static final long CAUGHT_UP_MS = 2_000;

    /** The end-to-end lag the lag probe measured, if a probe has gone all the way yet. */
    public OptionalLong endToEndProbeMillis() {
        return probe.lagMillis();
    }

    /** WAL the capture may still have to read while counting as caught up: a few in-flight transactions. */
    static final long CAUGHT_UP_WAL_BYTES = 4L << 20;

    /** End-to-end lag: the larger of the capture's (source commit to Kafka) and the applier's (commit to node). */
    long endToEndLagMillis() {
        return Math.max(Math.max(capture.status().lagMillis(), applier.status().commitLagMs()), probe.lagMillis().orElse(0));
    }

    /** Reads the source's current WAL position (for the lag in bytes). */
    public void refreshSourcePosition() {
        try (Connection c = plan.spec().source().connect();
             Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_current_wal_lsn()::text")) {
            rs.next();
            sourceLsn.set(Lsn.parse(rs.getString(1)).value());
            sourceLsnReadAt = System.nanoTime();
        } catch (SQLException e) {
            log.debug("cannot read the source WAL position: {}", e.getMessage());
        }
    }

    public long walLagBytes() {
        long acked = capture.status().ackedLsn();
        long now = sourceLsn.get();
        return acked == 0 || now == 0 ? 0 : Math.max(0, now - acked);
    }

    /**
     * The phase, derived on every call from node 0's ledgers (cutover state, then the copy's and the stream's), with
     * the stages' own state only where no ledger speaks: a stage that failed in this process, whether the stream has
     * caught up, and a cutover this process has begun but not yet recorded (its gate runs before the first write).
     * PLANNED, COPYING, CATCHING_UP, READY, CUTTING_OVER, CUT_OVER or FAILED.
     */
    public Phase phase() {
        if (cuttingOver) {
            return Phase.CUTTING_OVER;
        }
        Optional<CutoverState.State> cut = durableCutoverState().map(CutoverState::state);
        if (rollingBack || cut.isPresent() && cut.get() == CutoverState.State.ROLLING_BACK) {
            return Phase.ROLLING_BACK;
        }
        if (cut.isPresent() && cut.get() == CutoverState.State.CUTTING_OVER) {
            return Phase.CUTTING_OVER;
        }
        if (cut.isPresent() && cut.get() == CutoverState.State.CUT_OVER) {
            return Phase.CUT_OVER;
        }
        if (cut.isPresent() && cut.get() == CutoverState.State.COMPLETED) {
            return Phase.COMPLETED;
        }
        if (failure().isPresent()) {
            return Phase.FAILED;
        }
        ProgressLedgers.Progress copy = ledgers.read();
        if (!copy.copyDone()) {
            return copy.copyStarted() ? Phase.COPYING : Phase.PLANNED;
        }
        return caughtUp() ? Phase.READY : Phase.CATCHING_UP;
    }

    /**
     * The one place the workflow reads the durable cutover state (node 0's ledger, through the cutover's
     * {@code StateStore} and {@code core.ledger.CutoverLedger}).
     */
    private Optional<CutoverState> durableCutoverState() {
        return cutover.readState();
    }

    /** The phases of a migration. */
    public enum Phase { PLANNED, COPYING, CATCHING_UP, READY, CUTTING_OVER, CUT_OVER, ROLLING_BACK, COMPLETED, FAILED }

    /**
     * Runs the cutover, or with {@code dryRun} every check and the lock without changing anything. One at a time:
     * a second concurrent call is refused; once cut over, every call is refused ({@link Cutover.Conflict}).
     */
    public CutoverReport cutover(boolean dryRun) {
        if (retired || !cutoverLock.tryLock()) {
            throw new IllegalStateException(busy("a cutover is already running"));
        }
        try {
            cuttingOver = !dryRun;
            CutoverReport r = cutover.run(() -> {
                ApplierStatus as = applier.status();
                boolean streaming = capture.status().state() == Capture.State.STREAMING;
                boolean copyDone = snapshot.get() != null && as.readyTables().size() == plan.tables().size() && as.assigned()
                        && streaming;
                // a table whose stream a schema change stopped never catches up: refusing with "lag ... is above the
                // allowed" sent the operator waiting for a lag that cannot come down; the applier's message says why
                List<String> refusing = new ArrayList<>(notCarriedTables(0));
                as.lastError().ifPresent(refusing::add);
                return new Cutover.Gate(copyDone, endToEndLagMillis(), as.consumerLag(), shardingKeyWarnings(), refusing);
            }, applier.journal(), applier.assignedPartitions() >= plan.spec().kafka().topicPartitions() * plan.tables().size(), dryRun);
            lastCutover.set(r);
            Counter.builder("shardlift.cutover.requests").tag("outcome", r.outcome().wire()).tag("dry_run", String.valueOf(dryRun))
                    .description("cutovers and dry runs this process ran, by outcome").register(registry).increment();
            if (r.outcome() == CutoverReport.Outcome.DONE) {
                cutOver = true;
                openRollbackWindow();
            }
            return r;
        } finally {
            cuttingOver = false;
            cutoverLock.unlock();
        }
    }

    /**
     * Rolls back (or with {@code dryRun} walks every step changing nothing), serialised with the cutover. Once it passed
     * its point of no return the rollback window closes: the reverse stream stops, its slots are dropped, and the forward
     * stream starts again from where the source is now, so a new cutover can follow.
     *
     * @throws Cutover.Conflict not cut over, or rolled back already; nothing changed
     */
    public CutoverReport rollback(boolean dryRun) {
        if (retired || !cutoverLock.tryLock()) {
            throw new IllegalStateException(busy("a cutover or a rollback is already running"));
        }
        try {
            rollingBack = !dryRun;
            CutoverReport r = rollback.run(() -> {
                Optional<ReverseStream.Status> st = reverseStatus();
                if (st.isEmpty()) {
                    return new Rollback.Gate(Optional.of("no reverse stream runs in this process"), 0, 0);
                }
                ReverseStream.Status s = st.get();
                Optional<String> problem = s.error().or(s::waiting).or(() -> "STREAMING".equals(s.state()) ? Optional.empty()
                        : Optional.of("it is " + s.state()));
                return new Rollback.Gate(problem, s.lagMillis(), s.queued());
            }, () -> {
                ReverseStream rs = reverse;
                if (rs == null) {
                    throw new IllegalStateException("the reverse stream stopped");
                }
                return rs.journal();
            }, dryRun);
            lastRollback.set(r);
            if (r.outcome() == CutoverReport.Outcome.DONE) {
                closeRollbackWindow(r.id());
            }
            return r;
        } finally {
            rollingBack = false;
            cutoverLock.unlock();
        }
    }

    /**
     * Closes the rollback window: the reverse stream stops, its slots and publications go from the nodes, the forward
     * slot and publication from the source; COMPLETED is final. Refused while a cutover or a rollback runs.
     *
     * @throws Cutover.Conflict not cut over (nothing to close), or completed already
     */
    public Completion.Result complete() {
        if (retired || !cutoverLock.tryLock()) {
            throw new IllegalStateException(busy("a cutover or a rollback is running: complete is refused until it ended"));
        }
        try {
            Optional<CutoverState> st = durableCutoverState();
            if (st.isEmpty() || st.get().state() != CutoverState.State.CUT_OVER) {
                return completion.run(); // refuses with the reason, changing nothing
            }
            ReverseStream r = reverse;
            reverse = null;
            if (r != null) {
                r.close();
            }
            Completion.Result result = completion.run();
            markFinished(result.cutoverId());
            return result;
        } finally {
            cutoverLock.unlock();
        }
    }

    public Optional<CutoverReport> lastRollback() {
        return Optional.ofNullable(lastRollback.get());
    }

    /** After a rollback: the reverse stream stops and its slots go; the forward stream starts again. */
    private void closeRollbackWindow(String rollbackId) {
        ReverseStream r = reverse;
        reverse = null;
        reverseFailure.set(null);
        if (r != null) {
            r.close();
        }
        try {
            io.shardlift.ops.reverse.ReverseSlots.dropAll(plan);
        } catch (RuntimeException e) {
            log.error("{}", e.getMessage());
        }
        cutOver = false;
        KafkaSpec kafka = plan.spec().kafka();
        // the tables have the shapes the stream carried, not those of the start plan (the capture's preflight refuses a
        // table whose columns differ from its configuration, and the codecs must read the source's rows as they are)
        ClusterPlan carried = io.shardlift.core.plan.CarriedShapes.onTheNodes(plan);
        Capture c = newCapture(carried);
        capture = c;
        StreamBinding binding = StreamBinding.establish(plan.spec().nodes().get(0), bootstrap, List.copyOf(c.topics().values()),
                kafka.topicPartitions(), kafka.replicationFactor());
        Rollback.recordForwardEpoch(plan.spec().nodes().get(0), rollbackId);
        c.start(Rollback.forwardOffsetsId(plan.spec().nodes().get(0), binding.id()));
        Applier a = new Applier(ApplyConfig.of(carried, bootstrap, instanceId), registry);
        applier = a;
        a.start();
        log.info("rolled back: the source is the database again and the forward stream runs; a new cutover may follow");
    }

    /** Set once {@link #retire} took the cutover lock for good: this migration is about to be replaced. */
    private volatile boolean retired;

    /**
     * Tables created on the source during the migration, in a schema the spec migrates whole, not carried yet: those a
     * start of the migration plans, and takes on unless the planner refuses them (a table without a primary key, say:
     * {@link LiveMigration} names it with the planner's reason). Empty unless this migration streams, its copy done,
     * before any cutover (or after a rollback), and DDL is carried; empty too when the source cannot be asked (next time).
     */
    public List<io.shardlift.core.TableId> tablesToTakeOn() {
        if (!plan.spec().replication().replicateDdl() || cutOver || cuttingOver || rollingBack || closing || retired
                || snapshot.get() == null || failure().isPresent()) {
            return List.of();
        }
        try {
            Optional<CutoverState> st = durableCutoverState();
            if (st.isPresent() && st.get().state() != CutoverState.State.REVERTED) {
                return List.of();
            }
        } catch (RuntimeException e) {
            // node 0 away for a moment (a restart): the applier rides it out, and this look is made again in 5 s
            log.debug("cannot read the cutover state: {}", e.getMessage());
            return List.of();
        }
        try {
            return look(LOOK_MAX_AGE_MILLIS).created().stream().map(io.shardlift.core.ddl.SourceDdlLog.Created::table).toList();
        } catch (SQLException e) {
            log.debug("cannot read the source's tables created during the migration: {}", e.getMessage());
            return List.of();
        }
    }

    /**
     * Takes the cutover lock for good, so that no cutover, rollback or complete starts on this migration any more: it is
     * about to be closed and replaced by one planned anew ({@link LiveMigration}). False, changing nothing, while one runs.
     */
    boolean retire() {
        if (!cutoverLock.tryLock()) {
            return false;
        }
        retired = true;
        return true;
    }

    /** Why a cutover, rollback or complete cannot start now: one runs, or this migration is being replaced. */
    private String busy(String running) {
        return retired ? "the migration is taking on tables created on the source and starts again with them in a moment;"
                + " ask again once `shardlift status` shows them streaming" : running;
    }

    /** How the take-on lays out a table created in {@code schema}: as the schema's {@code unlisted:} rule says. */
    private String takenOnAs(String schema) {
        return plan.spec().schemas().stream().filter(s -> s.name().equals(schema)).findFirst()
                .map(io.shardlift.core.spec.SchemaSpec::unlisted).filter(io.shardlift.core.spec.UnlistedRule::sharded)
                .map(u -> "as its schema's unlisted: rule says (sharded by " + String.join(", ", u.distributedBy())
                        + u.colocateWith().map(c -> ", colocated with " + c).orElse("") + "; a global table if it lacks"
                        + " that key or its primary key does not hold it)")
                .orElse("as a global table");
    }

    /**
     * The last look at the source's tables created during the migration, and when: the take-on looks every 5 s and the
     * status every second, and one look serves both. {@code created} with {@code replication.ddl: replicate} (the DDL
     * capture records them), {@code unplanned} with {@code stop} (the catalog is asked).
     */
    private record NotCarried(List<io.shardlift.core.ddl.SourceDdlLog.Created> created, List<String> unplanned, long atMillis) {
    }

    /** How long one look at the source serves: the take-on's period ({@link LiveMigration#LOOK_EVERY_MILLIS}). */
    static final long LOOK_MAX_AGE_MILLIS = 5_000;

    private final AtomicReference<NotCarried> notCarried = new AtomicReference<>(new NotCarried(List.of(), List.of(), 0));

    /** The last look if it is younger than {@code maxAgeMillis} (0: never), else a new one (a source connection). */
    private NotCarried look(long maxAgeMillis) throws SQLException {
        NotCarried seen = notCarried.get();
        long now = System.currentTimeMillis();
        if (maxAgeMillis > 0 && now - seen.atMillis() < maxAgeMillis) {
            return seen;
        }
        try (Connection c = plan.spec().source().connect()) {
            boolean replicate = plan.spec().replication().replicateDdl();
            NotCarried look = new NotCarried(replicate ? io.shardlift.core.ddl.SourceDdlLog.notCarried(c) : List.of(),
                    replicate ? List.of() : unplannedTables(c), now);
            notCarried.set(look);
            return look;
        }
    }

    /**
     * One message per table created on the source during the migration in a schema the spec migrates whole, which this
     * migration does not carry (see {@code SourceDdlLog.notCarried}); each refuses the cutover. Looked up at most every
     * 5 s (a source connection each time).
     */
    public List<String> notCarriedTables() {
        return notCarriedTables(LOOK_MAX_AGE_MILLIS);
    }

    private List<String> notCarriedTables(long maxAgeMillis) {
        NotCarried seen;
        try {
            seen = look(maxAgeMillis);
        } catch (SQLException e) {
            if (maxAgeMillis == 0) {
                // the gate must not let a cutover through on a look it could not take
                return List.of("cannot read the source's tables created during the migration (" + e.getMessage()
                        + "): check the source is reachable and try again");
            }
            log.debug("cannot read the source's tables created during the migration: {}", e.getMessage());
            seen = notCarried.get();
        }
        return messages(seen);
    }

    private List<String> messages(NotCarried seen) {
        if (!plan.spec().replication().replicateDdl()) {
            return seen.unplanned();
        }
        Map<io.shardlift.core.TableId, List<String>> refused = takeOnRefused;
        return seen.created().stream()
                .map(t -> t.message(takenOnAs(t.table().schema())) + refusedBecause(t, refused.get(t.table()))).toList();
    }

    /**
     * The planner's problems of a table the take-on refused: the message of a table with a primary key says it is taken
     * on, and one without names only that fix (its only problem when it has one: the planner names it too).
     */
    static String refusedBecause(io.shardlift.core.ddl.SourceDdlLog.Created t, List<String> problems) {
        if (problems == null || problems.isEmpty() || !t.hasPrimaryKey() && problems.size() == 1) {
            return "";
        }
        return ". The take-on refuses it now: " + String.join("; ", problems);
    }

    /** What the take-on ({@link LiveMigration}) refused, by table, with the planner's problems of each. */
    private volatile Map<io.shardlift.core.TableId, List<String>> takeOnRefused = Map.of();

    /**
     * The tables created during the migration that the take-on refused, with the planner's problems of each: their
     * messages in {@link #notCarriedTables} (the status, the cutover's gate) say them.
     */
    void takeOnRefused(Map<io.shardlift.core.TableId, List<String>> problems) {
        takeOnRefused = Map.copyOf(problems);
    }

    /**
     * With {@code replication.ddl: stop} nothing records a table created during the migration, so the catalog is asked:
     * a table of a schema the spec migrates whole ({@code all: true}) that this migration's plan does not hold was created
     * after the plan was made. Its rows would be left behind by a cutover, which is refused while it exists.
     */
    private List<String> unplannedTables(Connection c) throws SQLException {
        List<String> whole = plan.spec().schemas().stream().filter(io.shardlift.core.spec.SchemaSpec::all)
                .map(io.shardlift.core.spec.SchemaSpec::name).toList();
        if (whole.isEmpty()) {
            return List.of();
        }
        java.util.Set<io.shardlift.core.TableId> planned = new java.util.HashSet<>();
        plan.tables().forEach(t -> planned.add(t.id()));
        List<String> out = new java.util.ArrayList<>();
        try (java.sql.PreparedStatement ps = c.prepareStatement("SELECT n.nspname, c.relname FROM pg_class c"
                + " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY (?) AND c.relkind IN ('r', 'p')"
                + " AND NOT c.relispartition ORDER BY 1, 2")) {
            ps.setArray(1, c.createArrayOf("text", whole.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    io.shardlift.core.TableId id = new io.shardlift.core.TableId(rs.getString(1), rs.getString(2));
                    if (!planned.contains(id)) {
                        out.add(id + " is in schema " + id.schema() + ", which the spec migrates with all: true, but not in this"
                                + " migration: it was created after the migration started, and with replication.ddl: stop"
                                + " new tables are not taken on. Its rows are not migrated, so the cutover is refused while it"
                                + " exists: drop it on the source, or start the migration over (with replication.ddl: replicate,"
                                + " `shardlift run` takes tables created during the migration on)");
                    }
                }
            }
        }
        return out;
    }

    /**
     * One line per sharded table whose sharding key the source changed while this run streamed: the cluster refuses
     * such an UPDATE after the cutover, so the application must DELETE and INSERT instead.
     */
    public List<String> shardingKeyWarnings() {
        long now = System.currentTimeMillis();
        return capture.shardingKeyChanges().entrySet().stream().map(e -> e.getKey() + ": " + e.getValue().count()
                + " UPDATE(s) of the sharding key (" + String.join(", ", plan.table(e.getKey()).map(TablePlan::keyColumns)
                .orElse(List.of())) + ") carried since this run started, the last " + Math.max(0, (now - e.getValue().lastAtMillis()) / 1000)
                + " s ago; after the cutover the cluster refuses them (the row would move to another node): the application"
                + " must DELETE and INSERT the row instead").toList();
    }

    /**
     * Past the point of no return: the forward stream stops (the source is fenced, so it has nothing left to carry, and
     * running on it would carry the reverse applier's writes back to the cluster), and the reverse stream starts from
     * the slots the cutover made on the nodes. A failure to start is kept as the reverse stream's error, in the status.
     */
    private void openRollbackWindow() {
        reverseFailure.set(null);
        try {
            capture.close();
        } catch (RuntimeException e) {
            log.warn("stopping the forward capture after the cutover: {}", e.getMessage());
        }
        applier.close();
        ReverseStream r;
        try {
            // the cluster's tables have the shapes the stream carried to them, not the ones the plan was read with
            r = new ReverseStream(io.shardlift.core.plan.CarriedShapes.onTheNodes(plan), bootstrap, instanceId, registry);
        } catch (RuntimeException e) {
            reverseFailure.set(e);
            log.error("the reverse stream cannot start: {}", e.getMessage());
            return;
        }
        reverse = r;
        try {
            r.start();
        } catch (RuntimeException e) {
            reverseFailure.set(e);
            log.error("the reverse stream cannot start: {}", e.getMessage());
        }
    }

    private final AtomicReference<Throwable> reverseFailure = new AtomicReference<>();

    /** The reverse stream's state while the rollback window is open; empty before the cutover. */
    public Optional<ReverseStream.Status> reverseStatus() {
        ReverseStream r = reverse;
        if (r == null) {
            return Optional.empty();
        }
        Throwable f = reverseFailure.get();
        if (f != null) {
            return Optional.of(new ReverseStream.Status("FAILED", 0, 0, 0, List.of(), List.of(), Optional.of(String.valueOf(f.getMessage())),
                    Optional.empty()));
        }
        return Optional.of(r.status());
    }

    /** Whether the reverse stream runs with nothing older than a second in flight. */
    public boolean reverseCaughtUp() {
        ReverseStream r = reverse;
        return r != null && reverseFailure.get() == null && r.caughtUp();
    }

    /** Once cut over, the next migration may take the embedded broker's directory (DataDirIdentity). */
    private void markFinished(String cutoverId) {
        if (embeddedDataDir != null) {
            DataDirIdentity.markFinished(embeddedDataDir, cutoverId);
        }
    }

    public Optional<CutoverReport> lastCutover() {
        return Optional.ofNullable(lastCutover.get());
    }

    /** The durable cutover state on node 0, if a cutover ever ran. */
    public Optional<CutoverState> cutoverState() {
        return durableCutoverState();
    }

    /** One line for a terminal: copy, capture and apply; in the rollback window, the reverse stream. */
    public String statusLine() {
        ReverseStream rev = reverse;
        if (rev != null) {
            Throwable f = reverseFailure.get();
            return "CUT_OVER, rollback window open || " + (f != null ? "reverse FAILED (" + f.getMessage() + ")" : rev.line());
        }
        Capture.Status cs = capture.status();
        ApplierStatus as = applier.status();
        return (snapshot.get() == null ? progress.line() : "copy done")
                // before the capture's first acknowledged batch its WAL lag is unknown, not 0
                + " || capture " + cs.state() + " " + String.format("%,d", cs.events()) + " events, WAL lag "
                + (cs.ackedLsn() == 0 ? "unknown (nothing acknowledged yet)" : String.format("%,d", walLagBytes()) + " B")
                + " || apply " + as.state() + (as.assigned() || as.readyTables().isEmpty() ? "" : " (waiting for partitions)") + " "
                + as.readyTables().size() + "/" + plan.tables().size() + " tables, "
                + String.format("%,d", as.eventsApplied()) + " events, " + String.format("%,d", as.consumerLag()) + " queued, commit lag "
                + as.commitLagMs() + " ms" + as.retrying().map(r -> " || " + r).orElse("");
    }

    /** Stops every stage; what each finished is durable and the next run goes on from there. */
    @Override
    public void close() {
        closing = true;
        probe.close();
        ReverseStream r = reverse;
        if (r != null) {
            r.close();
        }
        snapshotThread.interrupt();
        try {
            snapshotThread.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            capture.close();
        } catch (RuntimeException e) {
            log.warn("closing the capture: {}", e.getMessage());
        }
        applier.close();
        ledgers.close();
        if (broker != null) {
            broker.close();
        }
        // the stages' and this migration's meters go with it; one that replaces it in this process registers its own
        meters.removeAll();
    }
}
