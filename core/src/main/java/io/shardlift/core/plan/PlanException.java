package io.shardlift.core.plan;

import io.shardlift.core.TableId;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The source schema and the spec cannot be laid out on the cluster. Carries every problem found, each
 * naming the table, the column or constraint, and the fix. Nothing has been written when it is thrown.
 */
public final class PlanException extends RuntimeException {

    private final List<String> problems;
    private final Map<TableId, List<String>> byTable;

    public PlanException(List<String> problems) {
        this(problems, Map.of());
    }

    /** @param byTable the same problems by the table each is about */
    public PlanException(List<String> problems, Map<TableId, List<String>> byTable) {
        super(render(problems));
        this.problems = List.copyOf(problems);
        Map<TableId, List<String>> copy = new LinkedHashMap<>();
        byTable.forEach((t, p) -> copy.put(t, List.copyOf(p)));
        this.byTable = java.util.Collections.unmodifiableMap(copy);
    }

    public List<String> problems() {
        return problems;
    }

    /** The problems by the table each is about, in the order found; empty when the planner did not say. */
    public Map<TableId, List<String>> problemsByTable() {
        return byTable;
    }

    private static String render(List<String> problems) {
        StringBuilder sb = new StringBuilder("the migration cannot be planned (")
                .append(problems.size()).append(problems.size() == 1 ? " problem" : " problems").append("):");
        for (String p : problems) {
            sb.append("\n  - ").append(p);
        }
        return sb.toString();
    }
}
