package io.shardlift.ops.cli;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The readable form of {@code GET /status}: phase first, then every field, nested objects indented, a list
 * of objects one line per element. It follows whatever the status holds, so a new field shows up without
 * a change here.
 */
final class StatusReport {

    private StatusReport() {
    }

    static String render(Map<String, ?> status) {
        StringBuilder sb = new StringBuilder();
        if (status.containsKey("phase")) {
            sb.append("phase: ").append(scalar(status.get("phase"))).append('\n');
        }
        for (Map.Entry<String, ?> e : status.entrySet()) {
            if (!e.getKey().equals("phase")) {
                field(sb, "", e.getKey(), e.getValue());
            }
        }
        return sb.toString();
    }

    private static void field(StringBuilder sb, String indent, String key, Object value) {
        if (value instanceof Map<?, ?> m) {
            if (m.isEmpty()) {
                sb.append(indent).append(key).append(": -\n");
                return;
            }
            sb.append(indent).append(key).append(":\n");
            for (Map.Entry<?, ?> e : m.entrySet()) {
                field(sb, indent + "  ", String.valueOf(e.getKey()), e.getValue());
            }
        } else if (value instanceof List<?> l) {
            if (l.isEmpty()) {
                sb.append(indent).append(key).append(": -\n");
            } else if (l.stream().allMatch(o -> o instanceof Map<?, ?>)) {
                sb.append(indent).append(key).append(":\n");
                for (Object o : l) {
                    sb.append(indent).append("  - ").append(((Map<?, ?>) o).entrySet().stream()
                            .map(e -> e.getKey() + "=" + inline(e.getValue())).collect(Collectors.joining("  "))).append('\n');
                }
            } else {
                sb.append(indent).append(key).append(": ")
                        .append(l.stream().map(StatusReport::inline).collect(Collectors.joining(", "))).append('\n');
            }
        } else {
            sb.append(indent).append(key).append(": ").append(scalar(value)).append('\n');
        }
    }

    private static String inline(Object v) {
        if (v instanceof Map<?, ?> m) {
            return m.entrySet().stream().map(e -> e.getKey() + "=" + inline(e.getValue())).collect(Collectors.joining(",", "{", "}"));
        }
        if (v instanceof List<?> l) {
            return l.stream().map(StatusReport::inline).collect(Collectors.joining(",", "[", "]"));
        }
        return scalar(v);
    }

    static String scalar(Object v) {
        if (v == null) {
            return "-";
        }
        if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            if (d == Math.rint(d) && Math.abs(d) < 1e15) {
                return Long.toString((long) d);
            }
            return String.format(java.util.Locale.ROOT, "%.2f", d);
        }
        return v.toString();
    }
}
