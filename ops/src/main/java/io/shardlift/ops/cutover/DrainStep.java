package io.shardlift.ops.cutover;

/** {@code drain}: waits until every partition of every topic has applied past the cutover's marker on every node. */
final class DrainStep implements CutoverStep {

    @Override
    public String name() {
        return "drain";
    }

    @Override
    public String run(CutoverContext ctx) throws Exception {
        ctx.failpoint("cutover.drain");
        ctx.awaitMarker(ctx.marker);
        return "every one of " + ctx.options().markerPartitions() + " partitions applied past " + ctx.markerLsn;
    }

    @Override
    public String dryRun(CutoverContext ctx) {
        return "would wait for " + ctx.options().markerPartitions() + " partitions to apply past it";
    }
}
