package io.shardlift.cdc.capture;

import io.shardlift.cdc.event.ColumnCodec;
import io.shardlift.cdc.event.Row;
import io.shardlift.cdc.event.TableCodec;
import io.shardlift.cdc.event.ValueKind;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
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
    record Placeholder(String text, byte[] bytes, List<Object> textList, List<Object> intList, List<Object> longList) {
        static Placeholder of(String placeholder) {
            byte[] b = placeholder.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            List<Object> ints = new ArrayList<>();
            List<Object> longs = new ArrayList<>();
            for (byte x : b) {
                ints.add((int) x);
                longs.add((long) x);
            }
            return new Placeholder(placeholder, b, List.of(placeholder), ints, longs);
        }
    }

    @FunctionalInterface
    interface Converter {
        Object convert(Object debeziumValue);
    }

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
        List<Field> actual = schema.fields();
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
            Object v = struct.get(fields[i]);
            values[i] = v == null ? null : converters[i].convert(v);
        }
        return Row.of(values);
    }

    static CaptureException schemaChanged(TableCodec codec, String what) {
        return new CaptureException("table " + codec.table() + " changed on the source while it was being captured: " + what
                + ". shardlift does not carry DDL. Stop the migration of " + codec.table() + ", revert the change or "
                + "re-plan (shardlift plan/schema) and copy the table again with the new definition, then restart capture");
    }

    private static Converter converter(TableCodec codec, ColumnCodec col, Schema s, Placeholder ph) {
        ValueKind kind = col.kind();
        if (kind == ValueKind.ARRAY) {
            if (s.type() != Schema.Type.ARRAY) {
                throw mismatch(codec, col, s);
            }
            Converter element = scalar(codec, col, col.elementKind(), s.valueSchema(), null);
            return v -> {
                List<?> list = (List<?>) v;
                if (list.equals(ph.textList()) || list.equals(ph.intList()) || list.equals(ph.longList())) {
                    return Row.UNCHANGED;
                }
                Object[] out = new Object[list.size()];
                for (int i = 0; i < out.length; i++) {
                    Object e = list.get(i);
                    out[i] = e == null ? null : element.convert(e);
                }
                return Collections.unmodifiableList(Arrays.asList(out));
            };
        }
        return scalar(codec, col, kind, s, ph);
    }

    /** {@code ph} null: inside an array, where Debezium never puts a placeholder. */
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
                String p = ph == null ? null : ph.text();
                if (col.type().startsWith("timestamp with time zone")) {
                    return v -> p != null && p.equals(v) ? Row.UNCHANGED : timestamptzText((String) v);
                }
                return v -> p != null && p.equals(v) ? Row.UNCHANGED : v;
            }
            case NUMERIC -> {
                if (t != Schema.Type.STRING) {
                    throw mismatch(codec, col, s);
                }
                String p = ph == null ? null : ph.text();
                return v -> p != null && p.equals(v) ? Row.UNCHANGED : numericText((String) v);
            }
            case BYTES -> {
                expect(codec, col, s, Schema.Type.BYTES, null);
                byte[] p = ph == null ? null : ph.bytes();
                return v -> {
                    byte[] b;
                    if (v instanceof ByteBuffer bb) {
                        b = new byte[bb.remaining()];
                        bb.duplicate().get(b);
                    } else {
                        b = (byte[]) v;
                    }
                    return p != null && Arrays.equals(b, p) ? Row.UNCHANGED : b;
                };
            }
            case DATE -> {
                expect(codec, col, s, Schema.Type.INT32, "io.debezium.time.Date");
                return v -> ((Integer) v).longValue();
            }
            case TIME -> {
                expect(codec, col, s, Schema.Type.INT64, "io.debezium.time.MicroTime");
                return v -> v;
            }
            case TIMESTAMP -> {
                if (t == Schema.Type.INT64 && "io.debezium.time.MicroTimestamp".equals(name)) {
                    return v -> v;
                }
                // adaptive precision: timestamp(0..3) arrives in milliseconds, exactly
                expect(codec, col, s, Schema.Type.INT64, "io.debezium.time.Timestamp");
                return v -> (Long) v * 1000L;
            }
            default -> throw mismatch(codec, col, s);
        }
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
                + ", not as the " + col.kind() + (col.elementKind() == null ? "" : " of " + col.elementKind())
                + " its catalog type gives");
    }
}
