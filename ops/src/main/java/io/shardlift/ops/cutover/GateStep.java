package io.shardlift.ops.cutover;

import java.util.Optional;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code gate}: refuses, with the reason, unless the copy is done and the end-to-end lag is within bounds. */
final class GateStep implements CutoverStep {

    private static final Logger log = LoggerFactory.getLogger(GateStep.class);

    private final Supplier<Cutover.Gate> gate;

    GateStep(Supplier<Cutover.Gate> gate) {
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
        Cutover.Gate g = gate.get();
        long maxLagMs = ctx.options().maxLagMs();
        Optional<String> refusal = refusal(g, maxLagMs);
        String warnings = g.warnings().stream().map(w -> "; WARNING: " + w).collect(Collectors.joining());
        g.warnings().forEach(w -> log.warn("cutover {}: {}", ctx.id(), w));
        if (refusal.isEmpty()) {
            refusal = sequencesUnreadable(ctx);
        }
        if (refusal.isPresent()) {
            throw new Refusal(name(), refusal.get(), refusal.get() + warnings);
        }
        return "end-to-end lag " + g.endToEndLagMs() + " ms, " + g.queuedRecords() + " records queued (allowed " + maxLagMs + " ms)"
                + warnings;
    }

    /**
     * The {@code sequences} step reads each sequence on the source inside the freeze; one the source role may not read
     * (a column added as identity or serial during the migration brings a sequence the preflight never saw) would
     * end the cutover there: refused here, before anything is fenced, with the GRANT that mends it.
     */
    private static Optional<String> sequencesUnreadable(CutoverContext ctx) {
        if (ctx.plan().sequences().isEmpty()) {
            return Optional.empty();
        }
        java.util.List<String> problems = new java.util.ArrayList<>();
        try (java.sql.Connection c = ctx.plan().spec().source().connect()) {
            io.shardlift.ops.preflight.SourceChecks.sequences(c, ctx.plan().sequences(), problems);
        } catch (java.sql.SQLException e) {
            problems.add("cannot read the privileges on the sequences: " + e.getMessage());
        }
        return problems.isEmpty() ? Optional.empty()
                : Optional.of("source " + ctx.plan().spec().source().label() + ": " + String.join("; ", problems));
    }

    /** Why the gate refuses, empty when it lets the cutover through. */
    static Optional<String> refusal(Cutover.Gate g, long maxLagMs) {
        if (!g.notCarried().isEmpty()) {
            return Optional.of(String.join("; ", g.notCarried()));
        }
        if (!g.copyDone()) {
            return Optional.of("the copy is not done yet (or the change stream is not flowing): cut over once every table is"
                    + " copied and caught up");
        }
        if (g.endToEndLagMs() > maxLagMs) {
            return Optional.of("lag " + g.endToEndLagMs() + " ms is above the allowed " + maxLagMs + " ms");
        }
        return Optional.empty();
    }
}
