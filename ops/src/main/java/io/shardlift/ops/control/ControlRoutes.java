package io.shardlift.ops.control;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.shardlift.ops.cutover.CutoverReport;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The endpoints. Handlers run on the event loop and do no more there than check headers and write
 * answers: every call into the backend goes to a worker, the cutover to its own single thread.
 */
final class ControlRoutes {

    private static final Logger log = LoggerFactory.getLogger(ControlPlane.class);

    /** PrometheusTextFormatWriter.CONTENT_TYPE (that class is a runtime-only dependency). */
    static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
    static final String JSON = "application/json; charset=utf-8";
    static final long MAX_BODY_BYTES = 4096;

    static final ObjectMapper MAPPER = new ObjectMapper()
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

    /** The cutover in progress: who asked and when, for the 409 answer. Null when none runs. */
    private record Running(String what, boolean dryRun, Instant since) {
    }

    private final Vertx vertx;
    private final ControlBackend backend;
    private final PrometheusMeterRegistry registry;
    private final BearerToken token;
    private final WorkerExecutor cutoverThread;
    private final AtomicReference<Running> running = new AtomicReference<>();

    ControlRoutes(Vertx vertx, ControlBackend backend, PrometheusMeterRegistry registry, BearerToken token,
                  WorkerExecutor cutoverThread) {
        this.vertx = vertx;
        this.backend = backend;
        this.registry = registry;
        this.token = token;
        this.cutoverThread = cutoverThread;
    }

