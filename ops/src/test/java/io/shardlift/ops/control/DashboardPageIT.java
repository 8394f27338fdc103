package io.shardlift.ops.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.shardlift.core.spec.ControlSpec;
import io.shardlift.ops.Chromium;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.WebDriver;

/**
 * The page's judgement, in headless Chromium against the real control plane with a backend that answers what a failing
 * migration would: a capture that acknowledges nothing while WAL waits is called stalled, a cutover refused by its lag
 * gate shows the reason and its steps, and a status that fails hides the figures. DashboardIT shows the rest during a
 * real migration.
 */
class DashboardPageIT {

    static final TestBackend backend = new TestBackend();
    static ControlPlane control;
    static WebDriver browser;

    @TempDir
    static Path dir;

    @BeforeAll
    static void start() throws Exception {
        Chromium.requireInstalled();
        control = ControlPlane.start(new ControlSpec("127.0.0.1", 0, "SHARDLIFT_IT_TOKEN"), backend,
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        browser = Chromium.start(dir.resolve("chromium"));
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (control != null) {
            control.close();
        }
    }

    /** A migration catching up whose capture has acknowledged nothing since it began, with 5 MB of WAL waiting. */
    static Map<String, Object> stalled() {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("phase", "CATCHING_UP");
        s.put("serverTime", System.currentTimeMillis());
        s.put("phaseHistory", List.of(Map.of("phase", "COPYING", "since", "2026-12-05T01:00:00Z"),
                Map.of("phase", "CATCHING_UP", "since", "2026-12-05T01:10:00Z")));
        s.put("tables", List.of(Map.of("table", "public.events", "copy", "DONE", "rows", 1000, "bytes", 80_000, "estimatedRows", 990,
                "chunksDone", 1, "chunks", 1)));
        s.put("endToEndLagMs", 3_500);
        Map<String, Object> capture = new LinkedHashMap<>();
        capture.put("state", "STREAMING");
        capture.put("events", 10);
        capture.put("lagMs", 0);
        capture.put("ackedLsn", 123_456);
        capture.put("walLagBytes", 5_000_000);
        s.put("capture", capture);
        s.put("apply", Map.of("state", "APPLYING", "readyTables", 1, "events", 10, "queued", 0, "commitLagMs", 0));
        s.put("nodes", List.of(Map.of("node", 0, "label", "127.0.0.1:5433/demo", "rowsApplied", 10, "batches", 1, "lagMs", 120)));
        s.put("preflight", Map.of("passedAt", "2026-12-05T01:00:00Z", "problems", List.of()));
        s.put("lastError", null);
        return s;
    }

    static Map<String, Object> refusedByTheGate() {
        Map<String, Object> last = new LinkedHashMap<>();
        last.put("outcome", "REFUSED");
        last.put("ok", false);
        last.put("dryRun", true);
        last.put("reason", "end-to-end lag 3500 ms is above the allowed 2000 ms: wait until the stream has caught up");
        last.put("writeFreezeMs", 0);
        last.put("poolerPauseMs", null);
        last.put("stepsMs", 4);
        last.put("steps", List.of(Map.of("name", "gate", "status", "REFUSED", "ms", 4, "detail", "end-to-end lag 3500 ms")));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("state", null);
        m.put("last", last);
        return m;
    }

    @Test
    void aStalledCaptureARefusingGateAndAFailingStatusAreSaid() throws Exception {
        backend.statusAnswer = DashboardPageIT::stalled;
        backend.cutoverStateAnswer = refusedByTheGate();
        browser.get("http://127.0.0.1:" + control.port() + "/");
        await("the refusal and the catching up to be shown", () -> alerts().contains("was refused: end-to-end lag 3500 ms")
                && alerts().contains("Catching up"));
        assertThat(alerts()).contains("Wait for what the reason names");
        assertThat(js("return [...document.querySelectorAll('#timelines .step')].map(s => s.dataset.step + ' ' + s.className).join()"))
                .isEqualTo("gate step REFUSED");
        await("the capture to be called stalled", () -> alerts().contains("Capture stalled: 5.0 MB of source WAL wait"));

        backend.statusFailure = new IllegalStateException("node 0 unreachable");
        await("the failing status to be said", () -> "unreachable".equals(js("return document.body.dataset.connection")));
        assertThat(String.valueOf(js("return document.getElementById('unreachable').innerText")))
                .contains("answers, but not with the status", "status failed: node 0 unreachable", "figures are hidden");
        assertThat(js("return document.getElementById('data').hidden")).isEqualTo(true);

        backend.statusFailure = null;
        await("the figures to come back", () -> "live".equals(js("return document.body.dataset.connection")));
        assertThat(js("return document.getElementById('data').hidden")).isEqualTo(false);
    }

    static String alerts() {
        return String.valueOf(js("return document.getElementById('alerts').innerText"));
    }

    static Object js(String script) {
        return Chromium.js(browser, script);
    }

    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("waited 2 min for " + what + "; the page shows:\n" + js("return document.body.innerText"));
            }
            Thread.sleep(200);
        }
    }
}
