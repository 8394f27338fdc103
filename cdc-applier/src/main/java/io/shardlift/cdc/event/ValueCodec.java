package io.shardlift.cdc.event;

import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * Wire format and PostgreSQL text of one {@link ValueKind}. One shared instance per scalar kind; chosen once
 * per column, so the per-row path is a virtual call with no lookups.
 */
abstract class ValueCodec {

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    abstract void write(BinaryOut out, Object v);

    abstract Object read(BinaryIn in);

    /** PostgreSQL input text for a non-null value. */
    abstract String toText(Object v);

    /** Key bytes must be equal for values PostgreSQL considers equal, so both halves of a key change meet. */
    void writeKey(BinaryOut out, Object v) {
        write(out, v);
    }

    static ValueCodec of(ValueKind kind) {
        return switch (kind) {
            case INT16, INT32, INT64 -> INTEGER;
            case FLOAT32 -> FLOAT32;
            case FLOAT64 -> FLOAT64;
            case BOOL -> BOOL;
            case TEXT -> TEXT;
            case NUMERIC -> NUMERIC;
            case BYTES -> BYTES;
            case DATE -> DATE;
            case TIME -> TIME;
            case TIMESTAMP -> TIMESTAMP;
        };
    }

    /** Values held as a Java long (integers, days, microseconds), written zig-zag varint; only the text differs. */
    private abstract static class LongCodec extends ValueCodec {
        @Override
        void write(BinaryOut out, Object v) {
            out.writeZigZag((Long) v);
        }

        @Override
        Object read(BinaryIn in) {
            return in.readZigZag();
        }
    }

    static final ValueCodec INTEGER = new LongCodec() {
        @Override
        String toText(Object v) {
            return v.toString();
        }
    };

    static final ValueCodec FLOAT32 = new ValueCodec() {
        @Override
        void write(BinaryOut out, Object v) {
            out.writeInt(Float.floatToRawIntBits((Float) v));
        }

        @Override
        void writeKey(BinaryOut out, Object v) {
            float f = (Float) v;
            out.writeInt(Float.floatToIntBits(f == 0f ? 0f : f)); // -0 = 0 and one NaN, as PostgreSQL compares
        }

        @Override
        Object read(BinaryIn in) {
            return Float.intBitsToFloat(in.readInt());
        }

        @Override
        String toText(Object v) {
            return v.toString(); // shortest text that parses back to the same float; NaN, Infinity, -Infinity as PG spells them
        }
    };

    static final ValueCodec FLOAT64 = new ValueCodec() {
        @Override
        void write(BinaryOut out, Object v) {
            out.writeLong(Double.doubleToRawLongBits((Double) v));
        }

        @Override
        void writeKey(BinaryOut out, Object v) {
            double d = (Double) v;
            out.writeLong(Double.doubleToLongBits(d == 0d ? 0d : d));
        }

        @Override
        Object read(BinaryIn in) {
            return Double.longBitsToDouble(in.readLong());
        }

        @Override
        String toText(Object v) {
            return v.toString();
        }
    };

    static final ValueCodec BOOL = new ValueCodec() {
        @Override
        void write(BinaryOut out, Object v) {
            out.writeByte((Boolean) v ? 1 : 0);
        }

        @Override
        Object read(BinaryIn in) {
            return in.readByte() != 0;
        }

        @Override
        String toText(Object v) {
            return (Boolean) v ? "t" : "f";
        }
    };

    static final ValueCodec TEXT = new ValueCodec() {
        @Override
        void write(BinaryOut out, Object v) {
            out.writeString((String) v);
        }

        @Override
        Object read(BinaryIn in) {
            return in.readString();
        }

        @Override
        String toText(Object v) {
            return (String) v;
        }
    };

    static final ValueCodec NUMERIC = new ValueCodec() {
        @Override
        void write(BinaryOut out, Object v) {
            out.writeString((String) v);
        }

        @Override
        void writeKey(BinaryOut out, Object v) {
            out.writeString(canonicalNumeric((String) v));
        }

        @Override
        Object read(BinaryIn in) {
            return in.readString();
        }

        @Override
        String toText(Object v) {
            return (String) v;
        }
    };

