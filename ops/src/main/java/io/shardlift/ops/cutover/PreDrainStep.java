package io.shardlift.ops.cutover;

/**
 * {@code pre-drain}: the change stream catches up to now while writes still flow, so the freeze only drains what
 * arrives after this point, a pipeline latency's worth of changes instead of the whole backlog. A round carries a
 * marker end to end; while a round is slow there was a backlog, and the changes written during it are the next
 * round's backlog: repeat until a round is short, as its length is the drain's. A stream that stays slow refuses
 * here, before any write waits.
 */
final class PreDrainStep implements CutoverStep {

    /** A round longer than this is followed by another, up to {@link #ROUNDS} rounds. */
    static final long ROUND_MS = 1_000;
    static final int ROUNDS = 10;

    @Override
    public String name() {
        return "pre-drain";
    }

    @Override
    public boolean readOnly() {
        return true; // a marker through the stream changes nothing the application sees
    }

    @Override
    public String run(CutoverContext ctx) throws Exception {
        String lsn;
        long roundMs;
        int rounds = 0;
        do {
            rounds++;
            long r0 = System.nanoTime();
            String marker = "pre-" + ctx.id() + "-" + rounds;
            lsn = ctx.emitMarker(marker);
            ctx.awaitMarker(marker);
            roundMs = (System.nanoTime() - r0) / 1_000_000;
        } while (roundMs > ROUND_MS && rounds < ROUNDS);
        if (roundMs > ctx.options().maxLagMs()) {
            throw new Refusal(name(), "the change stream took " + roundMs + " ms to carry a marker to every node, " + rounds
                    + " times in a row; the freeze would last as long: cut over once it keeps up (shardlift status)");
        }
        return rounds + " round(s), the last " + roundMs + " ms: every one of " + ctx.options().markerPartitions()
                + " partitions applied past " + lsn + " with writes flowing; the drain inside the freeze takes about as long";
    }
}
