package io.shardlift.core.spec;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;

/** Collects problems while a spec is read, and renders values for them. */
final class Problems {

    private final List<Problem> list = new ArrayList<>();
    private final Set<String> secrets = new HashSet<>();

    void add(String key, String shownValue, String rule) {
        list.add(new Problem(key, shownValue, rule));
    }

    void add(String key, JsonNode value, String rule) {
        add(key, show(value), rule);
    }

    /** A value that must never appear in any message (a resolved password). */
    void secret(String value) {
        if (value != null && value.length() >= 4) {
            secrets.add(value);
        }
    }

    boolean isEmpty() {
        return list.isEmpty();
    }

    int size() {
        return list.size();
    }

    /**
     * The problems with every known secret in a value replaced by the mask: a second line of defence behind
     * masking at the source. Only values are scrubbed: they echo what the user wrote, while rules are built from
     * names and shardlift's own text, where a password that happens to be a common word ("postgres") would
     * garble the advice.
     */
    List<Problem> scrubbed() {
        List<Problem> out = new ArrayList<>(list.size());
        for (Problem p : list) {
            out.add(new Problem(p.key(), scrub(p.value()), p.rule()));
        }
        return out;
    }

    private String scrub(String text) {
        String s = text;
        for (String secret : secrets) {
            s = s.replace(secret, ConnInfo.MASK);
        }
        return s;
    }

    /** How a YAML value is shown in a problem: strings quoted, {@code (missing)}, {@code (empty)}, or its kind. */
    static String show(JsonNode n) {
        if (n == null || n.isMissingNode()) {
            return Problem.MISSING;
        }
        if (n.isNull()) {
            return "(empty)";
        }
        if (n.isTextual()) {
            return quote(n.textValue());
        }
        if (n.isObject()) {
            return "(a mapping)";
        }
        if (n.isArray()) {
            return "(a list)";
        }
        return n.asText();
    }

    static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
    }
}