    Router router() {
        Router r = Router.router(vertx);
        Dashboard.PAGES.forEach((path, page) -> r.get(path).handler(ctx -> page.send(ctx.response())));
        r.get("/health/live").handler(ctx -> json(ctx, 200, Map.of("live", true)));
        r.get("/health/ready").handler(this::ready);
        r.get("/status").handler(ctx -> blocking(ctx, "status", backend::status, s -> json(ctx, 200, s)));
        r.get("/metrics").handler(ctx -> blocking(ctx, "metrics", registry::scrape,
                text -> ctx.response().setStatusCode(200).putHeader(HttpHeaders.CONTENT_TYPE, PROMETHEUS_TEXT).end(text)));
        r.get("/cutover").handler(ctx -> blocking(ctx, "cutover state", backend::cutoverState, s -> json(ctx, 200, s)));
        // parameters may come in a small body (a form or JSON); it is read, bounded, and parsed by CutoverRequest
        r.post("/cutover").handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES).setMergeFormAttributes(false))
                .handler(this::cutover);
        r.post("/complete").handler(this::complete);
        r.post("/rollback").handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES).setMergeFormAttributes(false))
                .handler(this::rollback);
        r.errorHandler(404, ctx -> error(ctx, 404, "no such endpoint: " + ctx.request().path()
                + " (there are GET / (the dashboard), /health/live, /health/ready, /status, /metrics, /cutover and POST /cutover, POST /rollback, POST /complete)"));
        r.errorHandler(413, ctx -> error(ctx, 413, "the body of POST /cutover is limited to " + MAX_BODY_BYTES
                + " bytes; it takes only dryRun=true or dryRun=false"));
        r.errorHandler(405, ctx -> error(ctx, 405, ctx.request().method() + " is not allowed on " + ctx.request().path()));
        r.errorHandler(500, ctx -> {
            Throwable f = ctx.failure();
            log.warn("control plane: {} {} failed: {}", ctx.request().method(), ctx.request().path(), f == null ? "?" : f.toString());
            error(ctx, 500, "internal error" + (f == null ? "" : ": " + f.getMessage()));
        });
        return r;
    }

    private void ready(RoutingContext ctx) {
        blocking(ctx, "readiness", () -> {
            Map<String, Object> m = new LinkedHashMap<>();
            String phase = backend.phase();
            boolean ready = backend.ready();
            m.put("ready", ready);
            m.put("phase", phase);
            if (!ready) {
                m.put("reason", "phase " + phase + ": ready once the copy is done and the changes have caught up (in the rollback"
                        + " window: once the reverse stream has caught up)");
            }
            return m;
        }, m -> json(ctx, Boolean.TRUE.equals(m.get("ready")) ? 200 : 503, m));
    }

    /** A cutover or a rollback: the backend's operation, run on the cutover thread. */
    interface Operation {
        CutoverReport run(boolean dryRun) throws Exception;
    }

    private void cutover(RoutingContext ctx) {
        operation(ctx, "cutover", backend::cutover);
    }

    private void rollback(RoutingContext ctx) {
        operation(ctx, "rollback", backend::rollback);
    }

    /** POST /complete: the same token; refused (409) while a cutover or a rollback runs, or when the state does not fit. */
    private void complete(RoutingContext ctx) {
        String from = String.valueOf(ctx.request().remoteAddress());
        if (!token.available()) {
            error(ctx, 503, token.unavailableReason());
            return;
        }
        if (token.check(ctx.request().getHeader(HttpHeaders.AUTHORIZATION)) != BearerToken.Check.ACCEPTED) {
            log.warn("POST /complete from {} refused: no or wrong bearer token", from);
            ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"shardlift\"");
            error(ctx, 401, "POST /complete needs the header Authorization: Bearer <token>; the token is the value of "
                    + token.variable() + " on the host that runs shardlift");
            return;
        }
        Running other = running.get();
        if (other != null) {
            error(ctx, 409, "complete refused: a " + other.what() + (other.dryRun() ? " dry run" : "") + " is running (since "
                    + other.since() + "); ask again once it ended");
            return;
        }
        log.info("complete requested from {}", from);
        cutoverThread.executeBlocking(backend::complete, false).onComplete(ar -> {
            if (ar.failed() && ar.cause() instanceof CutoverConflict c) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("error", c.getMessage());
                m.put("cutover", c.cutover());
                json(ctx, 409, m);
            } else if (ar.failed() && ar.cause() instanceof IllegalStateException e) {
                error(ctx, 409, "complete refused: " + e.getMessage());
            } else if (ar.failed()) {
                log.error("complete failed: {}", ar.cause().toString(), ar.cause());
                error(ctx, 500, "complete failed: " + ar.cause().getMessage());
            } else {
                json(ctx, 200, ar.result());
            }
        });
    }

    /** POST /cutover and POST /rollback: the same token, parameters, one-at-a-time rule and answers. */
    private void operation(RoutingContext ctx, String what, Operation op) {
        String from = String.valueOf(ctx.request().remoteAddress());
        if (!token.available()) {
            log.warn("POST /" + what + " from {} refused: {}", from, token.unavailableReason());
            error(ctx, 503, token.unavailableReason());
            return;
        }
        BearerToken.Check check = token.check(ctx.request().getHeader(HttpHeaders.AUTHORIZATION));
        if (check != BearerToken.Check.ACCEPTED) {
            String why = check == BearerToken.Check.MISSING ? "no bearer token" : "wrong bearer token";
            log.warn("POST /" + what + " from {} refused: {}", from, why);
            ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"shardlift\"");
            error(ctx, 401, (check == BearerToken.Check.MISSING
                    ? "POST /" + what + " needs the header Authorization: Bearer <token>"
                    : "the bearer token does not match")
                    + "; the token is the value of " + token.variable() + " on the host that runs shardlift");
            return;
        }
        CutoverRequest request;
        try {
            io.vertx.core.buffer.Buffer body = ctx.body() == null ? null : ctx.body().buffer();
            request = CutoverRequest.parse(queryOf(ctx.queryParams()), ctx.request().getHeader(HttpHeaders.CONTENT_TYPE),
                    body == null ? new byte[0] : body.getBytes());
        } catch (IllegalArgumentException e) {
            error(ctx, 400, e.getMessage());
            return;
        }
        Running mine = new Running(what, request.dryRun(), Instant.now());
        if (!running.compareAndSet(null, mine)) {
            Running other = running.get();
            String busy = other == null ? "a cutover or rollback" : "a " + other.what() + (other.dryRun() ? " dry run" : "");
            log.info("POST /" + what + " from {} refused: {} is already running", from, busy);
            error(ctx, 409, busy + " is already running" + (other == null ? "" : " (since " + other.since() + ")")
                    + "; only one runs at a time: GET /cutover shows its progress");
            return;
        }
        boolean dryRun = request.dryRun();
        log.info("{}{} requested from {}", what, dryRun ? " dry run" : "", from);
        long t0 = System.nanoTime();
        cutoverThread.executeBlocking(() -> op.run(dryRun), false)
                .onComplete(ar -> {
                    running.set(null);
                    long ms = (System.nanoTime() - t0) / 1_000_000;
                    if (ar.failed() && ar.cause() instanceof CutoverConflict c) {
                        log.info("{}{} from {} refused: {}", what, dryRun ? " dry run" : "", from, c.getMessage());
                        Map<String, Object> m = new LinkedHashMap<>();
                        m.put("error", c.getMessage());
                        m.put("cutover", c.cutover());
                        json(ctx, 409, m);
                        return;
                    }
                    if (ar.failed()) {
                        Throwable e = ar.cause();
                        log.error("{}{} failed after {} ms: {}", what, dryRun ? " dry run" : "", ms, e.toString(), e);
                        error(ctx, 500, what + " failed: " + e.getMessage() + " (GET /cutover shows how far it got)");
                        return;
                    }
                    CutoverReport result = ar.result();
                    if (result == null) {
                        log.error("{}{}: the backend returned no result", what, dryRun ? " dry run" : "");
                        error(ctx, 500, what + " failed: the backend returned no result");
                        return;
                    }
                    switch (result.outcome()) {
                        case DONE, DRY_RUN -> log.info("{}{} done in {} ms, writes frozen {} ms", what, dryRun ? " dry run" : "", ms,
                                result.freezeMillis());
                        case REFUSED -> log.warn("{}{} refused: {}", what, dryRun ? " dry run" : "", result.reason().orElse(""));
                        case FAILED -> log.error("{}{} failed after {} ms: {}", what, dryRun ? " dry run" : "", ms,
                                result.reason().orElse(""));
                    }
                    json(ctx, statusOf(result), result.toMap());
                });
    }

    /**
     * Waits until no cutover runs, at most {@code millis}.
     *
     * @return true when none runs
     */
    boolean awaitNoCutover(long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000;
        while (running.get() != null) {
            if (System.nanoTime() >= deadline) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }

    boolean cutoverRunning() {
        return running.get() != null;
    }

    /** DONE (or a dry run's DRY_RUN) 200; REFUSED 422 (nothing changed, try later); FAILED 500. */
    static int statusOf(CutoverReport result) {
        return switch (result.outcome()) {
            case DONE, DRY_RUN -> 200;
            case REFUSED -> 422;
            case FAILED -> 500;
        };
    }

    static Map<String, List<String>> queryOf(MultiMap params) {
        Map<String, List<String>> q = new LinkedHashMap<>();
        for (String name : params.names()) {
            q.put(name, params.getAll(name));
        }
        return q;
    }

    private interface Answer<T> {
        void send(T value);
    }

    /** Runs {@code call} on a worker and answers with its value, or 500 naming {@code what} failed. */
    private <T> void blocking(RoutingContext ctx, String what, Callable<T> call, Answer<T> answer) {
        Future<T> f = vertx.executeBlocking(call, false);
        f.onComplete(ar -> {
            if (ar.succeeded()) {
                answer.send(ar.result());
            } else {
                log.warn("control plane: {} failed: {}", what, ar.cause().toString());
                error(ctx, 500, what + " failed: " + ar.cause().getMessage());
            }
        });
    }

    private static void json(RoutingContext ctx, int status, Object body) {
        String text;
        try {
            text = MAPPER.writeValueAsString(body);
        } catch (JsonProcessingException e) {
            log.warn("control plane: {} {}: the answer is not JSON-able: {}", ctx.request().method(), ctx.request().path(),
                    e.getOriginalMessage());
            status = 500;
            text = "{\"error\":\"the answer is not JSON-able\"}";
        }
        ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, JSON).end(text);
    }

    private static void error(RoutingContext ctx, int status, String message) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("error", message);
        json(ctx, status, m);
    }
}
