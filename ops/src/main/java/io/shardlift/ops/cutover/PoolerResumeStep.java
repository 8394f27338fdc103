package io.shardlift.ops.cutover;

import io.shardlift.ops.pooler.PoolerSwitch;
import java.time.Duration;
import java.time.Instant;

/**
 * {@code pooler-resume} (with a {@code pooler:} section), after the switch: RESUME every switched alias; the clients'
 * queries waiting since {@code pooler-pause} go on, to the cluster. Reports the client-visible pause, from PAUSE issued
 * to RESUME done, and, after a short tail, what the cutover probe felt ({@link PoolerProbeStep}). The dry run RESUMEs
 * for real too: its {@code pooler-pause} paused for real.
 */
final class PoolerResumeStep implements CutoverStep {

    /** After the RESUME, the probe goes on this long at least (each writer and reader one statement more): the tail. */
    static final Duration TAIL = Duration.ofMillis(300);

    private final PoolerSwitch pooler;

    PoolerResumeStep(PoolerSwitch pooler) {
        this.pooler = pooler;
    }

    @Override
    public String name() {
        return "pooler-resume";
    }

    @Override
    public String run(CutoverContext ctx) throws Exception {
        Instant done = pooler.resumeAll();
        long paused = resumed(ctx, done);
        String probe = ctx.stopProbe(TAIL).map(p -> "; " + p.describe()).orElse("");
        return "RESUMEd: clients were paused " + paused + " ms (PAUSE issued to RESUME done)" + probe;
    }

    /** Records the clients' pause, PAUSE issued to {@code done}; returns it. */
    static long resumed(CutoverContext ctx, Instant done) {
        long paused = ctx.poolerPauseIssued == null ? 0 : Math.max(0, Duration.between(ctx.poolerPauseIssued, done).toMillis());
        if (ctx.poolerPauseIssued != null) {
            ctx.poolerPauseMillis = paused;
        }
        return paused;
    }

    /** Leaves nothing behind: it ends the pause {@code pooler-pause} began, in a dry run too. */
    @Override
    public boolean readOnly() {
        return true;
    }
}
