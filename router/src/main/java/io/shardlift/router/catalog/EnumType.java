package io.shardlift.router.catalog;

import java.util.List;

/** A user-defined enum type used by a migrated column; created on every node before the tables. */
public record EnumType(String schema, String name, List<String> labels) {
    public EnumType {
        labels = List.copyOf(labels);
    }
}
