package io.shardlift.ops.control;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The parameters of {@code POST /cutover}, from the query and from a body (a form, as {@code curl -d} sends, or a JSON
 * object). Strict on purpose: a parameter that were ignored could turn a dry run into the real cutover, so an unknown
 * parameter, a value other than true/false, a body of another type, or a body and a query that disagree are refused.
 * Values are never echoed back, in case one holds something secret.
 */
record CutoverRequest(boolean dryRun) {

    static final String DRY_RUN = "dryRun";
    static final String FORM = "application/x-www-form-urlencoded";
    static final String JSON = "application/json";

    private static final ObjectMapper STRICT = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    /** The query alone (a request without a body). */
    static CutoverRequest parse(Map<String, List<String>> query) {
        return parse(query, null, new byte[0]);
    }

    /**
     * @param query       each parameter name with all its values
     * @param contentType the request's Content-Type header, null if none
     * @param body        the request's body, empty if none
     * @throws IllegalArgumentException with the message for a 400 answer
     */
    static CutoverRequest parse(Map<String, List<String>> query, String contentType, byte[] body) {
        Optional<Boolean> fromQuery = fromParameters(query, "query parameter");
        Optional<Boolean> fromBody = fromBody(contentType, body);
        if (fromQuery.isPresent() && fromBody.isPresent() && !fromQuery.get().equals(fromBody.get())) {
            throw new IllegalArgumentException("dryRun is " + fromQuery.get() + " in the query but " + fromBody.get()
                    + " in the body; give it once");
        }
        return new CutoverRequest(fromBody.or(() -> fromQuery).orElse(false));
    }

    private static Optional<Boolean> fromBody(String contentType, byte[] body) {
        if (body == null || new String(body, StandardCharsets.UTF_8).isBlank()) {
            return Optional.empty();
        }
        String media = contentType == null ? "" : contentType.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
        return switch (media) {
            case FORM -> fromParameters(form(body), "form field");
            case JSON -> fromJson(body);
            default -> throw new IllegalArgumentException("POST /cutover takes its parameters in the query, or in a body of type "
                    + FORM + " or " + JSON + ", but the body's Content-Type is "
                    + (media.isEmpty() ? "missing" : "'" + media.replaceAll("[^a-z0-9/+.\\-]", "?") + "'"));
        };
    }

    private static Map<String, List<String>> form(byte[] body) {
        Map<String, List<String>> m = new LinkedHashMap<>();
        for (String pair : new String(body, StandardCharsets.UTF_8).strip().split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            try {
                String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                m.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("the body is not valid " + FORM + " (a malformed %-escape)");
            }
        }
        return m;
    }

    private static Optional<Boolean> fromJson(byte[] body) {
        JsonNode root;
        try {
            root = STRICT.readTree(body);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("the body is not valid JSON"
                    + (e.getOriginalMessage() != null && e.getOriginalMessage().startsWith("Duplicate field") ? ": a field is given twice" : "")
                    + "; POST /cutover takes {\"dryRun\": true} or {\"dryRun\": false}");
        } catch (IOException e) {
            throw new IllegalArgumentException("the body could not be read as JSON");
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("the JSON body must be an object, {\"dryRun\": true} or {\"dryRun\": false}");
        }
        TreeSet<String> unknown = new TreeSet<>();
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (!name.equals(DRY_RUN)) {
                unknown.add(name);
            }
        }
        refuseUnknown(unknown, "JSON field");
        JsonNode v = root.get(DRY_RUN);
        if (v == null) {
            return Optional.empty();
        }
        if (v.isBoolean()) {
            return Optional.of(v.booleanValue());
        }
        if (v.isTextual()) {
            return Optional.of(bool(v.textValue()));
        }
        throw new IllegalArgumentException("dryRun must be true or false");
    }

    private static Optional<Boolean> fromParameters(Map<String, List<String>> params, String kind) {
        TreeSet<String> unknown = new TreeSet<>(params.keySet());
        unknown.remove(DRY_RUN);
        refuseUnknown(unknown, kind);
        List<String> values = params.get(DRY_RUN);
        if (values == null || values.isEmpty()) {
            return Optional.empty();
        }
        if (values.size() > 1) {
            throw new IllegalArgumentException("dryRun is given " + values.size() + " times; give it once, true or false");
        }
        String v = values.get(0).strip();
        // a bare ?dryRun asks for a dry run: reading it as false would cut over for real
        return Optional.of(v.isEmpty() || bool(v));
    }

    private static boolean bool(String value) {
        String v = value.strip();
        if (v.equalsIgnoreCase("true")) {
            return true;
        }
        if (v.equalsIgnoreCase("false")) {
            return false;
        }
        throw new IllegalArgumentException("dryRun must be true or false");
    }

    private static void refuseUnknown(TreeSet<String> unknown, String kind) {
        if (unknown.isEmpty()) {
            return;
        }
        boolean looksLikeDryRun = unknown.stream()
                .anyMatch(n -> n.toLowerCase(Locale.ROOT).replace("_", "").replace("-", "").equals("dryrun"));
        throw new IllegalArgumentException("unknown " + kind + (unknown.size() > 1 ? "s " + String.join(", ", unknown)
                : " " + unknown.first()) + (looksLikeDryRun ? "; did you mean dryRun?" : "") + " (POST /cutover takes only "
                + "dryRun=true or dryRun=false)");
    }
}
