package io.shardlift.core.spec;

import java.util.Iterator;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;

/**
 * {@code ${NAME}} in any string value of the spec becomes the value of environment variable NAME;
 * {@code ${NAME:-fallback}} uses the fallback when NAME is unset or empty; {@code $${} is a literal {@code ${}.
 * Keys are never interpolated. A variable that is not set is a problem naming key and variable.
 */
final class EnvInterpolation {

    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private final Function<String, String> env;
    private final Problems problems;

    EnvInterpolation(Function<String, String> env, Problems problems) {
        this.env = env;
        this.problems = problems;
    }

    /** Rewrites the tree in place (string values only) and returns it. */
    JsonNode apply(JsonNode node, String path) {
        if (node instanceof ObjectNode object) {
            Iterator<Map.Entry<String, JsonNode>> it = object.fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode replaced = apply(e.getValue(), Paths.child(path, e.getKey()));
                if (replaced != e.getValue()) {
                    e.setValue(replaced);
                }
            }
        } else if (node instanceof ArrayNode array) {
            for (int i = 0; i < array.size(); i++) {
                JsonNode replaced = apply(array.get(i), Paths.index(path, i));
                if (replaced != array.get(i)) {
                    array.set(i, replaced);
                }
            }
        } else if (node != null && node.isTextual() && node.textValue().contains("$")) {
            String text = node.textValue();
            String out = substitute(text, path);
            return out.equals(text) ? node : TextNode.valueOf(out);
        }
        return node;
    }

    private String substitute(String text, String path) {
        StringBuilder out = new StringBuilder(text.length());
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c == '$' && text.startsWith("$${", i)) {
                out.append("${");
                i += 3;
            } else if (c == '$' && text.startsWith("${", i)) {
                int close = text.indexOf('}', i + 2);
                if (close < 0) {
                    problems.add(path, Problems.quote(text.substring(i)),
                            "unterminated ${: write ${NAME} to use environment variable NAME, or $${ for a literal ${");
                    return text;
                }
                String body = text.substring(i + 2, close);
                int dash = body.indexOf(":-");
                String name = dash < 0 ? body : body.substring(0, dash);
                String fallback = dash < 0 ? null : body.substring(dash + 2);
                String reference = "${" + body + "}";
                if (!NAME.matcher(name).matches()) {
                    problems.add(path, Problems.quote(reference), "\"" + name + "\" is not an environment variable name "
                            + "(letters, digits and _, not starting with a digit); write ${NAME}, or $${ for a literal ${");
                } else {
                    String value = env.apply(name);
                    if (value == null || value.isEmpty() && fallback != null) {
                        if (fallback != null) {
                            out.append(fallback);
                        } else {
                            problems.add(path, Problems.quote(reference), "environment variable " + name
                                    + " is not set; export it, write ${" + name + ":-default}, or write the value itself");
                        }
                    } else {
                        out.append(value);
                    }
                }
                i = close + 1;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }
}
