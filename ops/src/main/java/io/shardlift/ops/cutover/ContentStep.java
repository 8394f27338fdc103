package io.shardlift.ops.cutover;

/**
 * {@code content}: the cluster's content compared with the source's, writes flowing ({@link ContentProof#beforeFreeze});
 * refuses, nothing fenced, when a row differs for another reason than a change in flight. In the rollback the writes
 * flow the other way, and its marker rounds go from the nodes through the reverse stream to the source.
 */
final class ContentStep implements CutoverStep {

    private final boolean reverse;

    ContentStep() {
        this(false);
    }

    ContentStep(boolean reverse) {
        this.reverse = reverse;
    }

    @Override
    public String name() {
        return "content";
    }

    @Override
    public boolean readOnly() {
        return true;
    }

    @Override
    public String run(CutoverContext ctx) throws Exception {
        int[] rounds = {0};
        return ctx.proof().beforeFreeze(() -> {
            // a marker name per round: a second round under the first one's name would find its rows and not wait
            String m = "content-" + ctx.id() + "-" + ++rounds[0];
            if (reverse) {
                ReverseDrainStep.round(ctx, m);
                return;
            }
            ctx.emitMarker(m);
            ctx.awaitMarker(m);
        });
    }
}
