package io.shardlift.ops.cutover;

import java.util.List;

/**
 * One named step of the cutover. The runner calls {@link #run} in a real cutover and {@link #dryRun} in a dry run, at
 * the same place in the same sequence, with the same checks, timing, reporting and failure handling around it; the
 * two differ only where the real step changes something. A step that only reads and proves (the gate, the pre-drain,
 * the content check, the fence's wait and LOCK) is its own dry run.
 *
 * <p>Each returns the detail the operator reads in the report, and refuses by throwing a {@link Refusal} (nothing
 * changed, ask again later) or fails by throwing anything else. Steps are idempotent: a cutover refused or rolled back
 * is simply asked again.
 */
interface CutoverStep {

    String name();

    /** Does the step; returns what it did. */
    String run(CutoverContext ctx) throws Exception;

    /**
     * Checks what {@link #run} checks and changes nothing; returns what {@link #run} would do. The default is for
     * steps that change nothing: the same work.
     */
    default String dryRun(CutoverContext ctx) throws Exception {
        return run(ctx);
    }

    /**
     * True when the step leaves nothing behind, so its dry run does the same work for real (the fence's takes the lock
     * and releases it at once): it is reported DONE in a dry run too, the others DRY_RUN.
     */
    default boolean readOnly() {
        return false;
    }

    /**
     * Undoes what {@link #run} (or {@link #dryRun}) left behind, when a later step failed before the point of no return.
     * Most steps leave nothing that matters (a rolled-back fence, NOT VALID keys, sequences moved ahead are harmless);
     * the ones that leave the source or the application held (the LOCK, a paused pooler) release it here.
     */
    default void undo(CutoverContext ctx) throws Exception {
    }

    /**
     * Steps that run side by side: {@code main} on the runner's thread, {@code beside} on the cutover's pool, started
     * first; each is reported on its own line, in this order: {@code main} with its duration, the others with the
     * time the cutover waited for them once {@code main} was done (what they added to it), so that the lines of a
     * freeze add up to no more than the freeze. If {@code main} fails, the others are not waited for (they must be
     * harmless then).
     */
    record Alongside(CutoverStep main, List<CutoverStep> beside) implements CutoverStep {
        public Alongside {
            beside = List.copyOf(beside);
        }

        @Override
        public String name() {
            return main.name();
        }

        @Override
        public String run(CutoverContext ctx) {
            throw new UnsupportedOperationException("the runner runs the steps of " + name() + " side by side");
        }
    }
}
