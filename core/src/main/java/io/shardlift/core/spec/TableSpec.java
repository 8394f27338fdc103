package io.shardlift.core.spec;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

import io.shardlift.core.TableId;

/**
 * One table of the migration as the spec lists it, with defaults resolved.
 *
 * @param id            schema-qualified name
 * @param type          global or sharded
 * @param distributedBy the sharding key columns, in key order; empty for a global table
 * @param colocateWith  the table this one is colocated with, as written (may itself be colocated: see
 *                      {@link MigrationSpec#colocationRoot(TableSpec)}); empty for none
 * @param partitions    resolved number of hash partitions: the colocation root's for a colocated table, else
 *                      as written, else 20 (Shardman's num_parts default); 1 for a global table (one whole copy)
 * @param priority      load order, higher first (shardmanctl semantics); 0 by default
 * @param widenUnique   true lets the planner add the sharding key to unique constraints that lack it
 */
public record TableSpec(TableId id, TableType type, List<String> distributedBy, Optional<TableId> colocateWith,
                        int partitions, int priority, boolean widenUnique) {

    /** Shardman's {@code num_parts} default. */
    public static final int DEFAULT_PARTITIONS = 20;

    public TableSpec {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(type, "type");
        distributedBy = List.copyOf(distributedBy);
        Objects.requireNonNull(colocateWith, "colocateWith");
    }

    public boolean sharded() {
        return type == TableType.SHARDED;
    }
}
