package io.shardlift.core.spec;

import java.util.List;
import java.util.Objects;

/**
 * One {@code schemas[]} entry.
 *
 * @param name   the schema
 * @param all    true: every table of the schema is migrated; tables not listed are global (the planner
 *               decides what that means, this record only carries the flag)
 * @param tables the listed tables, in file order
 */
public record SchemaSpec(String name, boolean all, List<TableSpec> tables) {

    public SchemaSpec {
        Objects.requireNonNull(name, "name");
        tables = List.copyOf(tables);
    }
}
