package io.shardlift.ops.control;

import io.shardlift.ops.cutover.CutoverReport;
import java.util.Map;

/**
 * What the control plane asks of the running migration. shardlift's composition root implements it; the
 * control plane knows nothing of the stages behind it but the cutover's report, which it answers as JSON.
 *
 * <p>Threads: {@link #phase()}, {@link #status()}, {@link #ready()} and {@link #cutoverState()} are called on
 * a small worker pool, possibly at the same time as each other and as a running cutover, so they must be
 * thread-safe; they should answer in well under a second (a health probe waits for them). {@link #cutover}
 * runs on its own thread, never on the event loop, and never twice at once.
 *
 * <p>Maps returned here are written as JSON as they are: keys are strings, values are strings, numbers,
 * booleans, null, lists and maps of the same.
 */
public interface ControlBackend {

    /** The migration's phase, e.g. COPYING, CATCHING_UP, READY, CUTTING_OVER, CUT_OVER, FAILED. */
    String phase();

    /** Everything an operator watches: phase, per-table copy progress, lag, rates, last error, cutover state. */
    Map<String, Object> status();

    /** True once the copy is done and the changes have caught up: what {@code /health/ready} answers. */
    boolean ready();

    /**
     * Runs the cutover, or with {@code dryRun} walks the same steps without changing anything, and returns what it
     * did: DONE or DRY_RUN (200), REFUSED when a check said no before anything was fenced (422, ask again), FAILED
     * when a step failed once the source was fenced and everything was rolled back (500). A request the durable
     * state does not allow (the cutover is done, or one is under way) throws {@link CutoverConflict} having changed
     * nothing (409); any other exception is answered 500 as a failed cutover.
     */
    CutoverReport cutover(boolean dryRun) throws Exception;

    /**
     * Rolls back a cutover (the rollback window's way back), or with {@code dryRun} walks the same steps changing
     * nothing; answered as {@link #cutover}. Not cut over, or rolled back already: {@link CutoverConflict} (409).
     */
    default CutoverReport rollback(boolean dryRun) throws Exception {
        throw new CutoverConflict("rollback refused: this control plane has no rollback", new java.util.LinkedHashMap<>());
    }

    /**
     * Closes the rollback window ({@code complete}): what was done and what is left on the source. Refused with
     * {@link CutoverConflict} (409) when nothing is cut over or the window was closed already.
     */
    default Map<String, Object> complete() throws Exception {
        throw new CutoverConflict("complete refused: this control plane cannot close a rollback window", new java.util.LinkedHashMap<>());
    }

    /** The recorded cutover state ({@code state}: state, id, at, note; null if none ever began) and the last report. */
    Map<String, Object> cutoverState();
}
