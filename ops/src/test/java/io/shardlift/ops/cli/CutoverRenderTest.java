package io.shardlift.ops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlift.core.spec.ControlSpec;
import io.shardlift.ops.cutover.CutoverReport;
import io.shardlift.ops.cutover.CutoverReport.Outcome;
import io.shardlift.ops.cutover.CutoverReport.Step;
import io.shardlift.ops.cutover.CutoverReport.StepStatus;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** What {@code shardlift cutover} prints of a result: the steps, the freeze, and with a pooler the pause and the probe. */
class CutoverRenderTest {

    private static final ControlClient CLIENT = new ControlClient(new ControlSpec("127.0.0.1", 8080, "SHARDLIFT_TOKEN"));
    private static final List<Step> STEPS = List.of(Step.of("gate", StepStatus.DONE, 0), Step.of("release", StepStatus.DONE, 4));

    @Test
    void withoutAPoolerTheLastLineIsTheFreeze() {
        String out = CutoverCommand.render("cutover", CLIENT, CutoverReport.done(false, STEPS, 312));
        assertThat(out).endsWith("result: DONE; steps 4 ms, writes frozen 312 ms\n").doesNotContain("PgBouncer");
    }

    @Test
    void throughPgBouncerThePauseAndWhatTheProbeFeltAreShown() {
        CutoverReport r = new CutoverReport("c-1", Outcome.DONE, false, Optional.empty(), STEPS, 312, OptionalLong.of(1_065),
                Optional.of(new CutoverReport.Probe(40, 41, 0, 1_057, 1_178, "cluster", Optional.empty())));
        assertThat(CutoverCommand.render("cutover", CLIENT, r))
                .contains("result: DONE; steps 4 ms, writes frozen 312 ms, clients paused in PgBouncer 1,065 ms\n")
                .endsWith("probe through PgBouncer: 0 errors, worst write 1057 ms, worst read 1178 ms (40 writes, 41 reads;"
                        + " last write on the cluster)\n");
    }
}
