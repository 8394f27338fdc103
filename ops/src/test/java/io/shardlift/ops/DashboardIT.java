package io.shardlift.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlift.embedded.PgNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;

/**
 * The operator's page ({@code GET /}) in Debian's headless Chromium, driven through chromedriver, while {@code shardlift
 * run} migrates for real with a writer on the source: the copy's bars move, the lag chart grows, a node stopped mid-run
 * is shown failing and then back, a dry run started from the page with the token shows its steps, an action this
 * version lacks says so, the Grafana board queries only metrics the live /metrics exposes (and the README's table lists
 * every one of ours), and once the process is gone the page says the control plane is unreachable. Ends comparing
 * source and cluster row by row.
 *
 * <p>Needs the packages {@code chromium} and {@code chromium-driver} ({@code .ci/run} installs them): without them the
 * test is skipped, except with {@code CI=true}, where it fails.
 */
class DashboardIT {

    static final String TOKEN_VAR = "SHARDLIFT_DASHBOARD_TOKEN";
    /** Long enough for the copy to be watched at the page's one-second polling, even on a fast machine. */
    static final long EVENTS = 400_000;

    static SensorsMigration env;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        Chromium.requireInstalled();
        env = SensorsMigration.start("dash", EVENTS);
    }

    @AfterAll
    static void stop() {
        if (env != null) {
            env.close();
        }
    }

    @Test
    void thePageFollowsAMigrationAndTellsTheTruth() throws Exception {
        String token = System.getenv("SHARDLIFT_IT_TOKEN");
        assertThat(token).as("SHARDLIFT_IT_TOKEN is set by failsafe (ops/pom.xml): run this test through Maven").isNotBlank();
        Path spec = env.spec(dir, env.controlPort, TOKEN_VAR);
        Path log = dir.resolve("run.log");
        String url = "http://127.0.0.1:" + env.controlPort + "/";
        WebDriver browser = Chromium.start(dir.resolve("chromium"));
        try {
            followTheMigration(browser, spec, log, url, token);
        } finally {
            browser.quit();
            if (run != null) {
                run.kill();
            }
        }
    }

    /** The shardlift run under test, once started: killed at the end whatever happens. */
    private ShardliftProcess run;

    private void followTheMigration(WebDriver browser, Path spec, Path log, String url, String token) throws Exception {
        Path shot;
        try (LiveWriter writer = new LiveWriter(env.cluster.source(), SensorsMigration.DB)) {
            run = ShardliftProcess.start(log, Map.of(TOKEN_VAR, token), "run", "--config", spec.toString(), "--chunk-rows",
                    "10000", "--status-interval", "2");
            awaitListening(run, log);
            browser.get(url);
            ShardliftProcess process = run;
            await(browser, "the page to reach the control plane", () -> alive(process) && "live".equals(js(browser,
                    "return document.body.dataset.connection")));

            // the copy's bars move: a table seen part-way, then further
            List<Double> seen = new ArrayList<>();
            await(browser, "the events table's bar to be seen moving", () -> {
                assertThat(process.isAlive()).as("shardlift run").isTrue();
                Object v = js(browser, "const r = document.querySelector('#tables tr[data-table=\"public.events\"] [role=progressbar]');"
                        + " return r ? r.getAttribute('aria-valuenow') : null");
                if (v != null) {
                    double pct = Double.parseDouble(v.toString());
                    if (seen.isEmpty() || seen.get(seen.size() - 1) != pct) {
                        seen.add(pct);
                    }
                }
                return seen.stream().anyMatch(p -> p > 0 && p < 100) && seen.get(seen.size() - 1) > seen.stream()
                        .filter(p -> p > 0 && p < 100).findFirst().orElse(100.0);
            });
            System.out.println("events bar seen at " + seen + " %");
            String eta = (String) js(browser, "const r = document.querySelector('#tables tr[data-table=\"public.events\"] .eta');"
                    + " return r ? r.textContent : ''");
            assertThat(eta).as("the events table's ETA").isNotBlank();

            // the stream: the lag chart gains samples and redraws
            await(browser, "the copy to finish and the end-to-end lag to be measured", () -> {
                assertThat(process.isAlive()).as("shardlift run").isTrue();
                return number(js(browser, "return document.getElementById('lag-chart').dataset.samples")) >= 3
                        && Boolean.TRUE.equals(js(browser, "return !!document.querySelector('#lag-chart polyline[data-series=\"end to end\"]')"));
            });
            long samples = number(js(browser, "return document.getElementById('lag-chart').dataset.samples"));
            String line = (String) js(browser, "return document.querySelector('#lag-chart polyline[data-series=\"end to end\"]').getAttribute('points')");
            await(browser, "the lag chart to update", () -> number(js(browser, "return document.getElementById('lag-chart').dataset.samples")) > samples + 2
                    && !line.equals(js(browser, "return document.querySelector('#lag-chart polyline[data-series=\"end to end\"]').getAttribute('points')")));
            shot = screenshot(browser, "dashboard-streaming.png");

            // a node stopped mid-run: its row and an alert say so; back again, it recovers
            PgNode node = env.cluster.nodes().get(1);
            node.stop();
            try {
                await(browser, "node 1 to be shown failing", () -> Boolean.TRUE.equals(js(browser,
                        "const r = document.querySelector('#nodes tr[data-node=\"1\"]'); return !!r && r.classList.contains('down')"))
                        && String.valueOf(js(browser, "return document.getElementById('alerts').textContent")).contains("Node 1"));
                String alert = (String) js(browser, "return document.getElementById('alerts').textContent");
                assertThat(alert).contains("is failing", "Bring the node back");
                screenshot(browser, "dashboard-node-down.png");
            } finally {
                node.startAgain();
            }
            await(browser, "node 1 to be shown applying again", () -> Boolean.FALSE.equals(js(browser,
                    "const r = document.querySelector('#nodes tr[data-node=\"1\"]'); return !r || r.classList.contains('down')")));
        }
        ShardliftProcess process = run;
        // a dry run from the page, with the token: its steps are shown (asked again while the lag gate refuses)
        await(browser, "the phase READY", () -> {
            assertThat(process.isAlive()).as("shardlift run").isTrue();
            return "READY".equals(js(browser, "return document.body.dataset.phase"));
        });
        String outcome = null;
        for (int attempt = 1; attempt <= 10; attempt++) {
            browser.findElement(By.cssSelector("#actions button[data-action=\"dry-run\"]")).click();
            assertThat(browser.findElement(By.id("confirm")).isDisplayed()).as("the confirmation asks first").isTrue();
            browser.findElement(By.id("token")).sendKeys(token);
            browser.findElement(By.id("confirm-go")).click();
            await(browser, "the dry run's answer", () -> {
                Object state = js(browser, "return document.getElementById('result').dataset.state");
                return state != null && !"running".equals(state);
            });
            outcome = (String) js(browser, "return document.getElementById('result').dataset.state");
            if (!"422".equals(outcome)) {
                break;
            }
            Thread.sleep(2_000);
        }
        assertThat(outcome).as(String.valueOf(js(browser, "return document.getElementById('result').textContent"))).isEqualTo("200");
        @SuppressWarnings("unchecked")
        List<String> steps = (List<String>) js(browser, "return [...document.querySelectorAll('#result .step')].map(s => s.dataset.step)");
        assertThat(steps).contains("gate", "content", "fence", "drain", "verify", "release");
        String timeline = (String) js(browser, "return document.getElementById('timelines').textContent");
        await(browser, "the last cutover's timeline (GET /cutover) to show the dry run", () ->
                String.valueOf(js(browser, "return document.getElementById('timelines').textContent")).contains("(dry run)"));
        screenshot(browser, "dashboard-dry-run.png");
        // the token went in a header only: not in the address, not in storage, not left in the form
        assertThat(browser.getCurrentUrl()).isEqualTo(url);
        assertThat(js(browser, "return localStorage.length + sessionStorage.length + document.cookie.length")).isEqualTo(0L);
        assertThat(browser.findElement(By.id("token")).getAttribute("value")).isEmpty();
        assertThat(browser.getPageSource()).doesNotContain(token);

        // a rollback before any cutover does not fit the state: the page shows the server's refusal, nothing changes
        browser.findElement(By.cssSelector("#actions button[data-action=\"rollback\"]")).click();
        browser.findElement(By.id("token")).sendKeys(token);
        browser.findElement(By.id("understand")).click();
        browser.findElement(By.id("confirm-go")).click();
        await(browser, "the rollback's answer", () -> "409".equals(js(browser, "return document.getElementById('result').dataset.state")));
        assertThat((String) js(browser, "return document.getElementById('result').textContent")).contains("refused");
        assertThat(browser.findElement(By.id("window")).isDisplayed()).as("no rollback window before a cutover").isFalse();

        // a real cutover from the page opens the rollback window: its panel shows the reverse stream and the slots' cost
        assertThat(actUntilDone(browser, "cutover", token)).as(resultText(browser)).isEqualTo("200");
        await(browser, "the rollback window's panel with the reverse stream running", () ->
                browser.findElement(By.id("window")).isDisplayed()
                        && "STREAMING".equals(js(browser, "return document.getElementById('reverse-state').dataset.state"))
                        // the slots are looked at every 5 s
                        && browser.findElement(By.id("reverse-slots")).getText().contains("slot retains"));
        assertThat(browser.findElement(By.id("phase")).getText()).isEqualTo("CUT_OVER");
        screenshot(browser, "dashboard-rollback-window.png");
        // and the way back from the page: the window closes, the source is the database again
        assertThat(actUntilDone(browser, "rollback", token)).as(resultText(browser)).isEqualTo("200");
        await(browser, "the rollback window's panel to go", () -> !browser.findElement(By.id("window")).isDisplayed());

        // the Grafana board queries only what a live /metrics exposes, and the README documents every metric of ours
        // after the rollback the forward applier started again: its per-partition gauges come once it has its partitions
        java.util.TreeSet<String> exposed = new java.util.TreeSet<>();
        java.util.Set<String> queried = GrafanaBoard.queried(GrafanaBoard.load());
        long until = System.nanoTime() + 60_000_000_000L;
        do {
            if (!exposed.isEmpty()) {
                Thread.sleep(1_000);
            }
            String scrape = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(url + "metrics")).build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            exposed = GrafanaBoard.exposed(scrape);
        } while (!exposed.containsAll(queried) && System.nanoTime() < until);
        System.out.println("shardlift metrics on /metrics: " + exposed.stream().filter(n -> n.startsWith("shardlift_")).toList());
        assertThat(exposed).as("metrics the Grafana board queries").containsAll(GrafanaBoard.queried(GrafanaBoard.load()));
        java.util.TreeSet<String> undocumented = new java.util.TreeSet<>();
        java.util.TreeSet<String> documented = GrafanaBoard.documented();
        for (String n : exposed) {
            if (n.startsWith("shardlift_") && !documented.contains(n) && !documented.contains(n.replaceAll("_(sum|count|max|bucket)$", ""))) {
                undocumented.add(n);
            }
        }
        assertThat(undocumented).as("metrics on /metrics that README.md's metrics table does not list").isEmpty();

        // the row-by-row comparison, then the process gone: the page says so and hides its figures
        Migrations.awaitMarker(env.cluster, SensorsMigration.DB, "dashboard-it", env.partitions(), 120);
        Migrations.assertEqual(env.cluster, SensorsMigration.DB);
        run.kill();
        await(browser, "the page to say the control plane is unreachable", () -> "unreachable".equals(js(browser,
                "return document.body.dataset.connection")));
        assertThat(browser.findElement(By.id("data")).isDisplayed()).isFalse();
        assertThat(browser.findElement(By.id("unreachable-text")).getText()).contains("since");
        // its output is a file, not a terminal: plain status lines, no cursor movements or redraws
        String output = Files.readString(log);
        assertThat(output).contains(" || capture ", " || apply ").doesNotContain("\u001b", "\r");
        System.out.println("screenshot: " + shot + "; timeline: " + timeline.length() + " characters");
    }

    /** Asks for {@code action} from the page with the token, again while the gate refuses (422); the answer's status. */
    private static String actUntilDone(WebDriver browser, String action, String token) throws Exception {
        String outcome = null;
        for (int attempt = 1; attempt <= 15; attempt++) {
            browser.findElement(By.cssSelector("#actions button[data-action=\"" + action + "\"]")).click();
            browser.findElement(By.id("token")).sendKeys(token);
            browser.findElement(By.id("understand")).click();
            browser.findElement(By.id("confirm-go")).click();
            await(browser, "the " + action + "'s answer", () -> {
                Object state = js(browser, "return document.getElementById('result').dataset.state");
                return state != null && !"running".equals(state);
            });
            outcome = (String) js(browser, "return document.getElementById('result').dataset.state");
            if (!"422".equals(outcome)) {
                return outcome;
            }
            Thread.sleep(2_000);
        }
        return outcome;
    }

    private static String resultText(WebDriver browser) {
        return String.valueOf(js(browser, "return document.getElementById('result').textContent"));
    }

    /** Until run's control plane listens (it starts once the preflight passed). */
    static void awaitListening(ShardliftProcess run, Path log) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(4).toNanos();
        while (!Files.readString(log).contains("control plane on ")) {
            assertThat(run.isAlive()).as(run.describe()).isTrue();
            if (System.nanoTime() > deadline) {
                throw new AssertionError("shardlift run did not start its control plane in 4 min: " + run.describe());
            }
            Thread.sleep(100);
        }
    }

    static Object js(WebDriver browser, String script) {
        return Chromium.js(browser, script);
    }

    static long number(Object o) {
        return o == null ? 0 : Long.parseLong(o.toString());
    }

    static boolean alive(ShardliftProcess p) {
        assertThat(p.isAlive()).as("shardlift run").isTrue();
        return true;
    }

    /** Waits for {@code what}; a generous deadline, since the machine is shared: this is not a timing test. */
    static void await(WebDriver browser, String what, Supplier<Boolean> condition) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(4).toNanos();
        while (!Boolean.TRUE.equals(condition.get())) {
            if (System.nanoTime() > deadline) {
                Path shot = screenshot(browser, "dashboard-timeout.png");
                throw new AssertionError("waited 4 min for " + what + "; the page (" + shot + ") shows:\n"
                        + js(browser, "return document.body.innerText"));
            }
            Thread.sleep(200);
        }
    }

    /** Saves what the page looks like now in target/ (the README's picture is one of these). */
    static Path screenshot(WebDriver browser, String name) throws Exception {
        Path to = Path.of("target", name).toAbsolutePath();
        Files.write(to, ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
        return to;
    }
}
