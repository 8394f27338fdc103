package io.shardlift.ops.cutover;

import io.shardlift.ops.pooler.PoolerSwitch;

/** {@code pooler-switch-back} (rollback, after its point of no return): the aliases point at the source again, RELOAD. */
final class PoolerSwitchBackStep implements CutoverStep {

    private final PoolerSwitch pooler;

    PoolerSwitchBackStep(PoolerSwitch pooler) {
        this.pooler = pooler;
    }

    @Override
    public String name() {
        return "pooler-switch-back";
    }

    @Override
    public String run(CutoverContext ctx) {
        pooler.switchBack();
        return "the aliases point at the source again (the include file's previous version, RELOADed)";
    }

    @Override
    public String dryRun(CutoverContext ctx) {
        return "would point the aliases back at the source";
    }
}
