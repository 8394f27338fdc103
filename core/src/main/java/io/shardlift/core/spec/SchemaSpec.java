package io.shardlift.core.spec;

import java.util.List;
import java.util.Objects;

/**
 * One {@code schemas[]} entry.
 *
 * @param name   the schema
 * @param all      true: every table of the schema is migrated; tables not listed follow {@code unlisted} (the
 *                 planner decides what that means, this record only carries the flag)
 * @param tables   the listed tables, in file order
 * @param unlisted what the tables not listed become when {@code all} is true; {@link UnlistedRule#GLOBAL} by default
 */
public record SchemaSpec(String name, boolean all, List<TableSpec> tables, UnlistedRule unlisted) {

    public SchemaSpec {
        Objects.requireNonNull(name, "name");
        tables = List.copyOf(tables);
        Objects.requireNonNull(unlisted, "unlisted");
    }

    /** A schema whose unlisted tables (if {@code all}) are global. */
    public SchemaSpec(String name, boolean all, List<TableSpec> tables) {
        this(name, all, tables, UnlistedRule.GLOBAL);
    }
}
