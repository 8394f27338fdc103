package io.shardlift.ops.workflow;

import io.shardlift.core.ledger.Markers;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.spec.LazyConnection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The change stream's lag measured end to end, the way the cutover drains: a marker written into the source's WAL
 * and timed until every partition of every topic has applied past it on every node. Position- and timestamp-based
 * lags cannot tell a capture that is reading a backlog from one that is current (measured: a capture 30 s behind
 * after the copy looked caught up, heartbeats and WAL from other databases blur both); a marker cannot be early.
 * One probe at a time, a new one every half second while {@code active} says so; old probe rows are deleted.
 */
final class LagProbe implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(LagProbe.class);
    static final String PREFIX = "probe-";

    private final ClusterPlan plan;
    private final int markerPartitions;
    private final BooleanSupplier active;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "shardlift-lag-probe");
        t.setDaemon(true);
        return t;
    });
    private final String run = Long.toHexString(System.nanoTime());
    private final LazyConnection source;
    private final LazyConnection node0;
    private long sequence;
    private String outstanding;
    private volatile long emittedAt;
    private volatile boolean pending;
    private volatile long lastRoundTripMs = -1;
    private long nextCleanup;

    LagProbe(ClusterPlan plan, int markerPartitions, BooleanSupplier active) {
        this.plan = plan;
        this.markerPartitions = markerPartitions;
        this.active = active;
        this.source = new LazyConnection(plan.spec().source());
        this.node0 = new LazyConnection(plan.spec().nodes().get(0));
    }

    void start() {
        timer.scheduleWithFixedDelay(this::tick, 500, 500, TimeUnit.MILLISECONDS);
    }

    /**
     * The last round trip, or how long the probe under way has been travelling if that is longer; empty until a
     * probe has gone all the way.
     */
    OptionalLong lagMillis() {
        long last = lastRoundTripMs;
        if (last < 0) {
            return OptionalLong.empty();
        }
        long travelling = pending ? (System.nanoTime() - emittedAt) / 1_000_000 : 0;
        return OptionalLong.of(Math.max(last, travelling));
    }

    private void tick() {
        try {
            if (!active.getAsBoolean()) {
                pending = false;
                outstanding = null;
                return;
            }
            if (outstanding == null) {
                outstanding = PREFIX + run + "-" + (++sequence);
                emit(outstanding);
                emittedAt = System.nanoTime();
                pending = true;
                return;
            }
            if (applied(outstanding)) {
                lastRoundTripMs = (System.nanoTime() - emittedAt) / 1_000_000;
                pending = false;
                outstanding = null;
            }
            if (System.nanoTime() > nextCleanup) {
                cleanup();
                nextCleanup = System.nanoTime() + 60_000_000_000L;
            }
        } catch (SQLException | RuntimeException e) {
            log.debug("lag probe: {}", e.getMessage());
            closeQuietly();
            outstanding = null; // a lost probe is replaced; the one travelling meanwhile still counts as lag
        }
    }

    private void emit(String marker) throws SQLException {
        Markers.emit(source.get(), marker);
    }

    private boolean applied(String marker) throws SQLException {
        return Markers.count(node0.get(), marker) >= markerPartitions;
    }

    private void cleanup() throws SQLException {
        Markers.forget(node0.get(), PREFIX, Duration.ofMinutes(1));
    }

    private void closeQuietly() {
        source.close(); // reopened on the next tick
        node0.close();
    }

    @Override
    public void close() {
        timer.shutdownNow();
        try {
            timer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeQuietly();
    }
}