    /** 1.50 and 1.5 are one key to PostgreSQL: drop fractional trailing zeros (and NaN's spelling). */
    static String canonicalNumeric(String s) {
        if (s.equalsIgnoreCase("nan")) {
            return "NaN";
        }
        if (s.indexOf('.') < 0 || s.indexOf('e') >= 0 || s.indexOf('E') >= 0) {
            return s;
        }
        int end = s.length();
        while (s.charAt(end - 1) == '0') {
            end--;
        }
        if (s.charAt(end - 1) == '.') {
            end--;
        }
        String c = s.substring(0, end);
        return c.equals("-0") ? "0" : c;
    }

    static final ValueCodec BYTES = new ValueCodec() {
        @Override
        void write(BinaryOut out, Object v) {
            out.writeBytes((byte[]) v);
        }

        @Override
        Object read(BinaryIn in) {
            return in.readBytes();
        }

        @Override
        String toText(Object v) {
            byte[] b = (byte[]) v;
            char[] c = new char[2 + 2 * b.length];
            c[0] = '\\';
            c[1] = 'x';
            for (int i = 0; i < b.length; i++) {
                c[2 + 2 * i] = HEX[(b[i] >> 4) & 0xF];
                c[3 + 2 * i] = HEX[b[i] & 0xF];
            }
            return new String(c);
        }
    };

    static final ValueCodec DATE = new LongCodec() {
        @Override
        String toText(Object v) {
            String inf = infinity((Long) v);
            if (inf != null) {
                return inf;
            }
            StringBuilder sb = new StringBuilder(16);
            LocalDate d = LocalDate.ofEpochDay((Long) v);
            appendDate(sb, d.getYear(), d.getMonthValue(), d.getDayOfMonth());
            if (d.getYear() <= 0) {
                sb.append(" BC");
            }
            return sb.toString();
        }
    };

    static final ValueCodec TIME = new LongCodec() {
        @Override
        String toText(Object v) {
            long micros = (Long) v;
            StringBuilder sb = new StringBuilder(15);
            appendTime(sb, micros / 1_000_000, (int) (micros % 1_000_000));
            return sb.toString();
        }
    };

    static final ValueCodec TIMESTAMP = new LongCodec() {
        @Override
        String toText(Object v) {
            String inf = infinity((Long) v);
            if (inf != null) {
                return inf;
            }
            long micros = (Long) v;
            long seconds = Math.floorDiv(micros, 1_000_000L);
            int frac = (int) Math.floorMod(micros, 1_000_000L);
            LocalDateTime t = LocalDateTime.ofEpochSecond(seconds, 0, ZoneOffset.UTC);
            StringBuilder sb = new StringBuilder(30);
            appendDate(sb, t.getYear(), t.getMonthValue(), t.getDayOfMonth());
            sb.append(' ');
            appendTime(sb, t.toLocalTime().toSecondOfDay(), frac);
            if (t.getYear() <= 0) {
                sb.append(" BC");
            }
            return sb.toString();
        }
    };

    private static String infinity(long v) {
        return v == ValueKind.INFINITY ? "infinity" : v == ValueKind.MINUS_INFINITY ? "-infinity" : null;
    }

    /** ISO year 0 is 1 BC, -1 is 2 BC: PostgreSQL wants the BC year and the suffix. */
    private static void appendDate(StringBuilder sb, int isoYear, int month, int day) {
        int year = isoYear <= 0 ? 1 - isoYear : isoYear;
        pad(sb, year, 4);
        sb.append('-');
        pad(sb, month, 2);
        sb.append('-');
        pad(sb, day, 2);
    }

    private static void appendTime(StringBuilder sb, long secondOfDay, int micros) {
        pad(sb, (int) (secondOfDay / 3600), 2);
        sb.append(':');
        pad(sb, (int) (secondOfDay / 60 % 60), 2);
        sb.append(':');
        pad(sb, (int) (secondOfDay % 60), 2);
        if (micros != 0) {
            sb.append('.');
            pad(sb, micros, 6);
        }
    }

    private static void pad(StringBuilder sb, int v, int width) {
        String s = Integer.toString(v);
        for (int i = s.length(); i < width; i++) {
            sb.append('0');
        }
        sb.append(s);
    }
}
