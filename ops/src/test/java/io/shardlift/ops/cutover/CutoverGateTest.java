package io.shardlift.ops.cutover;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class CutoverGateTest {

    /** The gate needs no plan: it only reads the options. */
    final Cutover.Options options = new Cutover.Options(5_000, Duration.ofMillis(200), 3, Duration.ofSeconds(1), 3);

    @Test
    void refusesWithTheReasonWhenLagIsAboveTheBound() {
        assertThat(GateStep.refusal(new Cutover.Gate(true, 12_000, 40), options.maxLagMs()))
                .hasValue("lag 12000 ms is above the allowed 5000 ms");
    }

    @Test
    void refusesBeforeTheCopyIsDone() {
        assertThat(GateStep.refusal(new Cutover.Gate(false, 0, 0), options.maxLagMs())).get().asString()
                .startsWith("the copy is not done yet");
    }

    @Test
    void passesWhenCaughtUp() {
        assertThat(GateStep.refusal(new Cutover.Gate(true, 0, 0), options.maxLagMs())).isEmpty();
        assertThat(GateStep.refusal(new Cutover.Gate(true, 5_000, 3), options.maxLagMs())).isEmpty();
    }
}
