package io.shardlift.ops.control;

import io.shardlift.ops.cutover.CutoverReport;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.core.type.TypeReference;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.shardlift.ops.ExitCodes;
import io.shardlift.ops.Main;
import io.shardlift.ops.cutover.CutoverReport;
import io.shardlift.core.spec.ControlSpec;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.BindException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The control plane over real HTTP on loopback, with a steerable backend, and the status and cutover commands
 * against it. The token comes from the environment as in production: failsafe sets SHARDLIFT_IT_TOKEN and
 * SHARDLIFT_IT_WRONG_TOKEN (ops/pom.xml); SHARDLIFT_IT_TOKEN_UNSET is never set.
 */
class ControlPlaneIT {

    static final String TOKEN_ENV = "SHARDLIFT_IT_TOKEN";
    static final String WRONG_TOKEN_ENV = "SHARDLIFT_IT_WRONG_TOKEN";
    static final String UNSET_ENV = "SHARDLIFT_IT_TOKEN_UNSET";

    static String token;
    static final TestBackend backend = new TestBackend();
    static PrometheusMeterRegistry registry;
    static ControlPlane control;
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    /** Everything an operator or a client was shown: answers' bodies and headers, CLI output. */
    static final List<String> shown = Collections.synchronizedList(new ArrayList<>());
    static final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    static final Map<String, Level> savedLevels = new java.util.HashMap<>();

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        token = System.getenv(TOKEN_ENV);
        assertThat(token).as(TOKEN_ENV + " is set by failsafe (ops/pom.xml): run this test through Maven").isNotBlank();
        assertThat(System.getenv(UNSET_ENV)).as(UNSET_ENV + " must not be set").isNull();
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        logs.start();
        root.addAppender(logs);
        for (String name : List.of("io.shardlift", "io.vertx")) {
            Logger l = (Logger) LoggerFactory.getLogger(name);
            savedLevels.put(name, l.getLevel());
            l.setLevel(Level.DEBUG);
        }
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.counter("shardlift.test.things").increment(3);
        control = ControlPlane.start(new ControlSpec("127.0.0.1", 0, TOKEN_ENV), backend, registry);
    }

    @AfterAll
    static void stop() {
        if (control != null) {
            control.close();
        }
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.detachAppender(logs);
        savedLevels.forEach((name, level) -> ((Logger) LoggerFactory.getLogger(name)).setLevel(level));
    }

    @BeforeEach
    void reset() {
        backend.reset();
    }

    /** The token must never be shown, whatever a test did. */
    @AfterEach
    void tokenWasNeverShown() {
        assertTokenNowhere();
    }

    static void assertTokenNowhere() {
        synchronized (shown) {
            for (String s : shown) {
                assertThat(s).doesNotContain(token);
            }
        }
        for (ILoggingEvent e : List.copyOf(logs.list)) {
            assertThat(e.getFormattedMessage()).doesNotContain(token);
            for (IThrowableProxy t = e.getThrowableProxy(); t != null; t = t.getCause()) {
                assertThat(String.valueOf(t.getMessage())).doesNotContain(token);
            }
        }
    }

    record Answer(int status, String body, java.net.http.HttpHeaders headers) {
        Map<String, Object> json() throws Exception {
            return ControlRoutesAccess.MAPPER.readValue(body, new TypeReference<Map<String, Object>>() { });
        }
    }

    /** Jackson as the control plane uses it. */
    static final class ControlRoutesAccess {
        static final com.fasterxml.jackson.databind.ObjectMapper MAPPER = ControlRoutes.MAPPER;
    }

    static Answer call(ControlPlane cp, String method, String path, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + cp.port() + path))
                .timeout(Duration.ofSeconds(20)).method(method, HttpRequest.BodyPublishers.noBody());
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        shown.add(r.body());
        shown.add(r.headers().map().toString());
        return new Answer(r.statusCode(), r.body(), r.headers());
    }

    static Answer get(String path) throws Exception {
        return call(control, "GET", path, null);
    }

    static Answer post(String path, String authorization) throws Exception {
        return call(control, "POST", path, authorization);
    }

    /** POST with a body, and a Content-Type unless {@code contentType} is null. */
    static Answer postBody(String path, String contentType, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + control.port() + path))
                .timeout(Duration.ofSeconds(20)).header("Authorization", "Bearer " + token)
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        shown.add(r.body());
        return new Answer(r.statusCode(), r.body(), r.headers());
    }

    record Cli(int code, String out, String err) {
    }

    static Cli cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), args);
        shown.add(out.toString());
        shown.add(err.toString());
        return new Cli(code, out.toString(), err.toString());
    }

    Path spec(int port, String tokenEnv) throws Exception {
        Path f = Files.createTempFile(dir, "migrate", ".yml");
        Files.writeString(f, """
                version: "1.0"
                migrate:
                  connstr: "host=127.0.0.1 port=5432 dbname=demo user=postgres"
                  schemas:
                    - name: public
                      tables:
                        - {name: devices, type: global}
                cluster:
                  nodes:
                    - "host=127.0.0.1 port=6001 dbname=demo user=postgres"
                control:
                  listen: 127.0.0.1:%d
                  token_env: %s
                """.formatted(port, tokenEnv));
        return f;
    }

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    // ---- health, status, metrics

    @Test
    void portZeroPicksAFreePortAndTellsWhich() {
        assertThat(control.port()).isPositive();
        assertThat(control.listen()).isEqualTo("127.0.0.1:" + control.port());
    }

    @Test
    void liveWhileTheProcessRuns() throws Exception {
        Answer a = get("/health/live");
        assertThat(a.status()).isEqualTo(200);
        assertThat(a.json()).containsEntry("live", true);
    }

    @Test
    void readyOnlyWhenTheBackendSaysSo() throws Exception {
        Answer notReady = get("/health/ready");
        assertThat(notReady.status()).isEqualTo(503);
        assertThat(notReady.json()).containsEntry("ready", false).containsEntry("phase", "COPYING");
        assertThat((String) notReady.json().get("reason")).contains("phase COPYING", "caught up");

        backend.phase = "READY";
        backend.ready = true;
        Answer ready = get("/health/ready");
        assertThat(ready.status()).isEqualTo(200);
        assertThat(ready.json()).containsEntry("ready", true).containsEntry("phase", "READY").doesNotContainKey("reason");
    }

    @Test
    void statusIsTheBackendsMapAsJson() throws Exception {
        Answer a = get("/status");
        assertThat(a.status()).isEqualTo(200);
        assertThat(a.headers().firstValue("content-type")).hasValue("application/json; charset=utf-8");
        assertThat(a.body()).isEqualTo(ControlRoutes.MAPPER.writeValueAsString(backend.status()));

        backend.statusFailure = new IllegalStateException("node 2 unreachable");
        Answer failed = get("/status");
        assertThat(failed.status()).isEqualTo(500);
        assertThat(failed.json()).containsEntry("error", "status failed: node 2 unreachable");
    }

    @Test
    void metricsArePrometheusTextWithOurMetersAndVertxs() throws Exception {
        get("/health/live");
        Answer a = get("/metrics");
        assertThat(a.status()).isEqualTo(200);
        assertThat(a.headers().firstValue("content-type").orElse("")).startsWith("text/plain; version=0.0.4");
        assertThat(a.body()).contains("shardlift_test_things_total 3.0");
        assertThat(a.body()).containsPattern("(?m)^vertx_http_server_requests_total\\{.*route=\"/health/live\".*\\} [1-9]");
    }

    @Test
    void theDashboardIsServedFromTheJarWithNothingFromElsewhere() throws Exception {
        Answer page = get("/");
        assertThat(page.status()).isEqualTo(200);
        assertThat(page.headers().firstValue("content-type")).hasValue("text/html; charset=utf-8");
        assertThat(page.headers().firstValue("cache-control")).hasValue("no-store");
        assertThat(page.headers().firstValue("content-security-policy").orElse(""))
                .contains("default-src 'none'", "script-src 'self'", "connect-src 'self'");
        assertThat(page.body()).contains("<script src=\"/dashboard.js\"", "href=\"/dashboard.css\"", "id=\"lag-chart\"");
        // no CDN, no font service: the page works on a closed network
        assertThat(page.body()).doesNotContain("http://", "https://");
        Answer js = get("/dashboard.js");
        assertThat(js.status()).isEqualTo(200);
        assertThat(js.headers().firstValue("content-type")).hasValue("text/javascript; charset=utf-8");
        assertThat(js.body()).contains("'/status'", "'Authorization': 'Bearer ' + token");
        // the SVG namespace is a name, not a place the page goes to
        assertThat(js.body().replace("'http://www.w3.org/2000/svg'", "")).doesNotContain("http://", "https://",
                "localStorage", "sessionStorage", "document.cookie", "innerHTML");
        Answer css = get("/dashboard.css");
        assertThat(css.status()).isEqualTo(200);
        assertThat(css.headers().firstValue("content-type")).hasValue("text/css; charset=utf-8");
    }

    @Test
    void unknownPathsAndMethodsAnswerJson() throws Exception {
        Answer missing = get("/nope");
        assertThat(missing.status()).isEqualTo(404);
        assertThat((String) missing.json().get("error")).contains("no such endpoint: /nope");
        Answer wrongMethod = call(control, "DELETE", "/cutover", "Bearer " + token);
        assertThat(wrongMethod.status()).isEqualTo(405);
        HttpResponse<String> withBody = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + control.port() + "/cutover"))
                .header("Authorization", "Bearer " + token).POST(HttpRequest.BodyPublishers.ofString("x".repeat(10_000))).build(),
                HttpResponse.BodyHandlers.ofString());
        shown.add(withBody.body());
        assertThat(withBody.statusCode()).isEqualTo(413);
        assertThat(withBody.body()).contains("the body of POST /cutover is limited to 4096 bytes");
        assertThat(backend.cutoverCalls).isEmpty();
    }

    // ---- POST /cutover

    @Test
    void cutoverWithoutTokenIs401AndCallsNothing() throws Exception {
        for (String auth : new String[] {null, "", "Bearer ", "Basic " + token, token}) {
            Answer a = post("/cutover", auth);
            assertThat(a.status()).as(String.valueOf(auth == null ? null : auth.replace(token, "<token>"))).isEqualTo(401);
            assertThat(a.headers().firstValue("www-authenticate")).hasValue("Bearer realm=\"shardlift\"");
            assertThat((String) a.json().get("error")).contains("Authorization: Bearer <token>", TOKEN_ENV);
        }
        assertThat(backend.cutoverCalls).isEmpty();
    }

    @Test
    void rollbackAndCompleteTakeTheTokenAndAnswerAsTheCutoverDoes() throws Exception {
        assertThat(post("/rollback", null).status()).isEqualTo(401);
        assertThat(post("/rollback?dryRun=true", "Bearer " + token + "x").status()).isEqualTo(401);
        assertThat(post("/complete", null).status()).isEqualTo(401);
        assertThat(backend.rollbackCalls).isEmpty();
        assertThat(backend.completeCalls).isZero();

        Answer dry = post("/rollback?dryRun=true", "Bearer " + token);
        assertThat(dry.status()).as(dry.body()).isEqualTo(200);
        assertThat(dry.json().get("dryRun")).isEqualTo(true);
        assertThat(post("/rollback?dry_run=true", "Bearer " + token).status()).as("a misspelt parameter").isEqualTo(400);
        assertThat(backend.rollbackCalls).containsExactly(true);

        Answer closed = post("/complete", "Bearer " + token);
        assertThat(closed.status()).as(closed.body()).isEqualTo(200);
        assertThat(closed.json().get("leftOnSource")).asString().contains("fenced");
        Answer again = post("/complete", "Bearer " + token);
        assertThat(again.status()).isEqualTo(409);
        assertThat((String) again.json().get("error")).contains("closed already");
        Answer late = post("/rollback", "Bearer " + token);
        assertThat(late.status()).isEqualTo(409);
        assertThat((String) late.json().get("error")).contains("rollback window was closed");
    }

    @Test
    void cutoverWithWrongTokenIs401AndCallsNothing() throws Exception {
        for (String wrong : new String[] {token + "x", token.substring(1), "guess", token.toUpperCase()}) {
            Answer a = post("/cutover?dryRun=true", "Bearer " + wrong);
            assertThat(a.status()).isEqualTo(401);
            assertThat((String) a.json().get("error")).contains("does not match");
            assertThat(a.body()).doesNotContain(wrong);
        }
        assertThat(backend.cutoverCalls).isEmpty();
        assertThat(logs.list).anySatisfy(e -> assertThat(e.getFormattedMessage()).contains("refused: wrong bearer token"));
    }

    @Test
    void cutoverWithTheTokenRunsOnTheCutoverThread() throws Exception {
        Answer a = post("/cutover", "Bearer " + token);
        assertThat(a.status()).isEqualTo(200);
        assertThat(backend.cutoverCalls).containsExactly(false);
        assertThat(backend.cutoverThreads).singleElement().asString().startsWith("shardlift-cutover").doesNotContain("eventloop");
        CutoverReport r = CutoverReport.fromMap(a.json());
        assertThat(r).isEqualTo(TestBackend.steps(false));
        assertThat(a.json()).containsEntry("ok", true).containsEntry("writeFreezeMs", 290);
        // without a pooler nothing was paused: the field is there, null (CutoverPoolerIT has it with one)
        assertThat(a.json()).containsEntry("poolerPauseMs", null).containsEntry("probe", null);

        Answer state = get("/cutover");
        assertThat(state.status()).isEqualTo(200);
        assertThat(state.json()).containsEntry("state", "DONE").containsEntry("calls", 1);
    }

    @Test
    void dryRunIsPassedToTheBackend() throws Exception {
        Answer a = post("/cutover?dryRun=true", "Bearer " + token);
        assertThat(a.status()).isEqualTo(200);
        assertThat(a.json()).containsEntry("dryRun", true).containsEntry("writeFreezeMs", 0);
        Answer b = post("/cutover?dryRun=false", "Bearer " + token);
        assertThat(b.status()).isEqualTo(200);
        assertThat(backend.cutoverCalls).containsExactly(true, false);
    }

    @Test
    void misspeltDryRunIsRefusedNotRunForReal() throws Exception {
        Answer a = post("/cutover?dry_run=true", "Bearer " + token);
        assertThat(a.status()).isEqualTo(400);
        assertThat((String) a.json().get("error")).contains("unknown query parameter dry_run; did you mean dryRun?");
        Answer b = post("/cutover?dryRun=yes", "Bearer " + token);
        assertThat(b.status()).isEqualTo(400);
        assertThat(backend.cutoverCalls).isEmpty();
    }

    @Test
    void parametersInABodyAreHonouredNeverIgnored() throws Exception {
        // what curl -d and a JSON client send: each a dry run, never the real cutover
        Answer form = postBody("/cutover", "application/x-www-form-urlencoded", "dryRun=true");
        assertThat(form.status()).as(form.body()).isEqualTo(200);
        assertThat(form.json()).containsEntry("dryRun", true);
        Answer json = postBody("/cutover", "application/json", "{\"dryRun\": true}");
        assertThat(json.status()).as(json.body()).isEqualTo(200);
        assertThat(json.json()).containsEntry("dryRun", true);
        Answer agree = postBody("/cutover?dryRun=true", "application/json; charset=utf-8", "{\"dryRun\": true}");
        assertThat(agree.status()).as(agree.body()).isEqualTo(200);
        assertThat(backend.cutoverCalls).containsExactly(true, true, true);

        backend.reset();
        for (String[] bad : new String[][] {
                {"/cutover", "text/plain", "dryRun=true", "Content-Type is 'text/plain'"},
                {"/cutover", null, "dryRun=true", "Content-Type is missing"},
                {"/cutover", "application/json", "{\"dryRun\": \"maybe\"}", "dryRun must be true or false"},
                {"/cutover", "application/json", "{\"dry_run\": true}", "unknown JSON field dry_run; did you mean dryRun?"},
                {"/cutover", "application/json", "not json", "not valid JSON"},
                {"/cutover", "application/x-www-form-urlencoded", "dryRun=1", "dryRun must be true or false"},
                {"/cutover", "application/x-www-form-urlencoded", "dryRun=true&force=1", "unknown form field force"},
                {"/cutover?dryRun=false", "application/json", "{\"dryRun\": true}", "dryRun is false in the query but true in the body"}}) {
            Answer a = postBody(bad[0], bad[1], bad[2]);
            assertThat(a.status()).as(String.join(" ", java.util.Arrays.asList(bad))).isEqualTo(400);
            assertThat((String) a.json().get("error")).contains(bad[3]);
        }
        assertThat(backend.cutoverCalls).isEmpty();
    }

    @Test
    void aCutoverTheStateDoesNotAllowIs409WithTheRecordedCutover() throws Exception {
        Map<String, Object> recorded = new java.util.LinkedHashMap<>();
        recorded.put("state", "CUT_OVER");
        recorded.put("id", "c-1a2b3c4d");
        recorded.put("at", "2026-12-04T19:00:00Z");
        backend.cutoverFailure = new CutoverConflict("cutover refused: the cutover c-1a2b3c4d is done (CUT_OVER, recorded"
                + " 2026-12-04T19:00:00Z)", recorded);
        Answer a = post("/cutover?dryRun=true", "Bearer " + token);
        assertThat(a.status()).isEqualTo(409);
        assertThat((String) a.json().get("error")).contains("c-1a2b3c4d is done");
        assertThat(a.json().get("cutover")).isEqualTo(recorded);
        Cli viaCli = cli("cutover", "--config", spec(control.port(), TOKEN_ENV).toString());
        assertThat(viaCli.code()).as(viaCli.err()).isEqualTo(ExitCodes.CONTROL);
        assertThat(viaCli.err()).contains("answered 409", "c-1a2b3c4d is done");
        // a refusal, not a failure: nothing for the operator to look into
        assertThat(List.copyOf(logs.list)).filteredOn(e -> e.getFormattedMessage().contains("c-1a2b3c4d"))
                .isNotEmpty().allSatisfy(e -> assertThat(e.getLevel()).isEqualTo(Level.INFO));
    }

    @Test
    void cutoverTimeoutOutOfRangeIsAUsageError() throws Exception {
        Path f = spec(control.port(), TOKEN_ENV);
        for (String bad : new String[] {"0", "-5", "86401", "soon"}) {
            Cli c = cli("cutover", "--config", f.toString(), "--dry-run", "--timeout", bad);
            assertThat(c.code()).as(bad + ": " + c.err()).isEqualTo(ExitCodes.USAGE);
            assertThat(c.err()).as(bad).contains("--timeout").doesNotContain("\tat ", "Exception");
        }
        assertThat(cli("cutover", "--config", f.toString(), "--dry-run", "--timeout", "0").err()).contains("--timeout must be 1 to 86400 seconds but is 0");
        assertThat(backend.cutoverCalls).isEmpty();
    }

    @Test
    void refusedIs422WithTheReasonAndFailedIs500() throws Exception {
        backend.cutover = dryRun -> CutoverReport.refused(dryRun, "lag 12 s is above the allowed 5 s",
                List.of(new CutoverReport.Step("precheck-lag", CutoverReport.StepStatus.REFUSED, 4, "lag 12 s, allowed 5 s")));
        Answer refused = post("/cutover", "Bearer " + token);
        assertThat(refused.status()).isEqualTo(422);
        assertThat(refused.json()).containsEntry("outcome", "REFUSED").containsEntry("reason", "lag 12 s is above the allowed 5 s");

        backend.cutoverFailure = new IllegalStateException("node 3 went away");
        Answer failed = post("/cutover", "Bearer " + token);
        assertThat(failed.status()).isEqualTo(500);
        assertThat((String) failed.json().get("error")).startsWith("cutover failed: node 3 went away");
    }

    @Test
    void onlyOneCutoverAtATime() throws Exception {
        backend.entered = new CountDownLatch(1);
        backend.release = new CountDownLatch(1);
        CompletableFuture<Answer> first = CompletableFuture.supplyAsync(() -> {
            try {
                return post("/cutover", "Bearer " + token);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(backend.entered.await(10, TimeUnit.SECONDS)).as("first cutover started").isTrue();
        // the event loop stays free while the cutover runs
        assertThat(get("/health/live").status()).isEqualTo(200);
        Answer second = post("/cutover?dryRun=true", "Bearer " + token);
        assertThat(second.status()).isEqualTo(409);
        assertThat((String) second.json().get("error")).contains("a cutover is already running", "GET /cutover");
        Cli viaCli = cli("cutover", "--config", spec(control.port(), TOKEN_ENV).toString());
        assertThat(viaCli.code()).as(viaCli.err()).isEqualTo(ExitCodes.CONTROL);
        assertThat(viaCli.err()).contains("answered 409", "already running");
        backend.release.countDown();
        assertThat(first.get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
        assertThat(backend.cutoverCalls).containsExactly(false);
        // and once it is over, the next one may run
        assertThat(post("/cutover?dryRun=true", "Bearer " + token).status()).isEqualTo(200);
    }

    @Test
    void tokenVariableUnsetDisablesCutoverAndSaysWhatToSet() throws Exception {
        // a registry of its own: one Vert.x per registry, as in shardlift run
        try (ControlPlane noToken = ControlPlane.start(new ControlSpec("127.0.0.1", 0, UNSET_ENV), backend,
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT))) {
            for (String auth : new String[] {null, "Bearer " + token, "Bearer "}) {
                Answer a = call(noToken, "POST", "/cutover?dryRun=true", auth);
                assertThat(a.status()).isEqualTo(503);
                assertThat((String) a.json().get("error")).contains("the environment variable " + UNSET_ENV, "not set",
                        "set " + UNSET_ENV);
            }
            assertThat(call(noToken, "GET", "/health/live", null).status()).isEqualTo(200);
            assertThat(backend.cutoverCalls).isEmpty();
        }
    }

    @Test
    void busyPortFailsStartNamingTheAddressAndTheKey() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            assertThatThrownBy(() -> ControlPlane.start(new ControlSpec("127.0.0.1", port, TOKEN_ENV), backend,
                    new PrometheusMeterRegistry(PrometheusConfig.DEFAULT)))
                    .isInstanceOf(BindException.class)
                    .hasMessageContaining("127.0.0.1:" + port)
                    .hasMessageContaining("control.listen")
                    .hasMessageContaining("in use");
        }
        // the one already running is not disturbed
        assertThat(get("/health/live").status()).isEqualTo(200);
    }

    @Test
    void tokenNeverAppearsInAnswersOrLogs() throws Exception {
        post("/cutover", null);
        post("/cutover", "Bearer " + token + "-not");
        post("/cutover?dryRun=true&token=" + token, "Bearer " + token);
        post("/cutover?dryRun=" + token, "Bearer " + token);
        post("/cutover?dryRun=true", "Bearer " + token);
        backend.cutoverFailure = new IllegalStateException("broken");
        post("/cutover", "Bearer " + token);
        cli("cutover", "--config", spec(control.port(), TOKEN_ENV).toString(), "--dry-run");
        cli("cutover", "--config", spec(control.port(), WRONG_TOKEN_ENV).toString());
        // the logs were captured (this test would prove nothing otherwise) ...
        assertThat(logs.list).anySatisfy(e -> assertThat(e.getFormattedMessage()).contains("refused: no bearer token"));
        assertThat(logs.list).anySatisfy(e -> assertThat(e.getFormattedMessage()).contains("cutover dry run done"));
        assertThat(logs.list).anySatisfy(e -> assertThat(e.getFormattedMessage()).contains("cutover failed"));
        // ... and hold no token, nor does any answer (checked after every test too)
        assertTokenNowhere();
    }

    @Test
    void closeLetsARunningCutoverFinishThenInterruptsPastTheGrace() throws Exception {
        for (long grace : new long[] {10_000, 300}) {
            TestBackend own = new TestBackend();
            own.entered = new CountDownLatch(1);
            own.release = new CountDownLatch(1);
            ControlPlane cp = ControlPlane.start(new ControlSpec("127.0.0.1", 0, TOKEN_ENV), own,
                    new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), System::getenv, grace);
            CompletableFuture.runAsync(() -> {
                try {
                    call(cp, "POST", "/cutover", "Bearer " + token);
                } catch (Exception e) {
                    // the connection goes away with the server
                }
            });
            assertThat(own.entered.await(10, TimeUnit.SECONDS)).isTrue();
            if (grace > 1000) {
                CompletableFuture.delayedExecutor(300, TimeUnit.MILLISECONDS).execute(own.release::countDown);
            }
            cp.close();
            assertThat(own.finished).as("finished, grace " + grace).isEqualTo(grace > 1000);
            assertThat(own.interrupted).as("interrupted, grace " + grace).isEqualTo(grace < 1000);
        }
    }

    // ---- the CLI against the running control plane

    @Test
    void statusCommandPrintsASummaryOrTheJson() throws Exception {
        Path f = spec(control.port(), TOKEN_ENV);
        Cli summary = cli("status", "--config", f.toString());
        assertThat(summary.code()).as(summary.err()).isZero();
        assertThat(summary.out()).startsWith("phase: COPYING\n").contains("tables:\n", "table=public.events", "lag:\n",
                "  seconds: 0.25", "lastError: -");

        Cli json = cli("status", "--config", f.toString(), "--json");
        assertThat(json.code()).as(json.err()).isZero();
        assertThat(ControlRoutes.MAPPER.readValue(json.out(), new TypeReference<Map<String, Object>>() { }))
                .containsEntry("phase", "COPYING").containsKey("tables");
    }

    @Test
    void cutoverCommandPrintsStepsAndExitsByOutcome() throws Exception {
        Path f = spec(control.port(), TOKEN_ENV);
        Cli dry = cli("cutover", "--config", f.toString(), "--dry-run");
        assertThat(dry.code()).as(dry.err()).isZero();
        assertThat(dry.out()).contains("cutover dry run at http://127.0.0.1:" + control.port(), "precheck-lag", "dry_run",
                "lag 0.1 s, allowed 5 s", "result: DONE (dry run); steps 295 ms, writes frozen 0 ms");

        Cli real = cli("cutover", "--config", f.toString());
        assertThat(real.code()).as(real.err()).isZero();
        assertThat(real.out()).contains("install-write-fence", "result: DONE; steps 295 ms, writes frozen 290 ms");
        assertThat(backend.cutoverCalls).containsExactly(true, false);

        backend.cutover = dryRun -> CutoverReport.refused(dryRun, "lag 12 s is above the allowed 5 s",
                List.of(new CutoverReport.Step("precheck-lag", CutoverReport.StepStatus.REFUSED, 4, "")));
        Cli refused = cli("cutover", "--config", f.toString());
        assertThat(refused.code()).isEqualTo(ExitCodes.CUTOVER_REFUSED);
        assertThat(refused.out()).contains("result: REFUSED: lag 12 s is above the allowed 5 s");
        assertThat(refused.err()).contains("cutover refused: lag 12 s is above the allowed 5 s");

        backend.cutoverFailure = new IllegalStateException("node 3 went away");
        Cli failed = cli("cutover", "--config", f.toString());
        assertThat(failed.code()).isEqualTo(ExitCodes.CUTOVER_FAILED);
        assertThat(failed.err()).contains("cutover failed: node 3 went away");
    }

    @Test
    void cutoverCommandWithWrongOrMissingToken() throws Exception {
        Cli wrong = cli("cutover", "--config", spec(control.port(), WRONG_TOKEN_ENV).toString(), "--dry-run");
        assertThat(wrong.code()).isEqualTo(ExitCodes.CONTROL);
        assertThat(wrong.err()).contains("refused the token in " + WRONG_TOKEN_ENV, "does not match");

        Cli unset = cli("cutover", "--config", spec(control.port(), UNSET_ENV).toString(), "--dry-run");
        assertThat(unset.code()).isEqualTo(ExitCodes.CONFIG);
        assertThat(unset.err()).contains("the environment variable " + UNSET_ENV + " (control.token_env) is not set");
        assertThat(backend.cutoverCalls).isEmpty();
    }

    @Test
    void commandsHaveHelpWithTheirExitCodes() {
        Cli status = cli("status", "--help");
        assertThat(status.code()).isZero();
        assertThat(status.out()).contains("Usage: shardlift status", "--json", "7   the control plane could not be reached");
        Cli cutover = cli("cutover", "--help");
        assertThat(cutover.code()).isZero();
        assertThat(cutover.out()).contains("Usage: shardlift cutover", "--dry-run", "SHARDLIFT_TOKEN", "8   refused",
                "source LOCK", "A cutover runs once");
        assertThat(cli("--help").out()).contains("status", "cutover");
    }

    @Test
    void commandsNameTheAddressWhenNothingListens() throws Exception {
        int port = freePort();
        Cli status = cli("status", "--config", spec(port, TOKEN_ENV).toString());
        assertThat(status.code()).isEqualTo(ExitCodes.CONTROL);
        assertThat(status.err()).contains("cannot reach the control plane at http://127.0.0.1:" + port
                + " (control.listen 127.0.0.1:" + port + "): connection refused; is shardlift run running with this spec?");
        Cli cutover = cli("cutover", "--config", spec(port, TOKEN_ENV).toString(), "--dry-run");
        assertThat(cutover.code()).isEqualTo(ExitCodes.CONTROL);
        assertThat(cutover.err()).contains("cannot reach the control plane at http://127.0.0.1:" + port);
    }
}
