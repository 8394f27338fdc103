package io.shardlift.ops.cutover;

/**
 * {@code content}: the cluster's content compared with the source's, writes flowing ({@link ContentProof#beforeFreeze});
 * refuses, nothing fenced, when a row differs for another reason than a change in flight.
 */
final class ContentStep implements CutoverStep {

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
            ctx.emitMarker(m);
            ctx.awaitMarker(m);
        });
    }
}
