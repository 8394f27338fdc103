package io.shardlift.core.plan;

import java.util.List;

/**
 * The source schema and the spec cannot be laid out on the cluster. Carries every problem found, each
 * naming the table, the column or constraint, and the fix. Nothing has been written when it is thrown.
 */
public final class PlanException extends RuntimeException {

    private final List<String> problems;

    public PlanException(List<String> problems) {
        super(render(problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
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
