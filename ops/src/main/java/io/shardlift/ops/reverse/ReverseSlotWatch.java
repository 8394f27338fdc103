package io.shardlift.ops.reverse;

import io.shardlift.core.SqlErrors;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.spec.ConnInfo;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * What the rollback window costs and whether its slots are read, node by node, looked at every few seconds in the
 * background: the WAL each reverse slot retains, whether a capture reads it, and a node that does not answer. The
 * captures' own state cannot tell: Debezium restarts a task that lost its node every 10 s and the capture still reads
 * as streaming, with the last lag it saw (a new user's report). A status request never waits for a node.
 */
final class ReverseSlotWatch implements AutoCloseable {

    /** One node's slot as last seen; {@code problem} when the node did not answer or the slot is not read. */
    record Seen(int node, long retainedBytes, boolean active, Optional<String> problem) {
        String describe() {
            return problem.map(p -> "node " + node + ": " + p)
                    .orElse("node " + node + ": slot retains " + mb(retainedBytes) + " of WAL" + (active ? "" : ", not read right now"));
        }
    }

    /** A slot not read for this long is a problem (a capture restarting reads it again within seconds). */
    private static final long INACTIVE_PROBLEM_MS = 30_000;

    private final ClusterPlan plan;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "shardlift-reverse-slots");
        t.setDaemon(true);
        return t;
    });
    private final long[] inactiveSince;
    private volatile List<Seen> seen = List.of();

    ReverseSlotWatch(ClusterPlan plan) {
        this.plan = plan;
        this.inactiveSince = new long[plan.nodeCount()];
    }

    void start() {
        timer.scheduleWithFixedDelay(this::look, 0, 5, TimeUnit.SECONDS);
    }

    /** The last look, empty before the first. */
    List<Seen> seen() {
        return seen;
    }

    /** The first problem of the last look: a node that does not answer, or a slot nobody has read for a while. */
    Optional<String> problem() {
        return seen.stream().filter(s -> s.problem().isPresent()).findFirst().map(Seen::describe);
    }

    private void look() {
        List<Seen> now = new ArrayList<>();
        for (int k = 0; k < plan.nodeCount(); k++) {
            if (ReverseSlots.publishedOn(plan, k).isEmpty()) {
                continue; // no slot there: only global tables, carried from node 0
            }
            now.add(look(k));
        }
        seen = List.copyOf(now);
    }

    private Seen look(int k) {
        ConnInfo node = plan.spec().nodes().get(k);
        try (Connection c = node.connect();
             PreparedStatement ps = c.prepareStatement("SELECT active, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint"
                     + " FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, ReverseSlots.slot(plan.spec(), k));
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return new Seen(k, 0, false, Optional.of("the reverse slot " + ReverseSlots.slot(plan.spec(), k)
                            + " is missing: the cluster's changes on this node are not carried back; roll back is not safe"));
                }
                boolean active = rs.getBoolean(1);
                long retained = rs.getLong(2);
                long now = System.nanoTime();
                if (active) {
                    inactiveSince[k] = 0;
                } else if (inactiveSince[k] == 0) {
                    inactiveSince[k] = now;
                }
                long idleMs = inactiveSince[k] == 0 ? 0 : (now - inactiveSince[k]) / 1_000_000;
                Optional<String> problem = idleMs >= INACTIVE_PROBLEM_MS
                        ? Optional.of("slot " + ReverseSlots.slot(plan.spec(), k) + " not read for " + idleMs / 1000
                        + " s (it retains " + mb(retained) + " of WAL): the reverse capture of this node is not running")
                        : Optional.empty();
                return new Seen(k, retained, active, problem);
            }
        } catch (SQLException | RuntimeException e) {
            String why = e instanceof SQLException s ? SqlErrors.describe(s) : String.valueOf(e.getMessage());
            return new Seen(k, 0, false, Optional.of(node.label() + " does not answer (" + why + "): its changes wait in its"
                    + " slot; the rollback waits for it"));
        }
    }

    private static String mb(long bytes) {
        return String.format("%.1f MB", bytes / 1_048_576.0);
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
