package io.shardlift.ops.cutover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlift.ops.cutover.CutoverReport.Outcome;
import io.shardlift.ops.cutover.CutoverReport.Step;
import io.shardlift.ops.cutover.CutoverReport.StepStatus;
import io.shardlift.ops.cutover.CutoverState.State;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The runner without a database: steps that record which of their methods ran, and a state log that applies the
 * same guarded transitions as node 0's.
 */
class CutoverRunnerTest {

    /** What ran, in order: "name.run", "name.dryRun", "name.undo". */
    final List<String> calls = Collections.synchronizedList(new ArrayList<>());
    final MemoryState state = new MemoryState();

    /** The durable state in memory, checked like node 0's. */
    static final class MemoryState implements CutoverRunner.StateLog {
        Optional<CutoverState> current = Optional.empty();
        final List<String> history = new ArrayList<>();

        @Override
        public Optional<CutoverState> read() {
            return current;
        }

        @Override
        public void transition(String id, State to, String note) {
            CutoverState.checkTransition(current, to, id);
            current = Optional.of(new CutoverState(to, id, Instant.now(), Optional.ofNullable(note)));
            history.add(to.name());
        }
    }

    /** A step that records its calls; {@code fails} makes its run (and dry run) throw, {@code fences} marks the fence. */
    final class Recording implements CutoverStep {
        final String name;
        final boolean readOnly;
        RuntimeException fails;
        boolean fences;

        Recording(String name, boolean readOnly) {
            this.name = name;
            this.readOnly = readOnly;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public boolean readOnly() {
            return readOnly;
        }

        @Override
        public String run(CutoverContext ctx) {
            return act(ctx, "run");
        }

        @Override
        public String dryRun(CutoverContext ctx) {
            return readOnly ? run(ctx) : act(ctx, "dryRun");
        }

        private String act(CutoverContext ctx, String how) {
            calls.add(name + "." + how);
            if (fails != null) {
                throw fails;
            }
            if (fences) {
                ctx.fenced(System.nanoTime());
            }
            return name + " " + how;
        }

        @Override
        public void undo(CutoverContext ctx) {
            calls.add(name + ".undo");
        }
    }

    final Recording gate = new Recording("gate", true);
    final Recording check = new Recording("check", true);
    final Recording fence = new Recording("fence", true);
    final Recording change = new Recording("change", false);
    final Recording main = new Recording("main", false);
    final Recording beside = new Recording("beside", false);
    final Recording release = new Recording("release", false);
    final Recording after = new Recording("after", false);

    {
        fence.fences = true;
    }

    CutoverRunner.Procedure procedure() {
        return new CutoverRunner.Procedure(gate, List.of(check, fence, change, new CutoverStep.Alongside(main, List.of(beside))),
                release, List.of(after));
    }

    CutoverReport run(boolean dryRun) {
        CutoverContext ctx = new CutoverContext(dryRun ? "dry-1" : "c-1", dryRun, null, Cutover.Options.defaults(1),
                () -> CutoverContext.Resources.NONE, 2);
        return new CutoverRunner(procedure(), state).run(ctx);
    }

    /** The calls in this order; "a|b" are a group's steps, side by side in either order. */
    void inOrder(String... expected) {
        List<String> flat = new ArrayList<>();
        int at = 0;
        for (String e : expected) {
            List<String> group = List.of(e.split("\\|"));
            assertThat(calls.subList(at, at + group.size())).as(calls.toString()).containsExactlyInAnyOrderElementsOf(group);
            at += group.size();
            flat.addAll(group);
        }
        assertThat(calls).hasSameSizeAs(flat);
    }

