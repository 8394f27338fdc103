package io.shardlift.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Grafana board in the repository ({@code ops/grafana/shardlift.json}) and the metric names it queries, and the
 * names a Prometheus scrape or the README's metrics table holds, so tests can hold each against the others.
 */
final class GrafanaBoard {

    static final Path BOARD = Path.of("grafana", "shardlift.json");
    static final Path README = Path.of("..", "README.md");
    private static final Pattern OURS = Pattern.compile("\\bshardlift_[a-z0-9_]+");

    private GrafanaBoard() {
    }

    static JsonNode load() throws IOException {
        return new ObjectMapper().readTree(Files.readString(BOARD));
    }

    /** Every shardlift metric a query of the board names: panel targets and template variables. */
    static TreeSet<String> queried(JsonNode board) {
        TreeSet<String> names = new TreeSet<>();
        collect(board, names);
        return names;
    }

    private static void collect(JsonNode n, TreeSet<String> names) {
        if (n.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getValue().isTextual() && (e.getKey().equals("expr") || e.getKey().equals("query")
                        || e.getKey().equals("definition"))) {
                    Matcher m = OURS.matcher(e.getValue().textValue());
                    while (m.find()) {
                        names.add(m.group());
                    }
                } else {
                    collect(e.getValue(), names);
                }
            }
        } else if (n.isArray()) {
            n.forEach(c -> collect(c, names));
        }
    }

    /** The sample names of a Prometheus text scrape ({@code name{labels} value} or {@code name value}). */
    static TreeSet<String> exposed(String scrape) {
        TreeSet<String> names = new TreeSet<>();
        for (String line : scrape.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int end = 0;
            while (end < line.length() && line.charAt(end) != '{' && line.charAt(end) != ' ') {
                end++;
            }
            names.add(line.substring(0, end));
        }
        return names;
    }

    /** The shardlift metric names of the README's metrics table (each in backquotes in its first column). */
    static TreeSet<String> documented() throws IOException {
        TreeSet<String> names = new TreeSet<>();
        Pattern row = Pattern.compile("^\\| `(shardlift_[a-z0-9_]+)`");
        for (String line : Files.readAllLines(README)) {
            Matcher m = row.matcher(line);
            if (m.find()) {
                names.add(m.group(1));
            }
        }
        return names;
    }
}
