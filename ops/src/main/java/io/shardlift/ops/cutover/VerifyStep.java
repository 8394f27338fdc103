package io.shardlift.ops.cutover;

/**
 * {@code verify}: inside the freeze, after the drain, the rows changed since the content check compared by key
 * ({@link ContentProof#insideFreeze}); any difference fails the cutover, which rolls back.
 */
final class VerifyStep implements CutoverStep {

    @Override
    public String name() {
        return "verify";
    }

    @Override
    public String run(CutoverContext ctx) throws Exception {
        return ctx.proof().insideFreeze();
    }

    @Override
    public String dryRun(CutoverContext ctx) {
        return "would compare by key the rows changed since the content check";
    }
}
