package io.shardlift.ops.cutover;

import io.shardlift.core.plan.CarriedShapes;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.ops.pooler.PoolerSwitch;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * The way back: the rollback window's second procedure for the {@link CutoverRunner}, the cutover mirrored step by step.
 * <ol>
 *   <li>{@code gate} ({@link RollbackGateStep}): the reverse stream runs and its lag is within bounds;</li>
 *   <li>{@code content} ({@link ContentStep}, {@link ContentProof#reverse}): the source's content compared with the
 *       cluster's, writes flowing;</li>
 *   <li>with a pooler, {@code pooler-pause} ({@link PoolerPauseStep});</li>
 *   <li>{@code cluster-fence} ({@link ClusterFenceStep}): the application's writes to the cluster stop, on every node;</li>
 *   <li>{@code reverse-drain} ({@link ReverseDrainStep}): a marker of each node through the reverse stream;</li>
 *   <li>{@code verify} ({@link VerifyStep}: the rows changed since the content step, by key) and {@code sequences}
 *       ({@link SourceSequencesStep});</li>
 *   <li>{@code lift-source-fence} ({@link LiftSourceFenceStep}) — THE POINT OF NO RETURN;</li>
 *   <li>with a pooler, {@code pooler-switch-back} ({@link PoolerSwitchBackStep}) and {@code pooler-resume}.</li>
 * </ol>
 * It begins from CUT_OVER only, records ROLLING_BACK, then REVERTED (the source is the database again, a new cutover
 * may follow) or, stopped before its point of no return, CUT_OVER again with the cluster's fence lifted.
 */
public final class Rollback {

    /**
     * The reverse applier's journal of the keys it writes to the source: whether it sees every change (no other applier
     * shares the reverse topics), and each table's key columns in it (the cluster's key).
     */
    public record Journal(io.shardlift.cdc.apply.ChangeJournal journal, boolean complete,
                          java.util.Map<io.shardlift.core.TableId, List<String>> keyColumns) {
    }

    /** What the gate needs: why the reverse stream does not run (empty: it runs), its lag and what waits in Kafka. */
    public record Gate(Optional<String> problem, long lagMs, long queued) {
    }

    static final CutoverRunner.Lifecycle LIFECYCLE = new CutoverRunner.Lifecycle("rollback", CutoverState.ROLLBACK_STARTABLE, false,
            CutoverState.State.ROLLING_BACK, CutoverState.State.REVERTED, CutoverState.State.CUT_OVER, Rollback::conflict);

    private final ClusterPlan plan;
    private final Cutover.Options options;
    private final StateStore state;
    private final Optional<PoolerSwitch> pooler;

    public Rollback(ClusterPlan plan, Cutover.Options options) {
        this.plan = plan;
        this.options = options;
        this.state = new StateStore(plan.spec().nodes().get(0));
        this.pooler = PoolerSwitch.of(plan.spec());
    }

    static CutoverRunner.Procedure procedure(Supplier<Gate> gate, Optional<PoolerSwitch> pooler) {
        // the content first, writes flowing: inside the freeze only the rows changed since are compared
        List<CutoverStep> before = new ArrayList<>(List.of(new ContentStep(ContentStep.REVERSE)));
        pooler.ifPresent(p -> before.add(new PoolerPauseStep(p, true)));
        before.addAll(List.of(new ClusterFenceStep(), new ReverseDrainStep(), new VerifyStep(), new SourceSequencesStep()));
        List<CutoverStep> after = new ArrayList<>();
        pooler.ifPresent(p -> after.addAll(List.of(new PoolerSwitchBackStep(p), new PoolerResumeStep(p))));
        return new CutoverRunner.Procedure(new RollbackGateStep(gate), before, new LiftSourceFenceStep(), after, LIFECYCLE);
    }

    /**
     * Runs the rollback (or its dry run). The caller serialises it with the cutover.
     *
     * @throws Cutover.Conflict the durable state does not allow it (not cut over, or already rolled back); nothing changed
     */
    public CutoverReport run(Supplier<Gate> gate, Supplier<Journal> journals, boolean dryRun) {
        String id = (dryRun ? "dry-r-" : "r-") + UUID.randomUUID().toString().substring(0, 8);
        // the content and verify steps compare the columns the tables have now, which the stream carried to the nodes
        // since the start plan (a renamed column under its new name, an added one at all)
        ClusterPlan plan = CarriedShapes.onTheNodes(this.plan);
        CutoverContext ctx = new CutoverContext(id, dryRun, plan, options, () -> {
            Journal journal = journals.get(); // once the gate found the reverse stream running
            Links links = Links.open(plan, 2);
            ContentProof proof = ContentProof.reverse(plan, journal.journal(), journal.complete(), journal.keyColumns());
            CutoverContext.Resources r = new CutoverContext.Resources(links, proof);
            try {
                proof.begin();
            } catch (RuntimeException e) {
                r.close();
                throw e;
            }
            return r;
        }, 4 + 3 * plan.nodeCount() + plan.tables().size());
        return new CutoverRunner(procedure(gate, pooler), state).run(ctx);
    }

    /**
     * Node 0's record of the last rollback, in {@code shardlift.meta}: the forward capture keeps its Debezium offsets under
     * it. The offsets stored before the cutover lie behind the forward slot once the rollback advanced it past the
     * reverse applier's writes, and Debezium refuses to start from an offset the slot no longer has.
     */
    static final String FORWARD_EPOCH = "forward_epoch";

    /** Records {@code rollbackId} as the forward stream's epoch (after a rollback passed its point of no return). */
    public static void recordForwardEpoch(io.shardlift.core.spec.ConnInfo node0, String rollbackId) {
        try (java.sql.Connection c = node0.connect()) {
            io.shardlift.core.ledger.MetaLedger.put(c, FORWARD_EPOCH, rollbackId);
        } catch (java.sql.SQLException e) {
            throw new io.shardlift.core.TargetException("node 0: cannot record the forward stream's epoch after rollback "
                    + rollbackId + ": " + e.getMessage(), e);
        }
    }

    /** The forward capture's Debezium offsets key for the migration {@code migrationId}: with the last rollback's id. */
    public static String forwardOffsetsId(io.shardlift.core.spec.ConnInfo node0, String migrationId) {
        try (java.sql.Connection c = node0.connect()) {
            return io.shardlift.core.ledger.MetaLedger.get(c, FORWARD_EPOCH).map(e -> migrationId + "-" + e).orElse(migrationId);
        } catch (java.sql.SQLException e) {
            throw new io.shardlift.core.TargetException("node 0: cannot read the forward stream's epoch: " + e.getMessage(), e);
        }
    }

    static Cutover.Conflict conflict(Optional<CutoverState> st, boolean dryRun) {
        String what = dryRun ? "rollback dry run" : "rollback";
        if (st.isEmpty()) {
            return new Cutover.Conflict(null, what + " refused: nothing was cut over; the source is the database");
        }
        CutoverState s = st.get();
        return new Cutover.Conflict(s, switch (s.state()) {
            case REVERTED -> what + " refused: the rollback " + s.id() + " is done (REVERTED, recorded " + s.at()
                    + "): the source is the database again; nothing was changed";
            case ROLLING_BACK -> what + " refused: the rollback " + s.id() + " is under way (ROLLING_BACK since " + s.at() + ")";
            case COMPLETED -> what + " refused: the rollback window was closed (COMPLETED, recorded " + s.at()
                    + "): there is no way back any more; nothing was changed";
            case CUTTING_OVER -> what + " refused: the cutover " + s.id() + " is under way (CUTTING_OVER since " + s.at() + ")";
            default -> what + " refused: nothing is cut over (the state is " + s.state() + ", " + s.id() + "); the source is the database";
        });
    }
}
