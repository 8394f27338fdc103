package io.shardlift.ops.control;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The operator's page ({@code GET /}): three files in the jar, read once. The page polls {@code /status} and
 * {@code /cutover} from the browser and draws everything itself, so nothing is fetched from anywhere else: the
 * policy header forbids it, and a page that works offline cannot leak the token to a third party either.
 */
final class Dashboard {

    /** Everything the page loads comes from this server; scripts only from files (no inline script, no eval). */
    static final String POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:;"
            + " form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

    /** A file of the page, with its media type. */
    record Page(String contentType, Buffer body) {
        void send(HttpServerResponse response) {
            response.putHeader(HttpHeaders.CONTENT_TYPE, contentType)
                    // the page shows live numbers: a cached copy would be a stale one
                    .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
                    .putHeader("Content-Security-Policy", POLICY)
                    .putHeader("X-Content-Type-Options", "nosniff")
                    .putHeader("Referrer-Policy", "no-referrer")
                    .end(body);
        }
    }

    /** Path -> file. */
    static final Map<String, Page> PAGES = load();

    private Dashboard() {
    }

    private static Map<String, Page> load() {
        Map<String, Page> m = new LinkedHashMap<>();
        m.put("/", page("index.html", "text/html; charset=utf-8"));
        m.put("/dashboard.js", page("dashboard.js", "text/javascript; charset=utf-8"));
        m.put("/dashboard.css", page("dashboard.css", "text/css; charset=utf-8"));
        return Map.copyOf(m);
    }

    private static Page page(String name, String contentType) {
        try (InputStream in = Dashboard.class.getResourceAsStream("dashboard/" + name)) {
            if (in == null) {
                throw new IllegalStateException("the dashboard's " + name + " is missing from the jar (io/shardlift/ops/control/dashboard/)");
            }
            return new Page(contentType, Buffer.buffer(in.readAllBytes()));
        } catch (IOException e) {
            throw new UncheckedIOException("reading the dashboard's " + name + " from the jar", e);
        }
    }
}
