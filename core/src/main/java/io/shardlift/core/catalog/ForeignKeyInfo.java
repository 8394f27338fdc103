package io.shardlift.core.catalog;

import io.shardlift.core.TableId;
import java.util.List;

/** A foreign key of a source table; re-created on the target at cutover. */
public record ForeignKeyInfo(
        String name,
        List<String> columns,
        TableId referenced,
        List<String> referencedColumns,
        String onUpdate,
        String onDelete,
        boolean matchFull,
        boolean deferrable,
        boolean initiallyDeferred) {

    public ForeignKeyInfo {
        columns = List.copyOf(columns);
        referencedColumns = List.copyOf(referencedColumns);
    }

    /** The referential action of a {@code pg_constraint.confupdtype}/{@code confdeltype} code, as SQL. */
    public static String action(String code) {
        if (code == null || code.isBlank()) {
            return "NO ACTION";
        }
        return switch (code.charAt(0)) {
            case 'r' -> "RESTRICT";
            case 'c' -> "CASCADE";
            case 'n' -> "SET NULL";
            case 'd' -> "SET DEFAULT";
            default -> "NO ACTION";
        };
    }

    public String describe() {
        return name + " (" + String.join(", ", columns) + ") REFERENCES " + referenced + " ("
                + String.join(", ", referencedColumns) + ")";
    }
}