    @Test
    void runsTheStepsInOrderAndReportsEach() {
        CutoverReport r = run(false);
        assertThat(r.outcome()).as(r.toString()).isEqualTo(Outcome.DONE);
        assertThat(r.id()).isEqualTo("c-1");
        inOrder("gate.run", "check.run", "fence.run", "change.run", "main.run|beside.run", "release.run", "after.run");
        assertThat(r.steps()).extracting(Step::name).containsExactlyElementsOf(procedure().names())
                .containsExactly("gate", "check", "fence", "change", "main", "beside", "release", "after");
        assertThat(r.steps()).extracting(Step::status).containsOnly(StepStatus.DONE);
        assertThat(r.steps()).extracting(Step::detail).startsWith("gate run", "check run");
        assertThat(state.history).containsExactly("CUTTING_OVER", "CUT_OVER");
        assertThat(r.pointOfNoReturnPassed()).isTrue();
    }

    @Test
    void theDryRunWalksTheSameStepsAndChangesNothing() {
        CutoverReport dry = run(true);
        assertThat(dry.outcome()).as(dry.toString()).isEqualTo(Outcome.DRY_RUN);
        assertThat(dry.dryRun()).isTrue();
        // the same sequence, each step's dry twin where it changes something
        inOrder("gate.run", "check.run", "fence.run", "change.dryRun", "main.dryRun|beside.dryRun", "release.dryRun", "after.dryRun");
        assertThat(dry.steps()).extracting(Step::name).containsExactlyElementsOf(procedure().names());
        assertThat(dry.steps()).extracting(Step::status).containsExactly(StepStatus.DONE, StepStatus.DONE, StepStatus.DONE,
                StepStatus.DRY_RUN, StepStatus.DRY_RUN, StepStatus.DRY_RUN, StepStatus.DRY_RUN, StepStatus.DRY_RUN);
        assertThat(state.history).as("a dry run never writes the durable state").isEmpty();
        assertThat(dry.pointOfNoReturnPassed()).isFalse();
        assertThat(dry.toMap()).containsEntry("outcome", "DONE").containsEntry("dryRun", true);
    }

    @Test
    void aFailingStepStopsTheRunUndoesWhatRanAndIsReported() {
        main.fails = new IllegalStateException("3 rows differ");
        CutoverReport r = run(false);
        assertThat(r.outcome()).as(r.toString()).isEqualTo(Outcome.FAILED); // the source had been fenced
        assertThat(r.reason()).hasValue("3 rows differ");
        assertThat(calls).doesNotContain("release.run", "after.run");
        // latest first, the failing step's group included: each releases what it holds
        assertThat(calls.subList(calls.indexOf("main.run") + 1, calls.size())).containsSubsequence("main.undo", "beside.undo",
                "change.undo", "fence.undo", "check.undo");
        assertThat(r.steps()).extracting(Step::name).containsExactly("gate", "check", "fence", "change", "rollback");
        assertThat(r.steps().get(r.steps().size() - 1).detail()).isEqualTo("released the source; nothing was cut over: 3 rows differ");
        assertThat(state.history).containsExactly("CUTTING_OVER", "ROLLED_BACK");
        assertThat(state.current.orElseThrow().note()).hasValue("3 rows differ");
        assertThat(r.freezeMillis()).isGreaterThanOrEqualTo(0);
    }

    @Test
    void aRefusalBeforeTheFenceIsARefusalNamingItsStep() {
        check.fails = new Refusal("check", "the stream is slow", "the stream is slow (detail)");
        CutoverReport r = run(false);
        assertThat(r.outcome()).isEqualTo(Outcome.REFUSED);
        assertThat(r.reason()).hasValue("the stream is slow");
        assertThat(r.steps()).extracting(Step::name, Step::status).containsExactly(
                org.assertj.core.groups.Tuple.tuple("gate", StepStatus.DONE), org.assertj.core.groups.Tuple.tuple("check", StepStatus.REFUSED));
        assertThat(r.steps().get(1).detail()).isEqualTo("the stream is slow (detail)");
        assertThat(calls).containsExactly("gate.run", "check.run", "check.undo");
        assertThat(state.history).containsExactly("CUTTING_OVER", "ROLLED_BACK");
    }

