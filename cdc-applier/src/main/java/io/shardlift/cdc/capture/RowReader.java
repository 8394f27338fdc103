package io.shardlift.cdc.capture;

import io.shardlift.cdc.event.ColumnCodec;
import io.shardlift.cdc.event.Row;
import io.shardlift.cdc.event.TableCodec;
import io.shardlift.cdc.event.ValueKind;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;

/**
 * Turns Debezium's row Structs of one table into {@link Row}s. Built once per Debezium schema (a new schema
 * object means the table's relation changed): it checks that Debezium delivers exactly the catalog's columns
 * with the representation each {@link ValueKind} expects, then reads rows by field index with a converter per
 * column chosen here, never per row.
 */
final class RowReader {

    /** Debezium's TOAST placeholder as each representation carries it. */
    record Placeholder(String text, byte[] bytes) {
        static Placeholder of(String placeholder) {
            return new Placeholder(placeholder, placeholder.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    @FunctionalInterface
    interface Converter {
        Object convert(Object debeziumValue);
    }

    /**
     * Debezium's stand-ins for timestamp 'infinity' and '-infinity': pgjdbc's infinity milliseconds read as
     * microseconds. The positive one is a real timestamp (294247-01-10 04:00:25.2), which therefore arrives as
     * 'infinity' (README, types).
     */
    static final long POSITIVE_INFINITY_MICROS = 9223372036825200000L;
    static final long NEGATIVE_INFINITY_MICROS = -9223372036832400000L;

    /** Debezium's stand-ins for date 'infinity' and '-infinity' (days before PostgreSQL's first date). */
    static final long POSITIVE_INFINITY_DAYS = java.time.LocalDate.parse("-5877611-06-21").toEpochDay();
    static final long NEGATIVE_INFINITY_DAYS = java.time.LocalDate.parse("-5877611-06-22").toEpochDay();

    private final Schema schema;
    private final Field[] fields;
    private final Converter[] converters;

    private RowReader(Schema schema, Field[] fields, Converter[] converters) {
        this.schema = schema;
        this.fields = fields;
        this.converters = converters;
    }

    Schema schema() {
        return schema;
    }

    /** A reader for full rows ({@code after}). */
    static RowReader forRow(TableCodec codec, Schema schema, Placeholder ph) {
        // stored generated columns: logical replication never sends their values, whether or not Debezium names them
        List<Field> actual = schema.fields().stream().filter(f -> !codec.generated().contains(f.name())).toList();
        List<String> expected = codec.columns().stream().map(ColumnCodec::name).toList();
        List<String> got = actual.stream().map(Field::name).toList();
        if (!got.equals(expected)) {
            throw schemaChanged(codec, "Debezium now delivers the columns " + got + " but shardlift was started with "
                    + expected);
        }
        Field[] fields = actual.toArray(Field[]::new);
        Converter[] conv = new Converter[fields.length];
        for (int i = 0; i < fields.length; i++) {
            conv[i] = converter(codec, codec.column(i), fields[i].schema(), ph);
        }
        return new RowReader(schema, fields, conv);
    }

    /** A reader for the key Struct: the primary-key columns, in key order. */
    static RowReader forKey(TableCodec codec, Schema schema, Placeholder ph) {
        Field[] fields = new Field[codec.keySize()];
        Converter[] conv = new Converter[fields.length];
        for (int k = 0; k < fields.length; k++) {
            ColumnCodec col = codec.column(codec.keyIndex(k));
            Field f = schema == null ? null : schema.field(col.name());
            if (f == null) {
                throw schemaChanged(codec, "the change's key has no column " + col.name() + " (key fields: "
                        + (schema == null ? "none" : schema.fields().stream().map(Field::name).toList())
                        + "); the primary key changed");
            }
            fields[k] = f;
            conv[k] = converter(codec, col, f.schema(), ph);
        }
        if (schema.fields().size() != fields.length) {
            throw schemaChanged(codec, "the change's key has the columns "
                    + schema.fields().stream().map(Field::name).toList() + " but the primary key shardlift was started with has "
                    + fields.length);
        }
        return new RowReader(schema, fields, conv);
    }

    Row read(Struct struct) {
        Object[] values = new Object[fields.length];
        for (int i = 0; i < fields.length; i++) {
            // not get(): Kafka Connect's Struct.get hands out the schema's default for a NULL, and Debezium puts a column's
            // DEFAULT into the schema, so a NULL written to a column with a default would arrive as the default
            Object v = struct.getWithoutDefault(fields[i].name());
            values[i] = v == null ? null : converters[i].convert(v);
        }
        return Row.of(values);
    }

    static CaptureException schemaChanged(TableCodec codec, String what) {
        return new CaptureException("table " + codec.table() + " changed on the source while it was being captured: " + what
                + ". This migration does not carry schema changes (replication.ddl: stop): the capture stopped before the change,"
                + " nothing after it was sent, and a restart is refused, since the nodes were laid out for the table's old shape"
                + " (reverting the change does not help: the changes made in between have the new shape). Start the migration over (empty nodes, a new --data-dir); with"
                + " replication.ddl: replicate, the default, shardlift carries such changes to the cluster");
    }

    private static Converter converter(TableCodec codec, ColumnCodec col, Schema s, Placeholder ph) {
        return scalar(codec, col, col.kind(), s, ph);
    }

    private static Converter scalar(TableCodec codec, ColumnCodec col, ValueKind kind, Schema s, Placeholder ph) {
        Schema.Type t = s.type();
        String name = s.name();
        switch (kind) {
            case INT16, INT32, INT64 -> {
                if (t != Schema.Type.INT16 && t != Schema.Type.INT32 && t != Schema.Type.INT64 || name != null) {
                    throw mismatch(codec, col, s);
                }
                return v -> ((Number) v).longValue();
            }
            case FLOAT32 -> {
                expect(codec, col, s, Schema.Type.FLOAT32, null);
                return v -> v;
            }
            case FLOAT64 -> {
                expect(codec, col, s, Schema.Type.FLOAT64, null);
                return v -> v;
            }
            case BOOL -> {
                expect(codec, col, s, Schema.Type.BOOLEAN, null);
                return v -> v;
            }
            case TEXT -> {
                if (t != Schema.Type.STRING) {
                    throw mismatch(codec, col, s);
                }
                String p = ph.text();
                if (col.rawText()) {
                    return v -> {
                        if (p.equals(v)) {
                            return Row.UNCHANGED;
                        }
                        if (((String) v).startsWith(TextConverter.UNKNOWN)) {
                            throw schemaChanged(codec, "column " + col.name() + " (" + col.type() + ") arrived from Debezium as "
                                    + ((String) v).substring(TextConverter.UNKNOWN.length()) + ", not as text");
                        }
                        return v;
                    };
                }
                if (col.type().startsWith("timestamp with time zone")) {
                    return v -> p.equals(v) ? Row.UNCHANGED : timestamptzText((String) v);
                }
                return v -> p.equals(v) ? Row.UNCHANGED : v;
            }
            case NUMERIC -> {
                if (t != Schema.Type.STRING) {
                    throw mismatch(codec, col, s);
                }
                String p = ph.text();
                return v -> p.equals(v) ? Row.UNCHANGED : numericText((String) v);
            }
            case BYTES -> {
                expect(codec, col, s, Schema.Type.BYTES, null);
                byte[] p = ph.bytes();
                return v -> {
                    byte[] b;
                    if (v instanceof ByteBuffer bb) {
                        b = new byte[bb.remaining()];
                        bb.duplicate().get(b);
                    } else {
                        b = (byte[]) v;
                    }
                    return Arrays.equals(b, p) ? Row.UNCHANGED : b;
                };
            }
            case DATE -> {
                expect(codec, col, s, Schema.Type.INT32, "io.debezium.time.Date");
                return v -> {
                    long days = (Integer) v;
                    return days == POSITIVE_INFINITY_DAYS ? ValueKind.INFINITY
                            : days == NEGATIVE_INFINITY_DAYS ? ValueKind.MINUS_INFINITY : days;
                };
            }
            case TIME -> {
                expect(codec, col, s, Schema.Type.INT64, "io.debezium.time.MicroTime");
                return v -> v;
            }
            case TIMESTAMP -> {
                if (t == Schema.Type.INT64 && "io.debezium.time.MicroTimestamp".equals(name)) {
                    return v -> timestamp(codec, col, (Long) v);
                }
                // adaptive precision: timestamp(0..3) arrives in milliseconds, exactly
                expect(codec, col, s, Schema.Type.INT64, "io.debezium.time.Timestamp");
                return v -> timestamp(codec, col, (Long) v * 1000L);
            }
            default -> throw mismatch(codec, col, s);
        }
    }

    /** PostgreSQL's first timestamp, 4714-11-24 00:00:00 BC, in microseconds since 1970. */
    static final long FIRST_TIMESTAMP_MICROS = -210866803200000000L;

    private static long timestamp(TableCodec codec, ColumnCodec col, long micros) {
        if (micros == POSITIVE_INFINITY_MICROS) {
            return ValueKind.INFINITY;
        }
        if (micros == NEGATIVE_INFINITY_MICROS) {
            return ValueKind.MINUS_INFINITY;
        }
        if (micros < FIRST_TIMESTAMP_MICROS) {
            // Debezium counts microseconds since 1970 in a long, which ends in 294247: a later timestamp wraps
            throw new CaptureException("table " + codec.table() + ", column " + col.name() + ": a timestamp after "
                    + "294247-01-10 04:00:54 changed on the source; Debezium cannot represent it (its microseconds "
                    + "overflow) and it would arrive as a wrong value. Change that value on the source, or leave the "
                    + "table out");
        }
        return micros;
    }

    /**
     * Debezium renders timestamptz as ISO-8601 in UTC, with a signed year outside 0000-9999
     * ({@code -4712-01-01T00:00:00.000000Z} is 4713 BC). PostgreSQL reads neither sign: write the BC era.
     */
    static String timestamptzText(String v) {
        if (v.isEmpty() || (v.charAt(0) != '-' && v.charAt(0) != '+')) {
            return v;
        }
        int dash = v.indexOf('-', 1);
        if (dash < 0) {
            return v; // not a date: leave it for PostgreSQL to judge (infinity, say)
        }
        if (v.charAt(0) == '+') {
            return v.substring(1);
        }
        long bcYear = Long.parseLong(v.substring(1, dash)) + 1;
        String year = Long.toString(bcYear);
        return "0".repeat(Math.max(0, 4 - year.length())) + year + v.substring(dash).replace('T', ' ') + " BC";
    }

    /** decimal.handling.mode=string spells PostgreSQL's numeric infinities by Java's names. */
    static String numericText(String v) {
        if (v.length() > 0 && v.charAt(0) > '9') {
            switch (v) {
                case "POSITIVE_INFINITY" -> {
                    return "Infinity";
                }
                case "NEGATIVE_INFINITY" -> {
                    return "-Infinity";
                }
                case "NAN" -> {
                    return "NaN";
                }
                default -> {
                    return v;
                }
            }
        }
        return v;
    }

    private static void expect(TableCodec codec, ColumnCodec col, Schema s, Schema.Type type, String name) {
        if (s.type() != type || !java.util.Objects.equals(s.name(), name)) {
            throw mismatch(codec, col, s);
        }
    }

    private static CaptureException mismatch(TableCodec codec, ColumnCodec col, Schema s) {
        return schemaChanged(codec, "column " + col.name() + " (" + col.type() + ") now arrives as " + s.type()
                + (s.name() == null ? "" : " " + s.name()) + (s.valueSchema() == null ? "" : " of " + s.valueSchema().type())
                + ", not as the " + col.kind() + " its catalog type gives");
    }
}
