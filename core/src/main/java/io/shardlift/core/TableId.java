package io.shardlift.core;

import java.util.Objects;

/** A schema-qualified table name. Rendered into SQL only through {@link #quoted()}. */
public record TableId(String schema, String name) implements Comparable<TableId> {

    public TableId {
        Objects.requireNonNull(schema, "schema");
        Objects.requireNonNull(name, "name");
    }

    /** Parses {@code schema.table} or a bare {@code table} (taken in {@code defaultSchema}). */
    public static TableId parse(String text, String defaultSchema) {
        int dot = text.indexOf('.');
        return dot < 0 ? new TableId(defaultSchema, text) : new TableId(text.substring(0, dot), text.substring(dot + 1));
    }

    /** {@code "schema"."name"}, safe to paste into SQL. */
    public String quoted() {
        return Sql.ident(schema) + "." + Sql.ident(name);
    }

    @Override
    public int compareTo(TableId o) {
        int c = schema.compareTo(o.schema);
        return c != 0 ? c : name.compareTo(o.name);
    }

    @Override
    public String toString() {
        return schema + "." + name;
    }
}