    @Test
    void theClientsPauseIsReportedAtTheTopOnlyWhenAStepRecordedOne() {
        CutoverReport without = run(false);
        assertThat(without.poolerPauseMillis()).isEmpty();
        assertThat(without.probe()).isEmpty();
        assertThat(without.toMap()).containsEntry("poolerPauseMs", null).containsEntry("probe", null);

        CutoverStep resume = new CutoverStep() {
            @Override
            public String name() {
                return "pooler-resume";
            }

            @Override
            public String run(CutoverContext ctx) {
                ctx.poolerPauseMillis = 412; // as PoolerResumeStep records it, PAUSE issued to RESUME done
                return "RESUMEd";
            }
        };
        CutoverContext ctx = new CutoverContext("c-2", false, null, Cutover.Options.defaults(1), () -> CutoverContext.Resources.NONE, 2);
        CutoverReport with = new CutoverRunner(new CutoverRunner.Procedure(gate, List.of(check, fence), release, List.of(resume)),
                new MemoryState()).run(ctx);
        assertThat(with.outcome()).as(with.toString()).isEqualTo(Outcome.DONE);
        assertThat(with.poolerPauseMillis()).hasValue(412);
        assertThat(with.toMap()).containsEntry("poolerPauseMs", 412L);
    }

    @Test
    void theGateRefusesBeforeAnythingRunsOrIsRecorded() {
        gate.fails = new Refusal("gate", "lag 12000 ms is above the allowed 5000 ms");
        CutoverReport r = run(false);
        assertThat(r.outcome()).isEqualTo(Outcome.REFUSED);
        assertThat(calls).containsExactly("gate.run");
        assertThat(state.history).isEmpty();
        assertThat(r.steps()).singleElement().extracting(Step::status).isEqualTo(StepStatus.REFUSED);
    }

    @Test
    void aFailureAfterThePointOfNoReturnIsReportedAndTheCutoverStaysDone() {
        after.fails = new IllegalStateException("node 2: could not validate — validate by hand");
        CutoverReport r = run(false);
        assertThat(r.outcome()).isEqualTo(Outcome.DONE);
        assertThat(r.steps().get(r.steps().size() - 1)).isEqualTo(new Step("after", StepStatus.FAILED,
                r.steps().get(r.steps().size() - 1).millis(), "node 2: could not validate — validate by hand"));
        assertThat(calls).noneMatch(c -> c.endsWith(".undo"));
        assertThat(state.history).containsExactly("CUTTING_OVER", "CUT_OVER");
    }

    @Test
    void onceCutOverEveryRequestIsAConflictAndNothingRuns() {
        state.current = Optional.of(new CutoverState(State.CUT_OVER, "c-0", Instant.parse("2026-12-04T19:00:00Z"), Optional.empty()));
        for (boolean dryRun : new boolean[] {false, true}) {
            assertThatThrownBy(() -> run(dryRun)).isInstanceOf(Cutover.Conflict.class)
                    .hasMessageContaining("the cutover c-0 is done (CUT_OVER");
        }
        assertThat(calls).isEmpty();
        assertThat(state.history).isEmpty();
    }

    @Test
    void aDryRunThatFailsIsARefusalAndRecordsNothing() {
        fence.fails = new Refusal("fence-wait", "a transaction on the source has held the migrated tables for 6000 ms");
        CutoverReport r = run(true);
        assertThat(r.outcome()).isEqualTo(Outcome.REFUSED);
        assertThat(r.dryRun()).isTrue();
        assertThat(r.steps()).extracting(Step::name).containsExactly("gate", "check", "fence-wait");
        assertThat(state.history).isEmpty();
    }

    @Test
    void theCutoverStepsAreTheDocumentedOnes() {
        assertThat(Cutover.procedure(() -> null, Optional.empty()).names()).containsExactly("gate", "pre-drain", "content", "fence-function",
                "fence-wait", "fence", "marker", "drain", "verify", "foreign-keys", "sequences", "write-fence", "reverse-slots", "release", "validate");
    }
}
