package io.shardlift.cdc.event;

import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * How a column's values are held in a {@link Row}, written on the wire and rendered as PostgreSQL text.
 * Resolved once per column from the catalog ({@code pg_type.typname}, of the base type for domains).
 */
public enum ValueKind {
    INT16, INT32, INT64,
    FLOAT32, FLOAT64,
    BOOL,
    /** Text exactly as PostgreSQL printed it (text, varchar, uuid, json, timestamptz, interval, enums...). */
    TEXT,
    /** numeric/decimal as PostgreSQL printed it (scale kept); keys compare without trailing zeros. */
    NUMERIC,
    BYTES,
    /** Days since 1970-01-01 (proleptic Gregorian), {@code Long}. */
    DATE,
    /** Microseconds since midnight, {@code Long} (24:00:00 allowed). */
    TIME,
    /** Microseconds since 1970-01-01 00:00:00, no time zone, {@code Long}. */
    TIMESTAMP,
    /** One-dimensional array; the element kind is the column's {@link ColumnCodec#elementKind()}. */
    ARRAY;

    /**
     * Base types whose text Debezium passes through unchanged (decimal.handling.mode=string,
     * interval.handling.mode=string; timestamptz/timetz as ISO-8601 in UTC).
     */
    private static final Set<String> TEXT_TYPES = Set.of("text", "varchar", "bpchar", "name", "char", "citext",
            "money", "uuid", "json", "jsonb", "xml", "inet", "cidr", "macaddr", "macaddr8", "timestamptz", "timetz",
            "interval", "int4range", "int8range", "numrange", "tsrange", "tstzrange", "daterange");

    /**
     * The kind for a scalar type, or empty when shardlift cannot carry it exactly through Debezium (bit strings
     * lose their length, geometric types their text, unknown extension types are dropped by Debezium).
     *
     * @param typname {@code pg_type.typname} (base type for domains)
     * @param typtype {@code pg_type.typtype}: {@code e} for enums
     */
    public static Optional<ValueKind> ofScalar(String typname, char typtype) {
        if (typtype == 'e') {
            return Optional.of(TEXT);
        }
        String t = typname.toLowerCase(Locale.ROOT);
        ValueKind k = switch (t) {
            case "int2" -> INT16;
            case "int4" -> INT32;
            case "int8", "oid" -> INT64;
            case "float4" -> FLOAT32;
            case "float8" -> FLOAT64;
            case "bool" -> BOOL;
            case "numeric" -> NUMERIC;
            case "bytea" -> BYTES;
            case "date" -> DATE;
            case "time" -> TIME;
            case "timestamp" -> TIMESTAMP;
            default -> TEXT_TYPES.contains(t) ? TEXT : null;
        };
        return Optional.ofNullable(k);
    }

    /** True for kinds held as {@code Long}. */
    public boolean isLong() {
        return this == INT16 || this == INT32 || this == INT64 || this == DATE || this == TIME || this == TIMESTAMP;
    }
}
