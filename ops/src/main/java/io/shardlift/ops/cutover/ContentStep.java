package io.shardlift.ops.cutover;

/**
 * {@code content}: the cluster's content compared with the source's, writes flowing ({@link ContentProof#beforeFreeze});
 * refuses, nothing fenced, when a row differs for another reason than a change in flight. In the rollback the writes
 * flow the other way, and its marker rounds go from the nodes through the reverse stream to the source.
 */
final class ContentStep implements CutoverStep {

    /** The way the writes flow: one marker round sends a marker through that stream and waits for it at its far end. */
    interface Direction {
        void run(CutoverContext ctx, String marker) throws java.sql.SQLException, InterruptedException;
    }

    /** The cutover's: from the source through the forward stream to every node. */
    static final Direction FORWARD = (ctx, m) -> {
        ctx.emitMarker(m);
        ctx.awaitMarker(m);
    };

    /** The rollback's: from the nodes through the reverse stream to the source. */
    static final Direction REVERSE = ReverseDrainStep::round;

    private final Direction round;

    ContentStep(Direction round) {
        this.round = round;
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
        // a marker name per round: a second round under the first one's name would find its rows and not wait
        return ctx.proof().beforeFreeze(() -> round.run(ctx, "content-" + ctx.id() + "-" + ++rounds[0]));
    }
}
