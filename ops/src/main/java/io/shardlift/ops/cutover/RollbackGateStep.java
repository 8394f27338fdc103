package io.shardlift.ops.cutover;

import java.util.function.Supplier;

/** {@code gate} (rollback): refuses, changing nothing, unless the reverse stream runs and its lag is within bounds. */
final class RollbackGateStep implements CutoverStep {

    private final Supplier<Rollback.Gate> gate;

    RollbackGateStep(Supplier<Rollback.Gate> gate) {
        this.gate = gate;
    }

    @Override
    public String name() {
        return "gate";
    }

    @Override
    public boolean readOnly() {
        return true;
    }

    @Override
    public String run(CutoverContext ctx) {
        Rollback.Gate g = gate.get();
        if (g.problem().isPresent()) {
            throw new Refusal(name(), "the reverse stream is not running: " + g.problem().get()
                    + "; the rollback waits for it (shardlift status shows it)");
        }
        if (g.lagMs() > ctx.options().maxLagMs()) {
            throw new Refusal(name(), "reverse lag " + g.lagMs() + " ms is above the allowed " + ctx.options().maxLagMs()
                    + " ms; ask again once the reverse stream caught up");
        }
        return "reverse lag " + g.lagMs() + " ms, " + g.queued() + " records queued (allowed " + ctx.options().maxLagMs() + " ms)";
    }
}
