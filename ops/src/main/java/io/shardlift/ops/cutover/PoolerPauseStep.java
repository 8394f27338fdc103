package io.shardlift.ops.cutover;

import io.shardlift.ops.pooler.PoolerSwitch;
import java.util.List;
import java.util.stream.Collectors;

/**
 * {@code pooler-pause} (with a {@code pooler:} section): PAUSE the switched aliases on every PgBouncer, bounded by
 * {@code pooler.pause_timeout}, all or nothing. From here clients wait instead of writing, so the fence that follows
 * finds the tables quiet; they wait until {@code pooler-resume}, after the release. One that cannot pause in time is
 * a refusal (422): every alias was RESUMEd and nothing was fenced. Undone (RESUME) when a later step fails before the
 * point of no return. The dry run pauses nothing: it runs the pooler's read-only checks instead.
 */
final class PoolerPauseStep implements CutoverStep {

    private final PoolerSwitch pooler;

    PoolerPauseStep(PoolerSwitch pooler) {
        this.pooler = pooler;
    }

    @Override
    public String name() {
        return "pooler-pause";
    }

    @Override
    public String run(CutoverContext ctx) {
        PoolerSwitch.Pause p;
        try {
            p = pooler.pauseAll();
        } catch (PoolerSwitch.PauseRefused e) {
            throw new Refusal(name(), e.getMessage() + "; nothing was fenced: cut over once it has ended");
        }
        ctx.poolerPauseIssued = p.issued();
        return "PAUSE " + aliases() + " done in " + p.took().toMillis() + " ms; clients wait from here until pooler-resume";
    }

    @Override
    public String dryRun(CutoverContext ctx) {
        List<String> problems = pooler.preflight().stream().filter(c -> !c.ok()).map(PoolerSwitch.Check::message).toList();
        if (!problems.isEmpty()) {
            throw new Refusal(name(), "the PgBouncer switch would not work: " + String.join("; ", problems));
        }
        return "would PAUSE " + aliases() + ", at most " + pooler.spec().pauseTimeout().toMillis() + " ms (the pooler's checks pass)";
    }

    @Override
    public void undo(CutoverContext ctx) {
        if (!ctx.dryRun()) {
            pooler.resumeAll(); // a paused alias is an outage: whatever happened, let the clients go on (to the source)
        }
    }

    String aliases() {
        return pooler.spec().pgbouncers().stream().map(b -> String.join(", ", b.databases()) + " on " + b.label())
                .collect(Collectors.joining("; "));
    }
}
