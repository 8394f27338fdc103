package io.shardlift.ops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StatusReportTest {

    @Test
    void phaseFirstThenEveryFieldNestedAndListsOfObjectsOneLineEach() {
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("tables", List.of(map("table", "public.devices", "state", "done", "rows", 1200),
                map("table", "public.events", "state", "copying", "rows", 50000)));
        status.put("phase", "COPYING");
        status.put("lag", map("walBytes", 4096, "seconds", 0.25, "applied", map("p0", 1.0)));
        status.put("lastError", null);
        status.put("nodes", List.of("n0", "n1"));
        status.put("rates", Map.of());
        status.put("shards", Arrays.asList(1, null, List.of(2, 3)));
        assertThat(StatusReport.render(status)).isEqualTo("""
                phase: COPYING
                tables:
                  - table=public.devices  state=done  rows=1200
                  - table=public.events  state=copying  rows=50000
                lag:
                  walBytes: 4096
                  seconds: 0.25
                  applied:
                    p0: 1
                lastError: -
                nodes: n0, n1
                rates: -
                shards: 1, -, [2,3]
                """);
    }

    @Test
    void noPhaseIsFine() {
        assertThat(StatusReport.render(Map.of("x", 1))).isEqualTo("x: 1\n");
    }

    @Test
    void wildcardListenAddressesAreReachedOnLoopback() {
        assertThat(ControlClient.connectHost("0.0.0.0")).isEqualTo("127.0.0.1");
        assertThat(ControlClient.connectHost("::")).isEqualTo("[::1]");
        assertThat(ControlClient.connectHost("::1")).isEqualTo("[::1]");
        assertThat(ControlClient.connectHost("10.0.0.5")).isEqualTo("10.0.0.5");
        assertThat(ControlClient.connectHost("ctl.example")).isEqualTo("ctl.example");
    }

    static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }
}
