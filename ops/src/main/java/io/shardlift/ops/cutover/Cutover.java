package io.shardlift.ops.cutover;

import io.shardlift.cdc.apply.ChangeJournal;
import io.shardlift.core.plan.CarriedShapes;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.ops.pooler.PoolerSwitch;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * The cutover: the entry the composition root calls. It runs as named steps, one class each, walked by a
 * {@link CutoverRunner} (which the dry run walks too, calling each step's dry-run twin), in this order:
 * <ol>
 *   <li>{@code gate} ({@link GateStep}): refuses, with the reason, unless the copy is done and the lag is within bounds;</li>
 *   <li>{@code pre-drain} ({@link PreDrainStep}): markers through the whole change stream with writes still flowing,
 *       so that the freeze drains only the last pipeline latency's changes;</li>
 *   <li>{@code content} ({@link ContentStep}): the cluster's content compared with the source's, writes flowing;</li>
 *   <li>{@code fence-function} ({@link FenceFunctionStep}): the function the write-fence triggers will call;</li>
 *   <li>{@code fence-wait} ({@link FenceWaitStep}): waits, queueing nobody, until no long transaction holds the tables;</li>
 *   <li>{@code fence} ({@link FenceStep}): LOCK the migrated tables IN EXCLUSIVE MODE (reads go on); the freeze counts
 *       from its first attempt;</li>
 *   <li>{@code marker} ({@link MarkerStep}) into the WAL, and {@code drain} ({@link DrainStep}) until every partition
 *       applied past it;</li>
 *   <li>{@code verify} ({@link VerifyStep}) the rows changed since the content check, alongside {@code foreign-keys}
 *       ({@link ForeignKeysStep}, NOT VALID) and {@code sequences} ({@link SequencesStep});</li>
 *   <li>{@code write-fence} ({@link WriteFenceStep}): the triggers that refuse writes, in the fence transaction;</li>
 *   <li>{@code reverse-slots} ({@link ReverseSlotsStep}): each node's slot and publication for the way back, created
 *       while nothing writes the cluster;</li>
 *   <li>{@code release} ({@link ReleaseStep}) — THE POINT OF NO RETURN: COMMIT. The lock goes and the triggers take
 *       over atomically;</li>
 *   <li>{@code validate} ({@link ValidateStep}): VALIDATE the foreign keys, writes flowing again.</li>
 * </ol>
 * With a {@code pooler:} section the application is switched through PgBouncer too: {@code pooler-probe}
 * ({@link PoolerProbeStep}, a client's view of the switch) and {@code pooler-pause} ({@link PoolerPauseStep}) just
 * before {@code fence-wait}, {@code pooler-switch} ({@link PoolerSwitchStep}) and
 * {@code pooler-resume} ({@link PoolerResumeStep}) after {@code release}. Later operations land the same way: a step
 * class in the procedure, or a second procedure for the same runner (rollback).
 *
 * <p>Before {@code release} any failure rolls back: the fence transaction is rolled back (no lock, no trigger) and what
 * was done on the nodes (NOT VALID foreign keys, sequences moved ahead) is harmless; a paused pooler is resumed. The
 * state is kept on node 0 ({@link CutoverState} through {@link StateStore}); a process that died mid-cutover settles
 * it on restart ({@link Recovery}). Once CUT_OVER, every later request (real or dry run) is refused with
 * {@link Conflict} and changes nothing.
 */
public final class Cutover {

    /**
     * What the gate needs to know about the pipeline; how strict it is, is {@link Options#maxLagMs}.
     *
     * @param endToEndLagMs the change stream's lag from the source's commit to the nodes
     * @param warnings      what the operator should know before passing the point of no return without it being a
     *                      reason to refuse (e.g. sharding-key changes the source accepted and the cluster will refuse)
     */
    /**
     * @param notCarried why tables the spec migrates are not on the cluster (created on the source during the
     *                   migration), or why their stream stopped (a schema change it cannot carry): each refuses the
     *                   cutover, which would leave them and their writes behind
     */
    public record Gate(boolean copyDone, long endToEndLagMs, long queuedRecords, List<String> warnings, List<String> notCarried) {
        public Gate {
            warnings = List.copyOf(warnings);
            notCarried = List.copyOf(notCarried);
        }

        public Gate(boolean copyDone, long endToEndLagMs, long queuedRecords, List<String> warnings) {
            this(copyDone, endToEndLagMs, queuedRecords, warnings, List.of());
        }

        public Gate(boolean copyDone, long endToEndLagMs, long queuedRecords) {
            this(copyDone, endToEndLagMs, queuedRecords, List.of());
        }
    }

    /**
     * @param maxLagMs         the largest end-to-end lag the gate lets through, and the longest pre-drain round
     * @param markerPartitions partitions across every table topic: each must apply past the marker
     * @param lockTimeout      how long the LOCK waits for the short transactions in flight: writers behind it wait as long
     * @param lockAttempts     LOCK attempts, each after the tables were found quiet again; a failed one stalled writers
     * @param quietAge         a transaction holding the tables for longer than this is waited for before the LOCK
     * @param quietBound       how long to wait for such transactions before refusing (nothing fenced)
     */
    public record Options(long maxLagMs, Duration lockTimeout, int lockAttempts, Duration drainTimeout, int markerPartitions,
                          Duration quietAge, Duration quietBound) {
        public Options(long maxLagMs, Duration lockTimeout, int lockAttempts, Duration drainTimeout, int markerPartitions) {
            this(maxLagMs, lockTimeout, lockAttempts, drainTimeout, markerPartitions, Duration.ofMillis(50), Duration.ofSeconds(5));
        }

        public static Options defaults(int markerPartitions) {
            return new Options(5_000, Duration.ofMillis(500), 3, Duration.ofSeconds(30), markerPartitions);
        }
    }

    /**
     * The request does not fit the durable state: the cutover is done (CUT_OVER) or one is under way. Nothing was
     * changed; the message names the cutover and when it was recorded.
     */
    public static final class Conflict extends IllegalStateException {
        private final transient CutoverState state;

        Conflict(CutoverState state, String message) {
            super(message);
            this.state = state;
        }

        public CutoverState state() {
            return state;
        }
    }

    private final ClusterPlan plan;
    private final Options options;
    private final StateStore state;
    private final Optional<PoolerSwitch> pooler;

    /** With the spec's {@code pooler:} section, the cutover switches the application through PgBouncer too. */
    public Cutover(ClusterPlan plan, Options options) {
        this.plan = plan;
        this.options = options;
        this.state = new StateStore(plan.spec().nodes().get(0));
        this.pooler = PoolerSwitch.of(plan.spec());
    }

    /** The cutover's steps, in order; with a pooler, its pause before the fence and its switch after the release. */
    static CutoverRunner.Procedure procedure(Supplier<Gate> gate, Optional<PoolerSwitch> pooler) {
        List<CutoverStep> before = new ArrayList<>(List.of(new PreDrainStep(), new ContentStep(ContentStep.FORWARD), new FenceFunctionStep()));
        // the pause as late as it can be: the content check before it takes as long as the data, and clients wait
        // from the PAUSE on; paused clients hold no transaction, so the fence's wait after it is short
        pooler.ifPresent(p -> before.addAll(List.of(new PoolerProbeStep(p), new PoolerPauseStep(p, false))));
        before.addAll(List.of(new FenceWaitStep(), new FenceStep(), new MarkerStep(), new DrainStep(),
                // verify reads rows by key, NOT VALID keys take no scan, sequences are their own objects: side by side.
                // Should verify fail, the keys and the moved sequences are harmless
                new CutoverStep.Alongside(new VerifyStep(), List.of(new ForeignKeysStep(), new SequencesStep())),
                new WriteFenceStep(), new ReverseSlotsStep()));
        List<CutoverStep> after = new ArrayList<>();
        pooler.ifPresent(p -> after.addAll(List.of(new PoolerSwitchStep(p), new PoolerResumeStep(p))));
        after.add(new ValidateStep());
        return new CutoverRunner.Procedure(new GateStep(gate), before, new ReleaseStep(), after);
    }

    /**
     * Runs the cutover (or its dry run). Only one runs at a time; the caller serialises.
     *
     * @param journalComplete whether the journal sees every change applied (no other applier shares the stream)
     * @throws Conflict the durable state does not allow it; nothing changed
     */
    public CutoverReport run(Supplier<Gate> gate, ChangeJournal journal, boolean journalComplete, boolean dryRun) {
        String id = (dryRun ? "dry-" : "c-") + UUID.randomUUID().toString().substring(0, 8);
        // the plan was read from the catalog when the migration started: the tables' columns are those the stream carried
        // to the nodes since (a renamed column is compared under its new name, an added one at all), as on the source
        ClusterPlan plan = CarriedShapes.onTheNodes(this.plan);
        CutoverContext ctx = new CutoverContext(id, dryRun, plan, options, () -> {
            Links links = Links.open(plan, 1 + Math.min(plan.tables().size(), 8));
            ContentProof proof = new ContentProof(plan, journal, journalComplete);
            CutoverContext.Resources r = new CutoverContext.Resources(links, proof);
            try {
                proof.begin(); // before the pre-drain: its marker rounds carry whatever was routed before the journal opened
            } catch (RuntimeException e) {
                r.close();
                throw e;
            }
            return r;
        }, 4 + 3 * plan.nodeCount() + plan.tables().size());
        return new CutoverRunner(procedure(gate, pooler), state).run(ctx);
    }

    /**
     * Settles a cutover a stopped process left behind ({@link Recovery}).
     *
     * @return the state it was settled to, empty if there was none to settle
     */
    public Optional<String> recover() {
        return new Recovery(plan, state, pooler).settle();
    }

    /** The durable cutover state on node 0, if a cutover ever began. */
    public Optional<CutoverState> readState() {
        return state.read();
    }

    static Conflict conflict(CutoverState st, boolean dryRun) {
        String what = dryRun ? "cutover dry run" : "cutover";
        return new Conflict(st, switch (st.state()) {
            case CUT_OVER -> what + " refused: the cutover " + st.id() + " is done (CUT_OVER, recorded " + st.at()
                    + "): the cluster is the database and the source is fenced; a cutover runs once, nothing was changed";
            case CUTTING_OVER -> what + " refused: the cutover " + st.id() + " is under way (CUTTING_OVER since " + st.at()
                    + "); if no shardlift run is running it, restart shardlift run: it settles the interrupted cutover first";
            case ROLLED_BACK, REVERTED -> what + " refused: the state is " + st.state() + " (" + st.id() + ")";
            case COMPLETED -> what + " refused: the migration is complete (COMPLETED, recorded " + st.at()
                    + "): the cluster is the database and the rollback window is closed; nothing was changed";
            case ROLLING_BACK -> what + " refused: the rollback " + st.id() + " is under way (ROLLING_BACK since " + st.at()
                    + "); if no shardlift run is running it, restart shardlift run: it settles the interrupted rollback first";
        });
    }
}
