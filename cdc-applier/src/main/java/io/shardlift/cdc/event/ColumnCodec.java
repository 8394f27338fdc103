package io.shardlift.cdc.event;

import io.shardlift.router.Sql;
import io.shardlift.router.catalog.ColumnInfo;
import java.util.Optional;

/**
 * One column as change events carry it: its name, its SQL type as the catalog renders it, how its values are
 * held ({@link ValueKind}) and how they become PostgreSQL input text. Built once per table by
 * {@link TableCodec}; an applier binds {@link #toText} results to {@link #placeholder()} ({@code ?::type}).
 */
public final class ColumnCodec {

    /**
     * Element types whose arrays Debezium delivers exactly. Its array path goes through pgjdbc's Java objects,
     * which loses NaN in numeric (the whole array becomes NULL) and the era of BC dates; those are refused.
     */
    private static final java.util.Set<String> ARRAY_ELEMENTS = java.util.Set.of("int2", "int4", "int8", "float4", "float8",
            "bool", "text", "varchar", "bpchar", "uuid", "json", "jsonb", "inet", "cidr", "macaddr");

    private final String name;
    private final String type;
    private final ValueKind kind;
    private final ValueKind elementKind;
    private final ValueCodec codec;
    private final String placeholder;

    private ColumnCodec(String name, String type, ValueKind kind, ValueKind elementKind, ValueCodec codec) {
        this.name = name;
        this.type = type;
        this.kind = kind;
        this.elementKind = elementKind;
        this.codec = codec;
        this.placeholder = "?::" + type;
    }

    /**
     * Resolves a catalog column, or explains why it cannot be carried exactly.
     *
     * @return the codec, or empty with the reason put in {@code whyNot[0]}
     */
    static Optional<ColumnCodec> resolve(ColumnInfo c, String[] whyNot) {
        String typname = c.typname();
        boolean array = typname.startsWith("_") && c.type().endsWith("[]");
        if (array) {
            // the element's typtype is not in the catalog row: an unknown element type is taken as an enum and
            // the capture refuses it if Debezium does not deliver its elements as text
            String elem = typname.substring(1);
            ValueKind element = ARRAY_ELEMENTS.contains(elem) ? ValueKind.ofScalar(elem, 'b').orElseThrow()
                    : c.isBuiltinType() ? null : ValueKind.TEXT;
            if (element == null) {
                whyNot[0] = "arrays of " + elem + " lose values in Debezium: a numeric[] holding NaN arrives as NULL, "
                        + "a date[] drops the BC era";
                return Optional.empty();
            }
            return Optional.of(new ColumnCodec(c.name(), c.type(), ValueKind.ARRAY, element,
                    ValueCodec.array(ValueCodec.of(element))));
        }
        Optional<ValueKind> k = ValueKind.ofScalar(typname, c.typtype());
        if (k.isEmpty()) {
            whyNot[0] = typname;
            return Optional.empty();
        }
        return Optional.of(new ColumnCodec(c.name(), c.type(), k.get(), null, ValueCodec.of(k.get())));
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

    /** The element kind of an {@link ValueKind#ARRAY} column; null otherwise. */
    public ValueKind elementKind() {
        return elementKind;
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
        return name + " " + type + " (" + kind + (elementKind == null ? "" : " of " + elementKind) + ")";
    }
}
