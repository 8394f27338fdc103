package io.shardlift.ops.cutover;

import io.shardlift.ops.cutover.CutoverReport.Outcome;
import io.shardlift.ops.cutover.CutoverReport.Step;
import io.shardlift.ops.cutover.CutoverReport.StepStatus;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Walks a {@link Procedure}: the same sequence, checks, timing, reporting and failure handling for a cutover and its
 * dry run, which differ only in which method of each step is called ({@link CutoverStep#run} or
 * {@link CutoverStep#dryRun}) and in the durable state, which a dry run never writes.
 *
 * <ol>
 *   <li>Refuses at once, changing nothing, if the durable state is not startable (a cutover done or under way).</li>
 *   <li>The gate: a refusal there is the answer, nothing else runs.</li>
 *   <li>Records CUTTING_OVER (a real cutover), opens the connections, then the steps before the point of no return.
 *       Any failure among them undoes the steps that ran, latest first (the fence's rollback releases the source),
 *       records ROLLED_BACK and reports the cause: REFUSED while nothing was fenced, FAILED after.</li>
 *   <li>The point of no return. Once it passed, CUT_OVER is recorded (should that fail, the next start records it,
 *       {@link Recovery}) and the steps after it run; their failures are reported and do not undo anything.</li>
 * </ol>
 */
final class CutoverRunner {

    private static final Logger log = LoggerFactory.getLogger(CutoverRunner.class);

    /** Where the cutover's durable state lives (node 0, {@link StateStore}). */
    interface StateLog {
        Optional<CutoverState> read();

        /** @throws CutoverState.IllegalTransition when the recorded state does not allow it; nothing written */
        void transition(String id, CutoverState.State to, String note);
    }

    /**
     * The steps of one operation in order: the gate, the steps before the point of no return (undone, latest first,
     * when one fails), the step that is the point of no return, and the steps after it.
     */
    record Procedure(CutoverStep gate, List<CutoverStep> beforeCommit, CutoverStep pointOfNoReturn, List<CutoverStep> afterCommit,
                     Lifecycle lifecycle) {
        Procedure {
            beforeCommit = List.copyOf(beforeCommit);
            afterCommit = List.copyOf(afterCommit);
        }

        Procedure(CutoverStep gate, List<CutoverStep> beforeCommit, CutoverStep pointOfNoReturn, List<CutoverStep> afterCommit) {
            this(gate, beforeCommit, pointOfNoReturn, afterCommit, Lifecycle.CUTOVER);
        }

        /** Every step's name in the order they run (a group's steps in its order). */
        List<String> names() {
            List<String> out = new ArrayList<>();
            List<CutoverStep> all = new ArrayList<>();
            all.add(gate);
            all.addAll(beforeCommit);
            all.add(pointOfNoReturn);
            all.addAll(afterCommit);
            for (CutoverStep s : all) {
                if (s instanceof CutoverStep.Alongside g) {
                    out.add(g.main().name());
                    g.beside().forEach(b -> out.add(b.name()));
                } else {
                    out.add(s.name());
                }
            }
            return out;
        }
    }

    /**
     * The durable states one kind of operation moves through: it begins from {@code startable} (or from no state at all
     * when {@code fromNothing}), records {@code running}, then {@code done} at its point of no return or {@code undone}
     * when it stops before it. {@code conflict} is the refusal for any other state (empty: none recorded).
     */
    record Lifecycle(String what, java.util.Set<CutoverState.State> startable, boolean fromNothing, CutoverState.State running,
                     CutoverState.State done, CutoverState.State undone,
                     java.util.function.BiFunction<Optional<CutoverState>, Boolean, Cutover.Conflict> conflict) {

        static final Lifecycle CUTOVER = new Lifecycle("cutover", CutoverState.STARTABLE, true, CutoverState.State.CUTTING_OVER,
                CutoverState.State.CUT_OVER, CutoverState.State.ROLLED_BACK, (st, dry) -> Cutover.conflict(st.orElseThrow(), dry));

        boolean allows(Optional<CutoverState> st) {
            return st.isEmpty() ? fromNothing : startable.contains(st.get().state());
        }
    }

    private final Procedure procedure;
    private final StateLog state;

    CutoverRunner(Procedure procedure, StateLog state) {
        this.procedure = procedure;
        this.state = state;
    }

    /**
     * Runs the procedure in {@code ctx} (which it closes).
     *
     * @throws Cutover.Conflict the durable state does not allow a cutover; nothing changed
     */
    CutoverReport run(CutoverContext ctx) {
        try (ctx) {
            String id = ctx.id();
            boolean dryRun = ctx.dryRun();
            Lifecycle life = procedure.lifecycle();
            Optional<CutoverState> st = state.read(); // durable state decides: nothing below runs once a cutover is done
            if (!life.allows(st)) {
                throw life.conflict().apply(st, dryRun);
            }
            long t = System.nanoTime();
            try {
                step(ctx, procedure.gate());
            } catch (Refusal r) {
                ctx.report(r.step, StepStatus.REFUSED, t, System.nanoTime(), r.detail);
                return report(ctx, Outcome.REFUSED, r.getMessage());
            } catch (Exception e) {
                throw e instanceof RuntimeException re ? re : new IllegalStateException(e);
            }
            if (!dryRun) {
                try {
                    state.transition(id, life.running(), null);
                } catch (CutoverState.IllegalTransition e) {
                    // another cutover got there between the check above and now
                    throw life.conflict().apply(e.current(), false);
                }
            }
            return pastTheGate(ctx);
        }
    }

    private CutoverReport pastTheGate(CutoverContext ctx) {
        boolean dryRun = ctx.dryRun();
        Deque<CutoverStep> ran = new ArrayDeque<>();
        boolean committed = false;
        long t = System.nanoTime();
        try {
            ctx.open();
            for (CutoverStep s : procedure.beforeCommit()) {
                t = System.nanoTime();
                ran.push(s);
                step(ctx, s);
            }
            t = System.nanoTime();
            ran.push(procedure.pointOfNoReturn());
            step(ctx, procedure.pointOfNoReturn());
            committed = !dryRun;
            Lifecycle life = procedure.lifecycle();
            if (committed) {
                ctx.failpoint(life.what() + ".released");
                try {
                    state.transition(ctx.id(), life.done(), null);
                } catch (RuntimeException e) {
                    // the source's triggers say it committed: the next start settles the state (Recovery)
                    log.warn("{} {} committed but its state could not be recorded on node 0 ({}); the next start records it",
                            life.what(), ctx.id(), e.getMessage());
                }
                log.info("{} {} done: writes frozen {} ms", life.what(), ctx.id(), ctx.freezeMillis());
            }
            for (CutoverStep s : procedure.afterCommit()) {
                afterCommit(ctx, s);
            }
            return report(ctx, dryRun ? Outcome.DRY_RUN : Outcome.DONE, null);
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            if (committed) { // past the point of no return only the steps after it can fail, and they do not throw
                throw new IllegalStateException("cutover " + ctx.id() + " committed, then: " + e.getMessage(), e);
            }
            undo(ctx, ran);
            String reason = e.getMessage() != null ? e.getMessage() : e.toString(); // a report that did not cut over says why
            if (e instanceof Refusal r) {
                ctx.report(r.step, StepStatus.REFUSED, t, System.nanoTime(), r.detail);
            } else {
                long now = System.nanoTime();
                ctx.report("rollback", StepStatus.DONE, now, now, "released the source; nothing was cut over: " + reason);
            }
            if (!dryRun) {
                state.transition(ctx.id(), procedure.lifecycle().undone(), reason);
            }
            // nothing was fenced yet: a refusal, to ask again, like the gate's
            return report(ctx, dryRun || !ctx.isFenced() ? Outcome.REFUSED : Outcome.FAILED, reason);
        }
    }

    /** Runs one step, or a group side by side, and reports it. */
    private static void step(CutoverContext ctx, CutoverStep s) throws Exception {
        if (s instanceof CutoverStep.Alongside g) {
            List<CompletableFuture<Step>> beside = new ArrayList<>();
            for (CutoverStep b : g.beside()) {
                beside.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        return timed(ctx, b);
                    } catch (Exception e) {
                        throw e instanceof RuntimeException re ? re : new CompletionException(e);
                    }
                }, ctx.pool()));
            }
            ctx.report(timed(ctx, g.main()));
            for (CompletableFuture<Step> f : beside) {
                // reported with the time the cutover waited for it once the main step was done: what it added
                long t = System.nanoTime();
                Step done = join(f);
                ctx.report(new Step(done.name(), done.status(), (System.nanoTime() - t) / 1_000_000, done.detail()));
            }
            return;
        }
        ctx.report(timed(ctx, s));
    }

    private static Step timed(CutoverContext ctx, CutoverStep s) throws Exception {
        long t = System.nanoTime();
        String detail = ctx.dryRun() ? s.dryRun(ctx) : s.run(ctx);
        StepStatus status = ctx.dryRun() && !s.readOnly() ? StepStatus.DRY_RUN : StepStatus.DONE;
        return new Step(s.name(), status, Math.max(0, (System.nanoTime() - t) / 1_000_000), detail);
    }

    /** Past the point of no return a failure is reported, with what to do, and the cutover goes on. */
    private static void afterCommit(CutoverContext ctx, CutoverStep s) {
        long t = System.nanoTime();
        try {
            step(ctx, s);
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            ctx.report(s.name(), StepStatus.FAILED, t, System.nanoTime(), e.getMessage());
        }
    }

    private static void undo(CutoverContext ctx, Deque<CutoverStep> ran) {
        for (CutoverStep s : ran) { // latest first
            List<CutoverStep> group = s instanceof CutoverStep.Alongside g ? concat(g.main(), g.beside()) : List.of(s);
            for (CutoverStep one : group) {
                try {
                    one.undo(ctx);
                } catch (Exception e) {
                    if (e instanceof InterruptedException) {
                        Thread.currentThread().interrupt();
                    }
                    // the next undo still runs: each releases something of its own
                    log.warn("cutover {}: undoing step {} failed: {}", ctx.id(), one.name(), e.getMessage());
                }
            }
        }
    }

    private static List<CutoverStep> concat(CutoverStep first, List<CutoverStep> rest) {
        List<CutoverStep> out = new ArrayList<>();
        out.add(first);
        out.addAll(rest);
        return out;
    }

    private static <T> T join(CompletableFuture<T> f) throws Exception {
        try {
            return f.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof Exception x ? x : new IllegalStateException(e.getCause());
        }
    }

    private static CutoverReport report(CutoverContext ctx, Outcome outcome, String reason) {
        Optional<CutoverReport.Probe> probe;
        try {
            probe = ctx.stopProbe(java.time.Duration.ZERO); // stopped by pooler-resume or the pause's undo, unless they failed
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            probe = ctx.probeResult();
        }
        return new CutoverReport(ctx.id(), outcome, ctx.dryRun(), Optional.ofNullable(reason), ctx.steps(), ctx.freezeMillis(),
                ctx.poolerPauseMillis < 0 ? OptionalLong.empty() : OptionalLong.of(ctx.poolerPauseMillis), probe);
    }
}
