package io.shardlift.ops.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.type.TypeReference;
import io.shardlift.ops.cutover.CutoverReport;
import io.shardlift.ops.cutover.CutoverReport.Outcome;
import io.shardlift.ops.cutover.CutoverReport.Step;
import io.shardlift.ops.cutover.CutoverReport.StepStatus;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CutoverReportTest {

    static final List<Step> STEPS = List.of(new Step("precheck-lag", StepStatus.DONE, 3, "lag 0.4 s, allowed 5 s"),
            Step.of("fence-writes", StepStatus.DONE, 120), new Step("verify", StepStatus.REFUSED, 0, null));

    @Test
    void jsonRoundTrip() throws Exception {
        for (CutoverReport r : List.of(CutoverReport.done(false, STEPS, 312), CutoverReport.done(true, STEPS, 0),
                CutoverReport.refused(false, "lag 12 s is above the allowed 5 s", STEPS.subList(0, 1)),
                CutoverReport.failed(false, "verify: 3 rows differ", STEPS, 80), WITH_POOLER,
                new CutoverReport("", Outcome.FAILED, false, java.util.Optional.of("drain"), STEPS, 80, java.util.OptionalLong.of(7),
                        java.util.Optional.of(new CutoverReport.Probe(1, 2, 3, 4, 5, "mixed", java.util.Optional.of("writer: boom")))))) {
            String json = ControlRoutes.MAPPER.writeValueAsString(r.toMap());
            Map<String, Object> back = ControlRoutes.MAPPER.readValue(json, new TypeReference<Map<String, Object>>() { });
            assertThat(CutoverReport.fromMap(back)).isEqualTo(r);
        }
    }

    static final CutoverReport WITH_POOLER = new CutoverReport("", Outcome.DONE, false, java.util.Optional.empty(), STEPS.subList(0, 1),
            312, java.util.OptionalLong.of(480), java.util.Optional.of(new CutoverReport.Probe(90, 91, 0, 471, 466, "cluster",
            java.util.Optional.empty())));

    @Test
    void jsonShapeWithAPooler() throws Exception {
        // poolerPauseMs and probe are the operator's view of what the application felt: part of the interface
        String json = ControlRoutes.MAPPER.writeValueAsString(WITH_POOLER.toMap());
        assertThat(json).isEqualTo("{\"outcome\":\"DONE\",\"ok\":true,\"dryRun\":false,\"reason\":null,\"writeFreezeMs\":312,"
                + "\"poolerPauseMs\":480,\"stepsMs\":3,\"probe\":{\"errors\":0,\"worstWriteMs\":471,\"worstReadMs\":466,"
                + "\"writes\":90,\"reads\":91,\"lastWriteOn\":\"cluster\",\"firstError\":null},"
                + "\"steps\":[{\"name\":\"precheck-lag\",\"status\":\"DONE\",\"ms\":3,\"detail\":\"lag 0.4 s, allowed 5 s\"}]}");
        assertThatThrownBy(() -> CutoverReport.fromMap(Map.of("outcome", "DONE", "writeFreezeMs", 1, "steps", List.of(), "probe", "x")))
                .hasMessageContaining("probe must be an object");
    }

    @Test
    void jsonShape() throws Exception {
        String json = ControlRoutes.MAPPER.writeValueAsString(CutoverReport.done(false, STEPS.subList(0, 2), 312).toMap());
        assertThat(json).isEqualTo("{\"outcome\":\"DONE\",\"ok\":true,\"dryRun\":false,\"reason\":null,\"writeFreezeMs\":312,"
                + "\"poolerPauseMs\":null,\"stepsMs\":123,\"probe\":null,\"steps\":[{\"name\":\"precheck-lag\",\"status\":\"DONE\",\"ms\":3,\"detail\":\"lag 0.4 s, allowed 5 s\"},"
                + "{\"name\":\"fence-writes\",\"status\":\"DONE\",\"ms\":120,\"detail\":\"\"}]}");
    }

    @Test
    void validates() {
        assertThatThrownBy(() -> CutoverReport.refused(false, " ", List.of())).hasMessageContaining("REFUSED needs a reason");
        assertThatThrownBy(() -> new CutoverReport("", Outcome.DONE, false, java.util.Optional.of("why"), List.of(), 0)).hasMessageContaining("DONE has no reason");
        assertThatThrownBy(() -> CutoverReport.done(false, List.of(), -1)).hasMessageContaining("writeFreezeMs must be >= 0");
        assertThatThrownBy(() -> Step.of("", StepStatus.DONE, 1)).hasMessageContaining("needs a name");
        assertThatThrownBy(() -> Step.of("x", StepStatus.DONE, -1)).hasMessageContaining("step x: ms must be >= 0");
        assertThatThrownBy(() -> CutoverReport.fromMap(Map.of("outcome", "MAYBE"))).hasMessageContaining("outcome must be one of");
        assertThatThrownBy(() -> CutoverReport.fromMap(Map.of("outcome", "DONE", "writeFreezeMs", 1)))
                .hasMessageContaining("steps must be a list");
    }

    @Test
    void httpStatusPerOutcome() {
        assertThat(ControlRoutes.statusOf(CutoverReport.done(false, STEPS, 1))).isEqualTo(200);
        assertThat(ControlRoutes.statusOf(CutoverReport.refused(false, "lag", STEPS))).isEqualTo(422);
        assertThat(ControlRoutes.statusOf(CutoverReport.failed(false, "boom", STEPS, 1))).isEqualTo(500);
    }
}
