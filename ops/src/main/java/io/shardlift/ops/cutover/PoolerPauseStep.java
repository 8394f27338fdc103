package io.shardlift.ops.cutover;

import io.shardlift.ops.pooler.PoolerSwitch;
import java.util.List;
import java.util.stream.Collectors;

/**
 * {@code pooler-pause} (with a {@code pooler:} section): PAUSE the switched aliases on every PgBouncer, bounded by
 * {@code pooler.pause_timeout}, all or nothing. From here clients wait instead of writing, so the fence that follows
 * finds the tables quiet; they wait until {@code pooler-resume}, after the release. One that cannot pause in time is
 * a refusal (422): every alias was RESUMEd and nothing was fenced. Undone (RESUME) when a later step fails before the
 * point of no return.
 *
 * <p>The dry run runs the pooler's read-only checks, then PAUSEs for real and leaves the RESUME to its
 * {@code pooler-resume}, as the cutover does: the one thing only a real PAUSE proves is that it completes within
 * {@code pause_timeout} under today's load (no long transaction through the pooler), and the dry run then shows the
 * pause the clients will see. Clients wait for that long (as in the cutover, a few hundred ms); nothing is switched.
 */
final class PoolerPauseStep implements CutoverStep {

    private final PoolerSwitch pooler;
    /** A rollback's pause: the aliases lead to the cluster, where the cutover switched them. */
    private final boolean rollback;

    PoolerPauseStep(PoolerSwitch pooler, boolean rollback) {
        this.pooler = pooler;
        this.rollback = rollback;
    }

    @Override
    public String name() {
        return "pooler-pause";
    }

    @Override
    public String run(CutoverContext ctx) throws Exception {
        String done = pause(ctx);
        ctx.failpoint("cutover.paused");
        return done + "; clients wait from here until pooler-resume";
    }

    @Override
    public String dryRun(CutoverContext ctx) {
        List<String> problems = pooler.preflight(rollback).stream().filter(c -> !c.ok()).map(PoolerSwitch.Check::message).toList();
        if (!problems.isEmpty()) {
            throw new Refusal(name(), "the PgBouncer switch would not work: " + String.join("; ", problems));
        }
        return pause(ctx) + " (dry run: a real PAUSE, to prove it completes within " + pooler.spec().pauseTimeout().toMillis()
                + " ms under today's load; the pooler's checks pass; clients wait until pooler-resume, nothing is switched)";
    }

    private String pause(CutoverContext ctx) {
        PoolerSwitch.Pause p;
        try {
            p = pooler.pauseAll();
        } catch (PoolerSwitch.PauseRefused e) {
            throw new Refusal(name(), e.getMessage() + "; nothing was fenced: " + (rollback ? "roll back" : "cut over") + " once it has ended");
        }
        ctx.poolerPauseIssued = p.issued();
        return "PAUSE " + aliases() + " done in " + p.took().toMillis() + " ms";
    }

    /** A real PAUSE in a dry run too; it leaves nothing behind once pooler-resume (or the undo) RESUMEd. */
    @Override
    public boolean readOnly() {
        return true;
    }

    @Override
    public void undo(CutoverContext ctx) {
        // a paused alias is an outage: whatever happened, let the clients go on (to the source)
        java.time.Instant done = pooler.resumeAll();
        PoolerResumeStep.resumed(ctx, done);
    }

    String aliases() {
        return pooler.spec().pgbouncers().stream().map(b -> String.join(", ", b.databases()) + " on " + b.label())
                .collect(Collectors.joining("; "));
    }
}
