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
    /** Days since 1970-01-01 (proleptic Gregorian), {@code Long}; {@link #INFINITY} and {@link #MINUS_INFINITY}. */
    DATE,
    /** Microseconds since midnight, {@code Long} (24:00:00 allowed). */
    TIME,
    /** Microseconds since 1970-01-01 00:00:00, no time zone, {@code Long}; {@link #INFINITY} and {@link #MINUS_INFINITY}. */
    TIMESTAMP;

    /**
     * Base types whose text Debezium's own converters pass through exactly (decimal.handling.mode=string,
     * interval.handling.mode=string; timestamptz as ISO-8601 in UTC).
     */
    private static final Set<String> TEXT_TYPES = Set.of("text", "varchar", "bpchar", "money", "uuid", "json", "jsonb",
            "inet", "cidr", "macaddr", "macaddr8", "timestamptz", "interval", "int4range", "int8range", "numrange",
            "tsrange", "tstzrange", "daterange");

    /**
     * The kind Debezium's own converters deliver exactly for a scalar type, or empty when they would not (arrays
     * lose their dimensions and lower bounds, bit strings their length, geometric types their text, types Debezium
     * does not know are dropped): such a column travels as its PostgreSQL text, which the capture's
     * converter takes before Debezium's (see {@link ColumnCodec#rawText()}).
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

    /** A DATE or TIMESTAMP value 'infinity'. */
    public static final long INFINITY = Long.MAX_VALUE;
    /** A DATE or TIMESTAMP value '-infinity'. */
    public static final long MINUS_INFINITY = Long.MIN_VALUE;
}
