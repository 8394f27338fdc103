package io.shardlift.ops.cutover;

import io.shardlift.ops.pooler.PoolerSwitch;

/**
 * {@code pooler-switch} (with a {@code pooler:} section), after the point of no return: the switched aliases' lines in
 * each include file rewritten to point at the cluster (atomically, the previous version kept), then RELOAD. Only here:
 * the source is fenced and drained. Should it fail, {@code pooler-resume} still runs (a paused alias is an outage) and
 * the next start switches again ({@link Recovery}).
 */
final class PoolerSwitchStep implements CutoverStep {

    private final PoolerSwitch pooler;

    PoolerSwitchStep(PoolerSwitch pooler) {
        this.pooler = pooler;
    }

    @Override
    public String name() {
        return "pooler-switch";
    }

    @Override
    public String run(CutoverContext ctx) {
        pooler.switchToCluster();
        return "the aliases point at " + pooler.targetLabel() + " (include files rewritten, RELOAD)";
    }

    @Override
    public String dryRun(CutoverContext ctx) {
        return "would point the aliases at " + pooler.targetLabel() + " (rewrite the include files, RELOAD)";
    }
}
