package io.shardlift.cdc.event;

import io.shardlift.core.Sql;
import io.shardlift.core.catalog.ColumnInfo;
import io.shardlift.core.catalog.ColumnTypes;
import java.util.Optional;

/**
 * One column as change events carry it: its name, its SQL type as the catalog renders it, how its values are
 * held ({@link ValueKind}) and how they become PostgreSQL input text. Built once per table by
 * {@link TableCodec}; an applier binds {@link #toText} results to {@link #placeholder()} ({@code ?::type}).
 */
public final class ColumnCodec {

    private final String name;
    private final String type;
    private final ValueKind kind;
    private final boolean rawText;
    private final ValueCodec codec;
    private final String placeholder;

    private ColumnCodec(String name, String type, ValueKind kind, boolean rawText) {
        this.name = name;
        this.type = type;
        this.kind = kind;
        this.rawText = rawText;
        this.codec = ValueCodec.of(kind);
        this.placeholder = "?::" + type;
    }

    /**
     * Resolves a catalog column: the kind Debezium's own converters deliver exactly, or else the column's
     * PostgreSQL text (arrays of any dimensions and bounds, bit strings, geometric and text-search types, and
     * every type Debezium does not know). Whether the type can be carried at all is decided by
     * {@link ColumnTypes#refusal}, not here.
     */
    static ColumnCodec resolve(ColumnInfo c) {
        Optional<ValueKind> k = ColumnTypes.isArray(c) ? Optional.empty() : ValueKind.ofScalar(c.typname(), c.typtype());
        return k.map(kind -> new ColumnCodec(c.name(), c.type(), kind, false))
                .orElseGet(() -> new ColumnCodec(c.name(), c.type(), ValueKind.TEXT, true));
    }

    public String name() {
        return name;
    }

    /** The SQL type as {@code format_type} renders it, e.g. {@code numeric(30,10)}, {@code public.mood[]}. */
    public String type() {
        return type;
    }

    public ValueKind kind() {
        return kind;
    }

    /**
     * True when the capture takes the value as PostgreSQL printed it, ahead of Debezium's converters, which would
     * change it (a multi-dimensional array arrives as NULLs, a bit string loses its length).
     */
    public boolean rawText() {
        return rawText;
    }

    /** {@code ?::type}: the JDBC parameter for {@link #toText} output. */
    public String placeholder() {
        return placeholder;
    }

    /** The column name quoted for SQL. */
    public String quotedName() {
        return Sql.ident(name);
    }

    /**
     * PostgreSQL input text for a value of this column, or null for SQL NULL.
     *
     * @throws IllegalArgumentException for {@link Row#UNCHANGED}: such a column must be left out of the write
     */
    public String toText(Object value) {
        if (value == null) {
            return null;
        }
        if (value == Row.UNCHANGED) {
            throw new IllegalArgumentException("column " + name + " is UNCHANGED (TOAST not sent): leave it out of the "
                    + "write instead of converting it");
        }
        return codec.toText(value);
    }

    ValueCodec codec() {
        return codec;
    }

    @Override
    public String toString() {
        return name + " " + type + " (" + kind + (rawText ? ", as text" : "") + ")";
    }
}
