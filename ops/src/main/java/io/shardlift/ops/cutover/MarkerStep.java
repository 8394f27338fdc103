package io.shardlift.ops.cutover;

/** {@code marker}: a logical message into the source's WAL, after every write the fence's LOCK waited for. */
final class MarkerStep implements CutoverStep {

    @Override
    public String name() {
        return "marker";
    }

    @Override
    public String run(CutoverContext ctx) throws Exception {
        ctx.marker = "cutover-" + ctx.id();
        ctx.markerLsn = ctx.emitMarker(ctx.marker);
        return ctx.marker + " at " + ctx.markerLsn;
    }

    @Override
    public String dryRun(CutoverContext ctx) {
        return "would emit a WAL marker";
    }
}
