package io.shardlift.ops.cutover;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class CutoverGateTest {

    final Cutover cutover = new CutoverForGate().cutover;

    /** The gate needs no plan: it only reads the options. */
    static final class CutoverForGate {
        final Cutover cutover = new Cutover(null, new Cutover.Options(5_000, Duration.ofMillis(200), 3, Duration.ofSeconds(1), 3));
    }

    @Test
    void refusesWithTheReasonWhenLagIsAboveTheBound() {
        assertThat(cutover.refusal(new Cutover.Gate(true, 12_000, 40, 5_000)))
                .hasValue("lag 12000 ms is above the allowed 5000 ms");
    }

    @Test
    void refusesBeforeTheCopyIsDone() {
        assertThat(cutover.refusal(new Cutover.Gate(false, 0, 0, 5_000))).get().asString()
                .startsWith("the copy is not done yet");
    }

    @Test
    void passesWhenCaughtUp() {
        assertThat(cutover.refusal(new Cutover.Gate(true, 0, 0, 5_000))).isEmpty();
        assertThat(cutover.refusal(new Cutover.Gate(true, 5_000, 3, 5_000))).isEmpty();
    }
}
