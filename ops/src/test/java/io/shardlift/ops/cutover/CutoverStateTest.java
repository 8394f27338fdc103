package io.shardlift.ops.cutover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlift.ops.cutover.CutoverState.State;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class CutoverStateTest {

    static final Instant AT = Instant.parse("2026-12-04T19:00:00Z");

    static Optional<CutoverState> st(State s, String id) {
        return Optional.of(new CutoverState(s, id, AT, Optional.empty()));
    }

    @Test
    void readsWhatEarlierVersionsWroteAndWritesTheSame() {
        CutoverState done = CutoverState.parse("CUT_OVER c-1a2b3c4d finished after a restart", AT);
        assertThat(done).isEqualTo(new CutoverState(State.CUT_OVER, "c-1a2b3c4d", AT, Optional.of("finished after a restart")));
        assertThat(done.encode()).isEqualTo("CUT_OVER c-1a2b3c4d finished after a restart");
        assertThat(CutoverState.parse("CUTTING_OVER c-00000001", AT).note()).isEmpty();
        assertThat(CutoverState.parse("ROLLED_BACK c-2 lag: too high (2 s)", AT).note()).hasValue("lag: too high (2 s)");
    }

    @Test
    void refusesTextThatIsNoCutoverState() {
        assertThatThrownBy(() -> CutoverState.parse("DONE c-1", AT)).hasMessageContaining("'DONE'")
                .hasMessageContaining("expected one of [CUTTING_OVER, CUT_OVER, ROLLED_BACK, ROLLING_BACK, REVERTED, COMPLETED]");
        assertThatThrownBy(() -> CutoverState.parse("CUT_OVER", AT)).hasMessageContaining("without a cutover id");
    }

    @Test
    void aCutoverBeginsFromNothingOrARollbackOnly() {
        CutoverState.checkTransition(Optional.empty(), State.CUTTING_OVER, "c-2");
        CutoverState.checkTransition(st(State.ROLLED_BACK, "c-1"), State.CUTTING_OVER, "c-2");
        assertThatThrownBy(() -> CutoverState.checkTransition(st(State.CUT_OVER, "c-1"), State.CUTTING_OVER, "c-2"))
                .isInstanceOf(CutoverState.IllegalTransition.class)
                .hasMessageContaining("expected no cutover or ROLLED_BACK or REVERTED but it is CUT_OVER (c-1 at 2026-12-04T19:00:00Z)");
        assertThatThrownBy(() -> CutoverState.checkTransition(st(State.CUTTING_OVER, "c-1"), State.CUTTING_OVER, "c-2"))
                .hasMessageContaining("but it is CUTTING_OVER");
    }

    @Test
    void cutOverMovesOnlyIntoARollbackOrCompleteWhichIsFinal() {
        for (State to : State.values()) {
            if (to == State.ROLLING_BACK || to == State.COMPLETED) {
                continue;
            }
            assertThatThrownBy(() -> CutoverState.checkTransition(st(State.CUT_OVER, "c-1"), to, "c-1"))
                    .as(to.name()).isInstanceOf(CutoverState.IllegalTransition.class).hasMessageContaining("but it is CUT_OVER");
        }
        CutoverState.checkTransition(st(State.CUT_OVER, "c-1"), State.ROLLING_BACK, "r-1");
        CutoverState.checkTransition(st(State.CUT_OVER, "c-1"), State.COMPLETED, "c-1");
        for (State to : State.values()) {
            assertThatThrownBy(() -> CutoverState.checkTransition(st(State.COMPLETED, "c-1"), to, "c-2"))
                    .as(to.name()).hasMessageContaining("but it is COMPLETED");
        }
    }

    @Test
    void aRollbackEndsRevertedOrCutOverAndOnlyARevertedSourceCutsOverAgain() {
        CutoverState.checkTransition(st(State.ROLLING_BACK, "r-1"), State.REVERTED, "r-1");
        CutoverState.checkTransition(st(State.ROLLING_BACK, "r-1"), State.CUT_OVER, "r-1");
        assertThatThrownBy(() -> CutoverState.checkTransition(st(State.ROLLING_BACK, "r-1"), State.REVERTED, "r-2"))
                .hasMessageContaining("expected ROLLING_BACK of r-2 but it is ROLLING_BACK of r-1");
        CutoverState.checkTransition(st(State.REVERTED, "r-1"), State.CUTTING_OVER, "c-2");
        assertThatThrownBy(() -> CutoverState.checkTransition(st(State.REVERTED, "r-1"), State.ROLLING_BACK, "r-2"))
                .hasMessageContaining("but it is REVERTED");
        assertThatThrownBy(() -> CutoverState.checkTransition(Optional.empty(), State.ROLLING_BACK, "r-1"))
                .hasMessageContaining("none is recorded");
        assertThat(CutoverState.STARTABLE).containsExactlyInAnyOrder(State.ROLLED_BACK, State.REVERTED);
    }

    @Test
    void onlyTheCutoverUnderWayEndsIt() {
        CutoverState.checkTransition(st(State.CUTTING_OVER, "c-1"), State.CUT_OVER, "c-1");
        CutoverState.checkTransition(st(State.CUTTING_OVER, "c-1"), State.ROLLED_BACK, "c-1");
        assertThatThrownBy(() -> CutoverState.checkTransition(st(State.CUTTING_OVER, "c-1"), State.ROLLED_BACK, "c-2"))
                .hasMessageContaining("expected CUTTING_OVER of c-2 but it is CUTTING_OVER of c-1");
        assertThatThrownBy(() -> CutoverState.checkTransition(st(State.ROLLED_BACK, "c-1"), State.CUT_OVER, "c-1"))
                .hasMessageContaining("expected CUTTING_OVER or ROLLING_BACK but it is ROLLED_BACK");
        assertThatThrownBy(() -> CutoverState.checkTransition(Optional.empty(), State.CUT_OVER, "c-1"))
                .hasMessageContaining("none is recorded");
    }
}
