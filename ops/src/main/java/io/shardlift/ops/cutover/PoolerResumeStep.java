package io.shardlift.ops.cutover;

import io.shardlift.ops.pooler.PoolerSwitch;
import java.time.Duration;
import java.time.Instant;

/**
 * {@code pooler-resume} (with a {@code pooler:} section), after the switch: RESUME every switched alias; the clients'
 * queries waiting since {@code pooler-pause} go on, to the cluster. Reports the client-visible pause, from PAUSE issued
 * to RESUME done.
 */
final class PoolerResumeStep implements CutoverStep {

    private final PoolerSwitch pooler;

    PoolerResumeStep(PoolerSwitch pooler) {
        this.pooler = pooler;
    }

    @Override
    public String name() {
        return "pooler-resume";
    }

    @Override
    public String run(CutoverContext ctx) {
        Instant done = pooler.resumeAll();
        long paused = ctx.poolerPauseIssued == null ? 0 : Duration.between(ctx.poolerPauseIssued, done).toMillis();
        return "RESUMEd: clients were paused " + paused + " ms (PAUSE issued to RESUME done)";
    }

    @Override
    public String dryRun(CutoverContext ctx) {
        return "would RESUME the aliases";
    }
}
