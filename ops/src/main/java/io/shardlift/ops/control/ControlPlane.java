package io.shardlift.ops.control;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.shardlift.core.spec.ControlSpec;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.file.FileSystemOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.io.IOException;
import java.net.BindException;
import java.util.EnumSet;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP control plane of {@code shardlift run}: health, status, Prometheus metrics and the token-protected
 * cutover, over a {@link ControlBackend} the migration implements. HTTPS when {@code control.tls} gives a PEM
 * certificate and key (the spec refuses a non-loopback address without it, unless allow_plain_http opts in).
 *
 * <table>
 *   <caption>Endpoints</caption>
 *   <tr><td>GET /</td><td>the operator's page ({@link Dashboard}): it polls /status and /cutover</td></tr>
 *   <tr><td>GET /health/live</td><td>200 while the process runs</td></tr>
 *   <tr><td>GET /health/ready</td><td>200 when {@link ControlBackend#ready()}, else 503 with the phase and reason</td></tr>
 *   <tr><td>GET /status</td><td>200, {@link ControlBackend#status()} as JSON</td></tr>
 *   <tr><td>GET /metrics</td><td>200, the registry in Prometheus text format (Vert.x's own meters included)</td></tr>
 *   <tr><td>POST /cutover[?dryRun=true]</td><td>needs {@code Authorization: Bearer <token>}: 200 done, 422 refused,
 *       500 failed (body: {@link io.shardlift.ops.cutover.CutoverReport#toMap()}); 400 bad query or body ({@link CutoverRequest}), 401 no or
 *       wrong token, 409 one already running or the cutover done ({@link CutoverConflict}), 503 token variable not
 *       set</td></tr>
 *   <tr><td>GET /cutover</td><td>200, {@link ControlBackend#cutoverState()}</td></tr>
 * </table>
 *
 * <p>The token is read once, at start, from the environment variable {@code control.token_env} names; only its
 * digest is kept, compared in constant time, and it is never logged nor answered. Without it POST /cutover
 * answers 503 and accepts nothing. Errors are JSON: {@code {"error": "..."}}.
 *
 * <p>Wiring it into {@code shardlift run} (in {@code RunCommand}): create one {@code PrometheusMeterRegistry}
 * (in place of the {@code SimpleMeterRegistry} there now), hand it to {@code Migration.start} as its registry
 * and to {@link #start}, with an adapter of the migration as the backend. Close the control plane before the
 * migration, in the same {@code finally} and shutdown hook, so a running cutover finishes against a live
 * migration ({@link #close} gives it 30 s):
 * <pre>{@code
 * PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
 * Migration m = Migration.start(plan, options, registry);
 * try (ControlPlane control = ControlPlane.start(plan.spec().control(), new MigrationBackend(m), registry)) {
 *     ... the status loop ...
 * }
 * }</pre>
 * A {@link BindException} from {@link #start} (control.listen in use, or not an address of this host) is a
 * configuration problem: report its message, which names the address and the key (exit code 3), and close the
 * migration just started; run is resumable, so nothing is lost.
 */
public final class ControlPlane implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ControlPlane.class);

    private static final long START_TIMEOUT_SECONDS = 10;
    private static final long CLOSE_TIMEOUT_SECONDS = 10;
    /** How long close() lets a running cutover finish before interrupting it: a freeze is sub-second by design. */
    static final long CUTOVER_GRACE_MILLIS = 30_000;
    /** Waiting for every partition to pass the cutover marker may take a while: only warn past this. */
    private static final long CUTOVER_WARN_MINUTES = 30;

    private final Vertx vertx;
    private final HttpServer server;
    private final ControlRoutes routes;
    private final String host;
    private final long cutoverGraceMillis;

    private ControlPlane(Vertx vertx, HttpServer server, ControlRoutes routes, String host, long cutoverGraceMillis) {
        this.vertx = vertx;
        this.server = server;
        this.routes = routes;
        this.host = host;
        this.cutoverGraceMillis = cutoverGraceMillis;
    }

    /**
     * Starts serving on {@code spec.host():spec.port()}; port 0 picks a free port ({@link #port()} tells which).
     * Vert.x's own meters (HTTP server requests by route and code, worker pools) go to {@code registry}.
     *
     * @throws BindException when control.listen is in use or not an address of this host; the message names both
     * @throws IOException   when the server could not start for another reason
     */
    public static ControlPlane start(ControlSpec spec, ControlBackend backend, PrometheusMeterRegistry registry) throws IOException {
        return start(spec, backend, registry, System::getenv, CUTOVER_GRACE_MILLIS);
    }

    /**
     * As {@link #start(ControlSpec, ControlBackend, PrometheusMeterRegistry)}, with the token's variable looked up in
     * {@code environment} (the embedded demo hands it a token it made; tests too).
     */
    public static ControlPlane start(ControlSpec spec, ControlBackend backend, PrometheusMeterRegistry registry,
                                     Function<String, String> environment) throws IOException {
        return start(spec, backend, registry, environment, CUTOVER_GRACE_MILLIS);
    }

    /** As {@link #start(ControlSpec, ControlBackend, PrometheusMeterRegistry)}, with the environment and grace given (tests). */
    static ControlPlane start(ControlSpec spec, ControlBackend backend, PrometheusMeterRegistry registry,
                              Function<String, String> environment, long cutoverGraceMillis) throws IOException {
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(registry, "registry");
        BearerToken token = BearerToken.fromEnvironment(spec.tokenEnv(), environment);
        Vertx vertx = Vertx.builder()
                .with(new VertxOptions()
                        // a handful of requests a minute: one event loop, two workers for the backend calls
                        .setEventLoopPoolSize(1)
                        .setWorkerPoolSize(2)
                        .setInternalBlockingPoolSize(2)
                        // the control plane must never keep the process alive on its own
                        .setUseDaemonThread(true)
                        // no .vertx cache directory in the operator's working directory
                        .setFileSystemOptions(new FileSystemOptions().setFileCachingEnabled(false).setClassPathResolvingEnabled(false))
                        .setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true)
                                .setLabels(EnumSet.of(Label.HTTP_ROUTE, Label.HTTP_METHOD, Label.HTTP_CODE, Label.POOL_TYPE,
                                        Label.POOL_NAME))))
                .withMetrics(new MicrometerMetricsFactory(registry))
                .build();
        try {
            WorkerExecutor cutoverThread = vertx.createSharedWorkerExecutor("shardlift-cutover", 1, CUTOVER_WARN_MINUTES,
                    TimeUnit.MINUTES);
            ControlRoutes routes = new ControlRoutes(vertx, backend, registry, token, cutoverThread);
            HttpServerOptions options = new HttpServerOptions().setHost(spec.host()).setPort(spec.port());
            spec.tls().ifPresent(tls -> options.setSsl(true).setKeyCertOptions(new PemKeyCertOptions()
                    .setCertPath(tls.cert().toString()).setKeyPath(tls.key().toString())));
            HttpServer server = vertx.createHttpServer(options).requestHandler(routes.router());
            await(server.listen(), START_TIMEOUT_SECONDS, spec);
            ControlPlane cp = new ControlPlane(vertx, server, routes, spec.host(), cutoverGraceMillis);
            String where = spec.scheme() + "://" + cp.listen();
            if (token.available()) {
                log.info("control plane listening on {} (control.listen {}); POST /cutover takes the token in {}", where,
                        spec.listen(), token.variable());
                if (token.weak()) {
                    log.warn("the cutover token in {} is shorter than {} characters: use a long random one", token.variable(),
                            BearerToken.RECOMMENDED_LENGTH);
                }
            } else {
                log.warn("control plane listening on {} (control.listen {}); {}", where, spec.listen(), token.unavailableReason());
            }
            return cp;
        } catch (IOException | RuntimeException e) {
            closeQuietly(vertx);
            throw e;
        }
    }

    private static void await(Future<?> listening, long seconds, ControlSpec spec) throws IOException {
        try {
            listening.toCompletionStage().toCompletableFuture().get(seconds, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while the control plane was starting on control.listen " + spec.listen(), e);
        } catch (TimeoutException e) {
            throw new IOException("the control plane did not start within " + seconds + " s on control.listen " + spec.listen(), e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            String why = cause.getMessage() == null ? cause.toString() : cause.getMessage();
            if (isBindFailure(cause)) {
                String hint = why.toLowerCase(java.util.Locale.ROOT).contains("in use")
                        ? "another process listens there (another shardlift run?): stop it, or set control.listen to a free port"
                        : "set control.listen to an address of this host, e.g. 127.0.0.1:8080, or 0.0.0.0:8443 with control.tls for every interface";
                BindException b = new BindException("cannot listen on " + spec.listen() + " (control.listen): " + why + "; " + hint);
                b.initCause(cause);
                throw b;
            }
            throw new IOException("the control plane could not start on " + spec.listen() + " (control.listen): " + why, cause);
        }
    }

    private static boolean isBindFailure(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof BindException || c instanceof java.net.UnknownHostException) {
                return true;
            }
            // Netty's native transports report EADDRINUSE as their own IOException
            String m = c.getMessage();
            if (m != null && (m.contains("Address already in use") || m.contains("Cannot assign requested address"))) {
                return true;
            }
        }
        return false;
    }

    /** The port it listens on: the one picked when control.listen gave port 0. */
    public int port() {
        return server.actualPort();
    }

    /** {@code host:port} it listens on, IPv6 in brackets, with the actual port. */
    public String listen() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port();
    }

    /**
     * Stops listening, lets a running cutover finish (up to 30 s; it is interrupted after that), then stops its
     * threads. Idempotent.
     */
    @Override
    public void close() {
        int port = port();
        try {
            server.close().toCompletionStage().toCompletableFuture().get(CLOSE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            if (routes.cutoverRunning()) {
                log.info("control plane: waiting up to {} s for the running cutover to finish", cutoverGraceMillis / 1000);
                if (!routes.awaitNoCutover(cutoverGraceMillis)) {
                    log.warn("control plane: the cutover still runs after {} s; interrupting it", cutoverGraceMillis / 1000);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.warn("control plane: closing the server on port {} failed: {}", port, e.toString());
        }
        closeQuietly(vertx);
        log.info("control plane on port {} stopped", port);
    }

    private static void closeQuietly(Vertx vertx) {
        try {
            vertx.close().toCompletionStage().toCompletableFuture().get(CLOSE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.warn("control plane: stopping Vert.x failed: {}", e.toString());
        }
    }
}
