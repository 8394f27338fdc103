package io.shardlift.ops.cutover;

import io.shardlift.core.TargetException;
import io.shardlift.core.ledger.Markers;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.ops.cutover.CutoverReport.Step;
import io.shardlift.ops.cutover.CutoverReport.StepStatus;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import io.shardlift.ops.pooler.PoolerProbe;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the steps of one cutover (or dry run) share: the plan and options, whether it is a dry run, the connections
 * and the content proof (opened once the gate passed, before anything waits on them), a pool for the work that runs
 * side by side, the report's lines, and the facts one step hands to a later one (when the fence began, the marker).
 */
final class CutoverContext implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(CutoverContext.class);

    /** The connections and the content proof of one cutover; closing rolls an uncommitted fence back. */
    record Resources(Links links, ContentProof proof) implements AutoCloseable {

        /** For a runner whose steps need neither (its tests). */
        static final Resources NONE = new Resources(null, null);

        @Override
        public void close() {
            if (links != null) {
                links.close(); // closes the fence connection: an open fence transaction rolls back, its lock goes
            }
            if (proof != null) {
                proof.close();
            }
        }
    }

    private final String id;
    private final boolean dryRun;
    private final ClusterPlan plan;
    private final Cutover.Options options;
    private final Supplier<Resources> opener;
    private final ExecutorService pool;
    private Resources resources;
    private final List<Step> steps = new ArrayList<>();

    /** System.nanoTime() of the first LOCK attempt of the fence that was granted; 0 while not fenced. */
    private long fencedAt;
    /** System.nanoTime() of the fence's release (commit, or the dry run's rollback); 0 before. */
    private long releasedAt;
    /** Time spent waiting for quiet tables before LOCK attempts, all attempts together. */
    long quietWaitedMs;
    /** The cutover's marker and where it is in the source's WAL, once emitted. */
    String marker;
    String markerLsn;
    /** When the pooler's PAUSE was issued (the start of the clients' pause), with a pooler. */
    java.time.Instant poolerPauseIssued;
    /** The clients' pause, PAUSE issued to RESUME done, once RESUMEd; -1 before. */
    long poolerPauseMillis = -1;
    /** The cutover probe while it runs (with a pooler), and what it saw once stopped. */
    private PoolerProbe probe;
    private CutoverReport.Probe probeResult;

    /**
     * @param threads threads for the work that runs side by side inside the freeze (the common pool has one thread on
     *                a 2-core machine)
     */
    CutoverContext(String id, boolean dryRun, ClusterPlan plan, Cutover.Options options, Supplier<Resources> opener, int threads) {
        this.id = id;
        this.dryRun = dryRun;
        this.plan = plan;
        this.options = options;
        this.opener = opener;
        ThreadPoolExecutor p = (ThreadPoolExecutor) Executors.newFixedThreadPool(threads, r -> {
            Thread th = new Thread(r, "shardlift-cutover");
            th.setDaemon(true);
            return th;
        });
        p.prestartAllCoreThreads(); // a thread started inside the freeze would lengthen it
        this.pool = p;
    }

    String id() {
        return id;
    }

    boolean dryRun() {
        return dryRun;
    }

    ClusterPlan plan() {
        return plan;
    }

    Cutover.Options options() {
        return options;
    }

    ExecutorService pool() {
        return pool;
    }

    /** Opens every connection the freeze needs, and begins the content proof's journal: before anything waits. */
    void open() {
        resources = opener.get();
    }

    Links links() {
        return opened().links();
    }

    ContentProof proof() {
        return opened().proof();
    }

    private Resources opened() {
        if (resources == null) {
            throw new IllegalStateException("cutover " + id + ": a step asked for its connections before they were opened");
        }
        return resources;
    }

    /** Emits a marker into the source's WAL; returns its position. */
    String emitMarker(String name) throws SQLException {
        return Markers.emit(links().source(0), name);
    }

    /** Waits until node 0 holds the marker's row for every partition (woken by the applier's NOTIFY). */
    void awaitMarker(String name) throws SQLException, InterruptedException {
        Connection node0 = links().node(0);
        try {
            Markers.await(node0, name, options.markerPartitions(), options.drainTimeout());
        } catch (Markers.NotThrough e) {
            throw new TargetException(e.getMessage() + " — check the applier (shardlift status)");
        }
    }

    /** Stops here while a crash test asks it to ({@link Failpoints}). */
    void failpoint(String name) throws InterruptedException {
        Failpoints.hang(name);
    }

    void fenced(long firstAttemptAt) {
        this.fencedAt = firstAttemptAt;
    }

    boolean isFenced() {
        return fencedAt != 0;
    }

    long fencedAt() {
        return fencedAt;
    }

    void released(long at) {
        this.releasedAt = at;
    }

    boolean isReleased() {
        return releasedAt != 0;
    }

    /** How long writes were frozen: from the first LOCK attempt to the release, or to now if not released. */
    long freezeMillis() {
        if (fencedAt == 0) {
            return 0;
        }
        return Math.max(0, ((releasedAt != 0 ? releasedAt : System.nanoTime()) - fencedAt) / 1_000_000);
    }

    /** Adds a line to the report (and the log). */
    void report(String name, StepStatus status, long startNanos, long endNanos, String detail) {
        report(new Step(name, status, Math.max(0, (endNanos - startNanos) / 1_000_000), detail));
    }

    void report(Step step) {
        steps.add(step);
        log.info("cutover step {}: {} ({} ms) {}", step.name(), step.status().name().toLowerCase(java.util.Locale.ROOT),
                step.millis(), step.detail());
    }

    void probeStarted(PoolerProbe p) {
        this.probe = p;
    }

    /**
     * Stops the cutover probe after a tail (clients going on after the RESUME: one statement each begun after now, at
     * least {@code tail}); what it saw goes into the report. Nothing when none runs.
     */
    Optional<CutoverReport.Probe> stopProbe(Duration tail) throws InterruptedException {
        PoolerProbe p = probe;
        if (p != null) {
            probe = null;
            probeResult = summary(p.stop(tail, tail.plusSeconds(5)));
            log.info("cutover {}: {}", id, probeResult.describe());
        }
        return Optional.ofNullable(probeResult);
    }

    Optional<CutoverReport.Probe> probeResult() {
        return Optional.ofNullable(probeResult);
    }

    private static CutoverReport.Probe summary(List<PoolerProbe.AliasResult> aliases) {
        Set<String> sides = aliases.stream().map(PoolerProbe.AliasResult::lastWriteOn).collect(Collectors.toSet());
        return new CutoverReport.Probe(aliases.stream().mapToLong(PoolerProbe.AliasResult::writes).sum(),
                aliases.stream().mapToLong(PoolerProbe.AliasResult::reads).sum(),
                aliases.stream().mapToLong(PoolerProbe.AliasResult::errors).sum(),
                aliases.stream().mapToLong(PoolerProbe.AliasResult::worstWriteMs).max().orElse(0),
                aliases.stream().mapToLong(PoolerProbe.AliasResult::worstReadMs).max().orElse(0),
                sides.size() == 1 ? sides.iterator().next() : sides.isEmpty() ? "none" : "mixed",
                aliases.stream().map(PoolerProbe.AliasResult::firstError).filter(Objects::nonNull).findFirst());
    }

    List<Step> steps() {
        return List.copyOf(steps);
    }

    @Override
    public void close() {
        try {
            if (probe != null) {
                probe.close(); // a cutover that ended without its RESUME step: the probe must not outlive it
            }
            if (resources != null) {
                resources.close();
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
