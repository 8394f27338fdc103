package io.shardlift.ops.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shardlift.core.spec.ControlSpec;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import io.shardlift.core.spec.Problem;
import io.shardlift.core.spec.SpecException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** The CLI's side of the control plane: HTTP/1.1 (HTTPS with control.tls) to the address in control.listen. */
final class ControlClient {

    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    static final ObjectMapper MAPPER = new ObjectMapper();

    /** The control plane could not be reached or did not answer; the message names the address and the key. */
    static final class Unreachable extends Exception {
        private static final long serialVersionUID = 1L;

        Unreachable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    record Reply(int status, String body) {

        /** The body as a JSON object, or an empty map when it is not one. */
        Map<String, Object> json() {
            try {
                return MAPPER.readValue(body, new TypeReference<Map<String, Object>>() { });
            } catch (IOException | RuntimeException e) {
                return Map.of();
            }
        }

        /** The control plane's {@code {"error": ...}}, or the raw body. */
        String error() {
            Object e = json().get("error");
            return e != null ? e.toString() : body.isBlank() ? "(no message)" : body.strip();
        }
    }

    private final ControlSpec spec;
    private final URI base;
    private final HttpClient http;

    ControlClient(ControlSpec spec) {
        this.spec = spec;
        this.base = URI.create(spec.scheme() + "://" + connectHost(spec.host()) + ":" + spec.port());
        HttpClient.Builder b = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(CONNECT_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NEVER);
        spec.tls().ifPresent(tls -> b.sslContext(trusting(tls.trusted(), tls.ca().isPresent() ? "control.tls.ca" : "control.tls.cert")));
        this.http = b.build();
    }

    /**
     * Trusts exactly the certificates in {@code pem} (control.tls.ca, or the server's own certificate): a self-signed
     * control plane needs no change to the JVM's trust store, and no other server is trusted on its address.
     */
    /**
     * The bearer token from the variable {@code control.token_env} names; null, after telling the operator how to set
     * it, when it is not set or empty (the command then exits with {@code ExitCodes.CONFIG}).
     */
    static String token(ControlSpec control, PrintWriter err) {
        String token = System.getenv(control.tokenEnv());
        if (token == null || token.isEmpty()) {
            err.println("shardlift: the environment variable " + control.tokenEnv() + " (control.token_env) is "
                    + (token == null ? "not set" : "empty") + ": set it to the cutover token, the same value shardlift run has");
            return null;
        }
        return token;
    }

    static SSLContext trusting(Path pem, String key) {
        try (InputStream in = Files.newInputStream(pem)) {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int i = 0;
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                store.setCertificateEntry("control-" + i++, c);
            }
            if (i == 0) {
                throw new IllegalArgumentException("no certificate in " + pem);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
            throw new SpecException("control.tls", List.of(new Problem(key,
                    "\"" + pem + "\"", "cannot read the certificate to trust from it (" + e.getMessage()
                    + "): give a PEM file with the control plane's certificate or its CA")));
        }
    }

    /** Where to connect when the server listens on {@code host}: a wildcard address is reached on loopback. */
    static String connectHost(String host) {
        if (host.equals("0.0.0.0")) {
            return "127.0.0.1";
        }
        if (host.equals("::") || host.equals("0:0:0:0:0:0:0:0")) {
            return "[::1]";
        }
        return host.contains(":") ? "[" + host + "]" : host;
    }

    URI base() {
        return base;
    }

    /** {@code http://host:port (control.listen ...)}, for messages. */
    String where() {
        return base + " (control.listen " + spec.listen() + ")";
    }

    Reply get(String path, Duration timeout) throws Unreachable, InterruptedException {
        return send(HttpRequest.newBuilder(base.resolve(path)).timeout(timeout).GET().build(), timeout);
    }

    Reply post(String path, String bearerToken, Duration timeout) throws Unreachable, InterruptedException {
        return send(HttpRequest.newBuilder(base.resolve(path)).timeout(timeout)
                .header("Authorization", "Bearer " + bearerToken)
                .POST(HttpRequest.BodyPublishers.noBody()).build(), timeout);
    }

    private Reply send(HttpRequest request, Duration timeout) throws Unreachable, InterruptedException {
        try {
            HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
            return new Reply(r.statusCode(), r.body());
        } catch (HttpConnectTimeoutException e) {
            throw new Unreachable("cannot reach the control plane at " + where() + ": no connection within "
                    + CONNECT_TIMEOUT.toSeconds() + " s; is shardlift run running with this spec, and is the address reachable from here?", e);
        } catch (HttpTimeoutException e) {
            throw new Unreachable("the control plane at " + where() + " did not answer " + request.method() + " "
                    + request.uri().getPath() + " within " + timeout.toSeconds() + " s", e);
        } catch (ConnectException e) {
            throw new Unreachable("cannot reach the control plane at " + where() + ": connection refused; "
                    + "is shardlift run running with this spec?", e);
        } catch (IOException e) {
            throw new Unreachable("cannot talk to the control plane at " + where() + ": "
                    + (e.getMessage() == null ? e.toString() : e.getMessage()), e);
        }
    }
}
