package io.shardlift.core.catalog;

import java.util.List;

/** A primary key or unique constraint (or a unique index that backs no constraint). */
public record KeyConstraint(String name, Kind kind, List<String> columns, boolean deferrable, boolean nullsNotDistinct) {

    public enum Kind { PRIMARY_KEY, UNIQUE_CONSTRAINT, UNIQUE_INDEX }

    public KeyConstraint {
        columns = List.copyOf(columns);
    }

    public boolean isPrimary() {
        return kind == Kind.PRIMARY_KEY;
    }

    /** How the constraint reads in SQL, for messages: {@code UNIQUE (flight_id, seat_no)}. */
    public String describe() {
        String head = switch (kind) {
            case PRIMARY_KEY -> "PRIMARY KEY";
            case UNIQUE_CONSTRAINT -> "UNIQUE";
            case UNIQUE_INDEX -> "unique index";
        };
        return head + " " + name + " (" + String.join(", ", columns) + ")";
    }
}
