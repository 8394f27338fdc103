package io.shardlift.ops.cutover;

import io.shardlift.core.TargetException;
import io.shardlift.core.ledger.Markers;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.ops.cutover.CutoverReport.Step;
import io.shardlift.ops.cutover.CutoverReport.StepStatus;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
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

    List<Step> steps() {
        return List.copyOf(steps);
    }

    @Override
    public void close() {
        try {
            if (resources != null) {
                resources.close();
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
