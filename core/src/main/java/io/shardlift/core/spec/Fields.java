package io.shardlift.core.spec;

import java.math.BigInteger;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Typed reads of YAML values that never throw: a value of the wrong shape becomes a problem naming key,
 * value and what was expected, and the caller carries on with a default.
 */
final class Fields {

    private static final Pattern INTEGER = Pattern.compile("[+-]?\\d+");

    private final Problems problems;

    Fields(Problems problems) {
        this.problems = problems;
    }

    /** Unknown keys are problems, with the closest known key as a suggestion. */
    void checkKeys(ObjectNode node, String path, List<String> known, String where) {
        node.fieldNames().forEachRemaining(key -> {
            if (known.contains(key)) {
                return;
            }
            String full = Paths.child(path, key);
            String shown = LibpqParser.isSecretKeyword(key) ? ConnInfo.MASK : Problems.show(node.get(key));
            Optional<String> close = Suggest.closest(key, known);
            String rule;
            if (close.isPresent()) {
                rule = "unknown key " + where + "; did you mean " + close.get() + "?";
            } else if (!path.isEmpty() && SpecReader.ROOT_KEYS.contains(key) && !SpecReader.MIGRATE_KEYS.contains(key)) {
                rule = "unknown key " + where + "; " + key + ": is a top-level section, move it out to column 0";
            } else {
                rule = "unknown key " + where + "; the keys here are " + String.join(", ", known);
            }
            problems.add(full, shown, rule);
        });
    }

    /** An optional section: absent or empty is an empty mapping; anything else but a mapping is a problem. */
    ObjectNode section(ObjectNode parent, String key) {
        JsonNode n = parent.get(key);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isObject()) {
            problems.add(key, n, "must be a mapping (keys indented under " + key + ":)");
            return null;
        }
        return (ObjectNode) n;
    }

    static At at(ObjectNode parent, String parentPath, String key) {
        return new At(Paths.child(parentPath, key), parent == null ? null : parent.get(key));
    }

    /** A scalar as text (numbers and booleans too: {@code name: 2024} is a name); null and a problem for containers. */
    String text(At at, String what) {
        if (at.blank()) {
            return null;
        }
        if (at.node().isContainerNode()) {
            problems.add(at.path(), at.node(), "must be a single value: " + what);
            return null;
        }
        return at.node().asText();
    }

    /** A whole number within [min, max]; numeric strings count (they come out of ${VAR}). */
    Integer integer(At at, long min, long max, String what) {
        JsonNode n = at.node();
        BigInteger value = null;
        if (n.isIntegralNumber()) {
            value = n.bigIntegerValue();
        } else if (n.isTextual() && INTEGER.matcher(n.textValue().strip()).matches()) {
            value = new BigInteger(n.textValue().strip());
        }
        String range = max == Integer.MAX_VALUE ? (min == Integer.MIN_VALUE ? "a whole number" : "a whole number of at least " + min)
                : "a whole number from " + min + " to " + max;
        if (value == null || value.compareTo(BigInteger.valueOf(min)) < 0 || value.compareTo(BigInteger.valueOf(max)) > 0) {
            problems.add(at.path(), n, "must be " + range + ": " + what);
            return null;
        }
        return value.intValue();
    }

    int intIn(At at, long min, long max, int dflt, String what) {
        if (at.blank()) {
            return dflt;
        }
        Integer v = integer(at, min, max, what);
        return v == null ? dflt : v;
    }

    Boolean bool(At at, String what) {
        JsonNode n = at.node();
        if (n.isBoolean()) {
            return n.booleanValue();
        }
        if (n.isTextual()) {
            String t = n.textValue().strip().toLowerCase(Locale.ROOT);
            if (t.equals("true") || t.equals("false")) {
                return Boolean.parseBoolean(t);
            }
        }
        problems.add(at.path(), n, "must be true or false: " + what);
        return null;
    }
}
