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

    /**
     * Whether this key maps the referencing table's sharding key {@code childKey}, column for column, onto the referenced
     * table's {@code parentKey}: then a row and the row it references hash alike, and colocated tables keep them on one
     * node, where the key can be enforced (the planner's rule and the rule for keys added during the migration).
     */
    public boolean mapsShardingKey(List<String> parentKey, List<String> childKey) {
        if (parentKey.size() != childKey.size()) {
            return false;
        }
        for (int i = 0; i < parentKey.size(); i++) {
            int at = referencedColumns.indexOf(parentKey.get(i));
            if (at < 0 || !columns.get(at).equals(childKey.get(i))) {
                return false;
            }
        }
        return true;
    }
}
