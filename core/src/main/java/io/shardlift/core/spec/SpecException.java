package io.shardlift.core.spec;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A migration spec that cannot be used. Carries every problem found, not just the first, so the
 * operator fixes the file in one go. The message never contains a secret.
 */
public final class SpecException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String sourceName;
    private final transient List<Problem> problems;

    public SpecException(String sourceName, List<Problem> problems) {
        super(render(sourceName, problems));
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("a SpecException needs at least one problem");
        }
        this.sourceName = sourceName;
        this.problems = List.copyOf(problems);
    }

    /** The file (or other source) the spec was read from. */
    public String sourceName() {
        return sourceName;
    }

    /** Every problem, in the order found: per key first, then cross-references (colocation, partitions per node). */
    public List<Problem> problems() {
        return problems;
    }

    private static String render(String sourceName, List<Problem> problems) {
        String header = sourceName + ": " + problems.size() + (problems.size() == 1 ? " problem" : " problems")
                + " in the migration spec";
        return problems.stream().map(Problem::toString).collect(Collectors.joining("\n", header + "\n", ""));
    }
}
