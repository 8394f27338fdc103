package io.shardlift.ops.cutover;

import io.shardlift.core.SourceException;
import io.shardlift.core.TableId;
import io.shardlift.core.TargetException;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.plan.LayoutApplier;
import io.shardlift.core.spec.ConnInfo;
import io.shardlift.ops.pooler.PoolerSwitch;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.EnumSet;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Settles, on start, a cutover a stopped process left behind. What the source says decides, not what the process
 * remembered: if the source refuses writes (the write-fence triggers committed with the release), the cutover passed
 * its point of no return and is finished (foreign keys created and validated, then CUT_OVER); otherwise the fence
 * transaction died with the process, nothing was cut over, and it is ROLLED_BACK.
 *
 * <p>With a pooler, no PgBouncer is left paused (a paused alias is an outage), and the aliases point at the cluster
 * once the cutover passed its point of no return (the source fenced and drained), never before.
 */
final class Recovery {

    private static final Logger log = LoggerFactory.getLogger(Recovery.class);

    private final ClusterPlan plan;
    private final StateStore state;
    private final Optional<PoolerSwitch> pooler;

    Recovery(ClusterPlan plan, StateStore state, Optional<PoolerSwitch> pooler) {
        this.plan = plan;
        this.state = state;
        this.pooler = pooler;
    }

    /** @return the state an interrupted cutover was settled to (CUT_OVER or ROLLED_BACK), empty if none was */
    Optional<String> settle() {
        Optional<String> settled = settleState();
        pooler.ifPresent(p -> settlePooler(p, state.read().map(s -> s.state() == CutoverState.State.CUT_OVER).orElse(false)));
        return settled;
    }

    /**
     * Switches the aliases to the cluster if the cutover is done (again: a process stopped between the release and the
     * switch left them at the fenced source), then RESUMEs whatever is paused. Reports, never stops the start: an
     * unreachable PgBouncer is for the operator to see in the log.
     */
    private void settlePooler(PoolerSwitch p, boolean cutOver) {
        if (cutOver) {
            try {
                p.switchToCluster();
            } catch (RuntimeException e) {
                log.error("the cutover is done but the PgBouncer aliases could not be pointed at the cluster: {}; clients"
                        + " reach the fenced source until they are (restart shardlift run, or edit the include file and RELOAD)",
                        e.getMessage());
            }
        }
        for (PoolerSwitch.AliasState a : p.recover()) {
            if (a.error() != null || a.wasPaused()) {
                log.warn("pooler on start: {}", a);
            } else {
                log.info("pooler on start: {}", a);
            }
        }
    }

    private Optional<String> settleState() {
        Optional<CutoverState> st = state.read();
        if (st.isPresent() && st.get().state() == CutoverState.State.CUT_OVER) {
            // CUT_OVER is recorded at the point of no return and the keys are validated after it, writes flowing:
            // a process stopped in between left them NOT VALID, and no later cutover would validate them
            if (unvalidatedForeignKeys() > 0) {
                LayoutApplier.apply(plan, EnumSet.of(LayoutApplier.Stage.VALIDATE_FOREIGN_KEYS));
                log.info("foreign keys left NOT VALID after the cutover by a stopped process: validated");
            }
            return Optional.empty();
        }
        if (st.isPresent() && st.get().state() == CutoverState.State.ROLLING_BACK) {
            return Optional.of(settleRollback(st.get().id()));
        }
        if (st.isEmpty() || st.get().state() != CutoverState.State.CUTTING_OVER) {
            return Optional.empty();
        }
        String id = st.get().id();
        if (sourceFenced()) {
            // keys first: CUT_OVER promises them validated, and a stop in between repeats this idempotent step
            LayoutApplier.apply(plan, EnumSet.of(LayoutApplier.Stage.FOREIGN_KEYS, LayoutApplier.Stage.VALIDATE_FOREIGN_KEYS));
            state.transition(id, CutoverState.State.CUT_OVER, "finished after a restart");
            log.info("cutover {} had passed its point of no return before the restart: done", id);
            return Optional.of(CutoverState.State.CUT_OVER.name());
        }
        // the reverse slots, if the process got as far as making them, would retain WAL on the nodes for nothing
        try {
            io.shardlift.ops.reverse.ReverseSlots.dropAll(plan);
        } catch (RuntimeException e) {
            log.error("{}", e.getMessage());
        }
        state.transition(id, CutoverState.State.ROLLED_BACK, "the process stopped before the point of no return; the source stayed writable");
        log.info("cutover {} was interrupted before its point of no return: rolled back, the source is writable", id);
        return Optional.of(CutoverState.State.ROLLED_BACK.name());
    }

    /**
     * A rollback a stopped process left behind: the source's fence decides. Still there: the rollback did not pass its
     * point of no return; the cluster's fence is lifted and the state is CUT_OVER again (the reverse stream goes on).
     * Gone: it passed; REVERTED, the reverse slots dropped and the aliases pointed back at the source.
     */
    private String settleRollback(String id) {
        if (sourceFenced()) {
            ClusterFence.liftAll(plan);
            state.transition(id, CutoverState.State.CUT_OVER, "rollback " + id + " interrupted before its point of no return");
            log.info("rollback {} was interrupted before its point of no return: the cluster is still the database", id);
            return CutoverState.State.CUT_OVER.name();
        }
        Rollback.recordForwardEpoch(plan.spec().nodes().get(0), id);
        state.transition(id, CutoverState.State.REVERTED, "finished after a restart");
        try {
            io.shardlift.ops.reverse.ReverseSlots.dropAll(plan);
        } catch (RuntimeException e) {
            log.error("{}", e.getMessage());
        }
        pooler.ifPresent(p -> {
            try {
                p.switchBack();
            } catch (RuntimeException e) {
                log.error("the rollback is done but the PgBouncer aliases could not be pointed back at the source: {}", e.getMessage());
            }
        });
        log.info("rollback {} had passed its point of no return before the restart: the source is the database again", id);
        return CutoverState.State.REVERTED.name();
    }

    /** Whether every migrated table on the source carries the write-fence trigger: the release committed. */
    private boolean sourceFenced() {
        ConnInfo source = plan.spec().source();
        try (Connection c = source.connect();
             PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM pg_trigger WHERE tgname = ? AND tgrelid = ANY (?::regclass[])")) {
            ps.setString(1, WriteFenceStep.TRIGGER);
            ps.setArray(2, c.createArrayOf("text", plan.tables().stream().map(t -> t.id().quoted()).toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1) == plan.tables().size();
            }
        } catch (SQLException e) {
            throw new SourceException("source " + source.label() + ": cannot settle the interrupted cutover: " + e.getMessage(), e);
        }
    }

    /** Foreign keys of the migrated tables that some node holds NOT VALID. */
    private long unvalidatedForeignKeys() {
        long n = 0;
        for (int k = 0; k < plan.nodeCount(); k++) {
            ConnInfo node = plan.spec().nodes().get(k);
            // the keys live on the local tables
            Object[] local = plan.localTables(k).stream().map(TableId::quoted).toArray();
            try (Connection c = node.connect();
                 PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM pg_catalog.pg_constraint WHERE contype = 'f'"
                         + " AND NOT convalidated AND conrelid = ANY (?::regclass[])")) {
                ps.setArray(1, c.createArrayOf("text", local));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    n += rs.getLong(1);
                }
            } catch (SQLException e) {
                throw new TargetException(node.label() + ": cannot read the foreign keys: " + e.getMessage(), e);
            }
        }
        return n;
    }
}
