package io.shardlift.core.hash;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZonedDateTime;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * PostgreSQL's extended (64-bit, seeded) hash functions, bit for bit, for the types in {@link KeyType}.
 *
 * <p>A hash-partitioned table sends a row to the partition whose remainder is
 * {@code compute_partition_hash_value(...) mod modulus} (unsigned); {@link KeyHasher} does that
 * combination, this class hashes single values. Two entry points compute the same value:
 * {@link #hashValue} from a Java object (the CDC path) and {@link #hashBinary} from the type's binary
 * send format, as {@code COPY ... (FORMAT binary)} emits it (the bulk-copy path, no allocation).
 *
 * <p>What this class assumes about the target, and the planner must check before routing a table:
 * <ul>
 *   <li>the database encoding is UTF8: text, varchar and char(n) are hashed as their UTF-8 bytes, which
 *       is what PostgreSQL hashes only for a deterministic collation in a UTF8 database;</li>
 *   <li>the partition key's collation ({@code pg_partitioned_table.partcollation}, which may differ from
 *       the column's) is deterministic: a nondeterministic one hashes the collation sort key, so
 *       {@code 'abc'} and {@code 'ABC'} share a partition and byte hashing routes them wrong;</li>
 *   <li>each key column uses its type's default hash operator class and is a plain column, not an expression;</li>
 *   <li>the servers are little-endian (see {@link Lookup3}).</li>
 * </ul>
 *
 * <p>Its size (over 400 lines) is PostgreSQL's: one port per hash function of {@code hashfunc.c} and the type
 * files, kept side by side so that each can be compared with its C original line by line.
 */
public final class PgHash {

    /** {@code HASH_PARTITION_SEED} from PostgreSQL's {@code src/include/catalog/partition.h}. */
    public static final long HASH_PARTITION_SEED = 0x7A5B22367996DCFDL;

    /** 2000-01-01, PostgreSQL's epoch for date and timestamp, as a Java epoch day. */
    private static final long PG_EPOCH_DAY = 10_957L;
    private static final long PG_EPOCH_SECOND = PG_EPOCH_DAY * 86_400L;
    private static final long MICROS_PER_DAY = 86_400_000_000L;

    /** Valid dates are days in [DATE_MIN, DATE_END) since 2000-01-01 (4714-11-24 BC to 5874898-01-01). */
    private static final long DATE_MIN = -2_451_545L;
    private static final long DATE_END = 2_147_483_494L - 2_451_545L;
    /** Valid timestamps are microseconds in [TIMESTAMP_MIN, TIMESTAMP_END) since 2000-01-01 (4714-11-24 BC to 294277-01-01). */
    private static final long TIMESTAMP_MIN = -211_813_488_000_000_000L;
    private static final long TIMESTAMP_END = 9_223_371_331_200_000_000L;

    private static final int NUMERIC_POS = 0x0000;
    private static final int NUMERIC_NEG = 0x4000;
    private static final int NUMERIC_NAN = 0xC000;
    private static final int NUMERIC_PINF = 0xD000;
    private static final int NUMERIC_NINF = 0xF000;
    private static final int NUMERIC_WEIGHT_MAX = Short.MAX_VALUE;
    private static final int NUMERIC_DSCALE_MAX = 0x3FFF;
    private static final int[] POW10 = {1, 10, 100, 1000};

    /** float8_numeric and float4_numeric print DBL_DIG and FLT_DIG significant digits. */
    private static final MathContext FLOAT8_DIGITS = new MathContext(15, RoundingMode.HALF_EVEN);
    private static final MathContext FLOAT4_DIGITS = new MathContext(6, RoundingMode.HALF_EVEN);

    private PgHash() {
    }

    /** {@code hash_combine64(a, b)} from {@code src/include/common/hashfn.h}. */
    public static long hashCombine64(long a, long b) {
        // 0x49a0f4dd15e5a8e3 is 64 bits of random data; the shifts are unsigned in C
        return a ^ (b + 0x49a0f4dd15e5a8e3L + (a << 54) + (a >>> 7));
    }

    /**
     * The type's extended hash support function applied to {@code value} with {@code seed}, as
     * {@code SELECT hashint4extended(42, seed)} etc. would return it (as a signed long).
     *
     * <p>Accepted Java types: SMALLINT, INTEGER, BIGINT any integral Number in range (Short, Integer,
     * Long, BigInteger, an integer-valued BigDecimal); TEXT, VARCHAR, BPCHAR a String; UUID a
     * {@link java.util.UUID} or its text form; NUMERIC a BigDecimal, any Number (Double and Float as
     * PostgreSQL's float-to-numeric cast rounds them) or a String including {@code NaN},
     * {@code Infinity}, {@code -Infinity}; DATE a LocalDate or {@code "infinity"}/{@code "-infinity"};
     * TIMESTAMP a LocalDateTime; TIMESTAMPTZ an OffsetDateTime, ZonedDateTime or Instant; BOOLEAN a
     * Boolean. The JDBC driver's infinity stand-ins ({@code LocalDate.MAX}, {@code LocalDateTime.MIN},
     * {@code OffsetDateTime.MAX} ...) mean infinity. Sub-microsecond time is rounded half up, as the
     * JDBC driver does when it sends the value.
     *
     * <p>The value must already be what the column stores: a typmod such as {@code numeric(10,2)},
     * {@code varchar(5)} or {@code timestamp(0)} rounds or truncates on insert and is not applied here.
     *
     * @throws IllegalArgumentException for a null value (PostgreSQL does not hash NULL keys, it skips
     *     them), a Java type the key type does not accept, or a value out of the type's range
     */
    public static long hashValue(KeyType type, Object value, long seed) {
        Objects.requireNonNull(type, "type");
        if (value == null) {
            throw new IllegalArgumentException("a NULL " + type.typname() + " key value has no hash: PostgreSQL skips NULL key columns");
        }
        return type.hash(value, seed);
    }

    /**
     * The same hash as {@link #hashValue} from the value's PostgreSQL binary send format in
     * {@code buf[off, off + len)}: int2/int4/int8, date and timestamp(tz) big-endian, text and varchar
     * the UTF-8 bytes, bpchar with its blank padding, uuid 16 bytes, numeric as {@code numeric_send}
     * writes it, bool one byte. Allocates nothing unless the value is malformed.
     *
     * @throws IllegalArgumentException if {@code len} does not fit the type or the bytes are not a valid value
     */
    public static long hashBinary(KeyType type, byte[] buf, int off, int len, long seed) {
        if (len < 0) {
            throw new IllegalArgumentException("a NULL " + type.typname() + " key value has no hash: PostgreSQL skips NULL key columns");
        }
        Objects.checkFromIndexSize(off, len, buf.length);
        return type.hashBinary(buf, off, len, seed);
    }

    // ---- per-type hash functions --------------------------------------------------------------

    /** {@code hashint4extended}; also int2 (sign-extended), date and bool go through hash_uint32_extended. */
    static long hashInt4(int v, long seed) {
        return Lookup3.hashUint32Extended(v, seed);
    }

    /** {@code hashint8extended}: folds the high half into the low half so equal int2/4/8 values hash alike. */
    static long hashInt8(long v, long seed) {
        int lo = (int) v;
        int hi = (int) (v >> 32);
        lo ^= v >= 0 ? hi : ~hi;
        return Lookup3.hashUint32Extended(lo, seed);
    }

    static long hashText(String s, long seed) {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        return Lookup3.hashBytesExtended(utf8, 0, utf8.length, seed, 0);
    }

    /** {@code hashbpcharextended}: like text, without the trailing blanks ({@code bcTruelen}). */
    static long hashBpchar(String s, long seed) {
        int n = s.length();
        while (n > 0 && s.charAt(n - 1) == ' ') {
            n--;
        }
        return hashText(n == s.length() ? s : s.substring(0, n), seed);
    }

    static long hashUuid(java.util.UUID u, long seed) {
        byte[] b = new byte[16];
        writeLong(b, 0, u.getMostSignificantBits());
        writeLong(b, 8, u.getLeastSignificantBits());
        return Lookup3.hashBytesExtended(b, 0, 16, seed, 0);
    }

    static long hashNumericObject(KeyType type, Object value, long seed) {
        if (value instanceof BigDecimal bd) {
            return hashDecimal(bd, seed);
        }
        if (value instanceof BigInteger bi) {
            return hashDecimal(new BigDecimal(bi), seed);
        }
        if (value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte
                || value instanceof AtomicLong || value instanceof AtomicInteger) {
            return hashDecimal(BigDecimal.valueOf(((Number) value).longValue()), seed);
        }
        if (value instanceof Double || value instanceof Float) {
            double d = ((Number) value).doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                return seed;
            }
            // what float8_numeric / float4_numeric store: the value printed with %.15g / %.6g
            return hashDecimal(new BigDecimal(d).round(value instanceof Double ? FLOAT8_DIGITS : FLOAT4_DIGITS), seed);
        }
        if (value instanceof CharSequence cs) {
            String s = cs.toString().trim();
            String lower = s.toLowerCase(Locale.ROOT);
            switch (lower) {
                case "nan", "infinity", "+infinity", "-infinity", "inf", "+inf", "-inf" -> {
                    return seed;
                }
                default -> {
                    try {
                        return hashDecimal(new BigDecimal(s), seed);
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("numeric key value '" + s + "' is not a number", e);
                    }
                }
            }
        }
        throw wrongType(type, value, "BigDecimal, another Number or String");
    }

    /**
     * {@code hash_numeric_extended} of a finite value: the base-10000 digits PostgreSQL would store,
     * hashed as native int16s, XOR the weight. Scale and sign are not hashed, so 1.5, 1.500 and -1.5 hash alike.
     */
    static long hashDecimal(BigDecimal value, long seed) {
        if (value.signum() == 0) {
            return seed - 1;
        }
        String decimal = value.unscaledValue().abs().toString();
        int n = decimal.length();
        long lastExp = -(long) value.scale();
        while (decimal.charAt(n - 1) == '0') {
            n--;
            lastExp++;
        }
        long firstExp = lastExp + n - 1;
        long weight = Math.floorDiv(firstExp, 4);
        if (weight > NUMERIC_WEIGHT_MAX || lastExp < -NUMERIC_DSCALE_MAX) {
            throw new IllegalArgumentException("numeric key value " + value + " is out of range for numeric");
        }
        int ndigits = (int) (weight - Math.floorDiv(lastExp, 4) + 1);
        byte[] digits = new byte[2 * ndigits];
        int group = -1;
        int acc = 0;
        for (int i = 0; i < n; i++) {
            long exp = firstExp - i;
            int g = (int) (weight - Math.floorDiv(exp, 4));
            if (g != group) {
                if (group >= 0) {
                    writeShort(digits, 2 * group, acc);
                }
                group = g;
                acc = 0;
            }
            acc += (decimal.charAt(i) - '0') * POW10[Math.floorMod(exp, 4)];
        }
        writeShort(digits, 2 * group, acc);
        return hashNumericDigits(digits, 0, ndigits, (int) weight, seed);
    }

    /** {@code hash_numeric_extended} from {@code numeric_send}'s layout: ndigits, weight, sign, dscale, digits, all big-endian int16. */
    static long hashNumericBinary(byte[] buf, int off, int len, long seed) {
        if (len < 8) {
            throw new IllegalArgumentException("numeric binary value must be at least 8 bytes but is " + len);
        }
        int ndigits = readShort(buf, off);
        int weight = readShort(buf, off + 2);
        int sign = readShort(buf, off + 4) & 0xFFFF;
        switch (sign) {
            case NUMERIC_NAN, NUMERIC_PINF, NUMERIC_NINF:
                return seed;
            case NUMERIC_POS, NUMERIC_NEG:
                break;
            default:
                throw new IllegalArgumentException("numeric binary sign must be 0x0000, 0x4000, 0xC000, 0xD000 or 0xF000 but is 0x"
                        + Integer.toHexString(sign));
        }
        if (ndigits < 0 || len != 8 + 2 * ndigits) {
            throw new IllegalArgumentException("numeric binary value with " + ndigits + " digits must be "
                    + (8 + 2L * ndigits) + " bytes but is " + len);
        }
        return hashNumericDigits(buf, off + 8, ndigits, weight, seed);
    }

    /** The finite part of {@code hash_numeric_extended}, over big-endian int16 digits at {@code buf[off]}. */
    private static long hashNumericDigits(byte[] buf, int off, int ndigits, int weight, long seed) {
        int start = 0;
        while (start < ndigits && buf[off + 2 * start] == 0 && buf[off + 2 * start + 1] == 0) {
            start++;
            weight--;
        }
        if (start == ndigits) {
            return seed - 1;
        }
        int end = ndigits;
        while (buf[off + 2 * end - 2] == 0 && buf[off + 2 * end - 1] == 0) {
            end--;
        }
        long digitHash = Lookup3.hashBytesExtended(buf, off + 2 * start, 2 * (end - start), seed, 1);
        // weight is a C int XORed into a uint64: sign-extended
        return digitHash ^ (long) weight;
    }

    // ---- Java value conversions ---------------------------------------------------------------

    static long integral(KeyType type, Object value, long min, long max) {
        long v;
        if (value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte
                || value instanceof AtomicLong || value instanceof AtomicInteger) {
            v = ((Number) value).longValue();
        } else if (value instanceof BigInteger bi) {
            if (bi.bitLength() > 63) {
                throw outOfRange(type, value);
            }
            v = bi.longValue();
        } else if (value instanceof BigDecimal bd) {
            if (bd.signum() != 0 && bd.stripTrailingZeros().scale() > 0) {
                throw new IllegalArgumentException(type + " (" + type.typname() + ") key value " + value + " is not an integer");
            }
            try {
                v = bd.longValueExact();
            } catch (ArithmeticException e) {
                throw outOfRange(type, value);
            }
        } else {
            String wanted = switch (type) {
                case SMALLINT -> "Short";
                case INTEGER -> "Integer";
                default -> "Long";
            };
            throw wrongType(type, value, wanted + " or another integral Number");
        }
        if (v < min || v > max) {
            throw outOfRange(type, value);
        }
        return v;
    }

    static String string(KeyType type, Object value) {
        if (value instanceof CharSequence cs) {
            return cs.toString();
        }
        throw wrongType(type, value, "String");
    }

    static java.util.UUID uuid(KeyType type, Object value) {
        if (value instanceof java.util.UUID u) {
            return u;
        }
        if (value instanceof CharSequence cs) {
            return parseUuid(cs.toString());
        }
        throw wrongType(type, value, "java.util.UUID or String");
    }

    /** uuid_in's forms: 32 hex digits, optionally in braces, with a hyphen allowed after any group of four. */
    private static java.util.UUID parseUuid(String s) {
        String t = s.trim();
        int from = 0;
        int to = t.length();
        if (to >= 2 && t.charAt(0) == '{' && t.charAt(to - 1) == '}') {
            from++;
            to--;
        }
        long hi = 0;
        long lo = 0;
        int hex = 0;
        boolean hyphenAllowed = false;
        for (int i = from; i < to; i++) {
            char ch = t.charAt(i);
            if (ch == '-' && hyphenAllowed) {
                hyphenAllowed = false;
                continue;
            }
            int d = ch >= '0' && ch <= '9' ? ch - '0'
                    : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                    : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                    : -1;
            if (d < 0 || hex == 32) {
                throw new IllegalArgumentException("uuid key value '" + s + "' is not a valid uuid");
            }
            if (hex < 16) {
                hi = hi << 4 | d;
            } else {
                lo = lo << 4 | d;
            }
            hex++;
            hyphenAllowed = hex % 4 == 0 && hex < 32;
        }
        if (hex != 32) {
            throw new IllegalArgumentException("uuid key value '" + s + "' is not a valid uuid");
        }
        return new java.util.UUID(hi, lo);
    }

    /** Days since 2000-01-01; infinity and -infinity are INT32 max and min, as DATEVAL_NOEND / DATEVAL_NOBEGIN. */
    static int dateDays(KeyType type, Object value) {
        if (value instanceof LocalDate d) {
            if (d.equals(LocalDate.MAX)) {
                return Integer.MAX_VALUE;
            }
            if (d.equals(LocalDate.MIN)) {
                return Integer.MIN_VALUE;
            }
            long days = d.toEpochDay() - PG_EPOCH_DAY;
            if (days < DATE_MIN || days >= DATE_END) {
                throw outOfRange(type, value);
            }
            return (int) days;
        }
        if (value instanceof CharSequence cs) {
            String s = cs.toString().trim();
            int inf = infinity(s);
            if (inf != 0) {
                return inf > 0 ? Integer.MAX_VALUE : Integer.MIN_VALUE;
            }
            try {
                return dateDays(type, LocalDate.parse(s));
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("date key value '" + s + "' is neither an ISO date nor infinity or -infinity", e);
            }
        }
        throw wrongType(type, value, "LocalDate or String");
    }

    /** Microseconds since 2000-01-01 00:00 (wall clock); infinity and -infinity are INT64 max and min. */
    static long timestampMicros(KeyType type, Object value) {
        if (value instanceof LocalDateTime t) {
            if (t.equals(LocalDateTime.MAX)) {
                return Long.MAX_VALUE;
            }
            if (t.equals(LocalDateTime.MIN)) {
                return Long.MIN_VALUE;
            }
            return checkedMicros(type, value, t.toLocalDate().toEpochDay() - PG_EPOCH_DAY, t.toLocalTime().toNanoOfDay());
        }
        if (value instanceof CharSequence cs) {
            String s = cs.toString().trim();
            int inf = infinity(s);
            if (inf != 0) {
                return inf > 0 ? Long.MAX_VALUE : Long.MIN_VALUE;
            }
            try {
                return timestampMicros(type, LocalDateTime.parse(s));
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("timestamp key value '" + s + "' is neither an ISO date-time nor infinity or -infinity", e);
            }
        }
        throw wrongType(type, value, "LocalDateTime");
    }

    /** Microseconds since 2000-01-01 00:00 UTC; infinity and -infinity are INT64 max and min. */
    static long timestamptzMicros(KeyType type, Object value) {
        Instant instant;
        if (value instanceof Instant i) {
            instant = i;
        } else if (value instanceof OffsetDateTime t) {
            if (t.equals(OffsetDateTime.MAX)) {
                return Long.MAX_VALUE;
            }
            if (t.equals(OffsetDateTime.MIN)) {
                return Long.MIN_VALUE;
            }
            instant = t.toInstant();
        } else if (value instanceof ZonedDateTime t) {
            instant = t.toInstant();
        } else if (value instanceof CharSequence cs) {
            String s = cs.toString().trim();
            int inf = infinity(s);
            if (inf != 0) {
                return inf > 0 ? Long.MAX_VALUE : Long.MIN_VALUE;
            }
            try {
                instant = OffsetDateTime.parse(s).toInstant();
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("timestamptz key value '" + s
                        + "' is neither an ISO date-time with offset nor infinity or -infinity", e);
            }
        } else {
            throw wrongType(type, value, "OffsetDateTime or Instant");
        }
        long days = Math.floorDiv(instant.getEpochSecond(), 86_400L) - PG_EPOCH_DAY;
        long nanoOfDay = Math.floorMod(instant.getEpochSecond(), 86_400L) * 1_000_000_000L + instant.getNano();
        return checkedMicros(type, value, days, nanoOfDay);
    }

    private static long checkedMicros(KeyType type, Object value, long days, long nanoOfDay) {
        // range check on days first: the multiplication would overflow for years far outside PostgreSQL's range
        if (days < TIMESTAMP_MIN / MICROS_PER_DAY - 1 || days > TIMESTAMP_END / MICROS_PER_DAY + 1) {
            throw outOfRange(type, value);
        }
        long micros = days * MICROS_PER_DAY + (nanoOfDay + 500) / 1000;
        if (micros < TIMESTAMP_MIN || micros >= TIMESTAMP_END) {
            throw outOfRange(type, value);
        }
        return micros;
    }

    /** +1 for infinity, -1 for -infinity (as date/timestamp input spells them), 0 otherwise. */
    private static int infinity(String s) {
        if (s.equalsIgnoreCase("infinity") || s.equalsIgnoreCase("+infinity")) {
            return 1;
        }
        if (s.equalsIgnoreCase("-infinity")) {
            return -1;
        }
        return 0;
    }

    // ---- binary helpers -----------------------------------------------------------------------

    /** {@code bcTruelen}: the length without trailing blanks (0x20 never occurs inside a UTF-8 sequence). */
    static int trueLength(byte[] buf, int off, int len) {
        int n = len;
        while (n > 0 && buf[off + n - 1] == ' ') {
            n--;
        }
        return n;
    }

    static int readShort(byte[] b, int off) {
        return (short) ((b[off] & 0xFF) << 8 | (b[off + 1] & 0xFF));
    }

    static int readInt(byte[] b, int off) {
        return (b[off] & 0xFF) << 24 | (b[off + 1] & 0xFF) << 16 | (b[off + 2] & 0xFF) << 8 | (b[off + 3] & 0xFF);
    }

    static long readLong(byte[] b, int off) {
        return (long) readInt(b, off) << 32 | (readInt(b, off + 4) & 0xFFFFFFFFL);
    }

    private static void writeShort(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 8);
        b[off + 1] = (byte) v;
    }

    private static void writeLong(byte[] b, int off, long v) {
        for (int i = 7; i >= 0; i--) {
            b[off + i] = (byte) v;
            v >>>= 8;
        }
    }

    static void requireLength(KeyType type, int len, int expected) {
        if (len != expected) {
            throw new IllegalArgumentException(type.typname() + " binary value must be " + expected + " bytes but is " + len);
        }
    }

    static void requireNonNegative(KeyType type, int len) {
        if (len < 0) {
            throw new IllegalArgumentException(type.typname() + " binary value length must not be negative but is " + len);
        }
    }

    // ---- errors -------------------------------------------------------------------------------

    static IllegalArgumentException wrongType(KeyType type, Object value, String expected) {
        return new IllegalArgumentException("cannot hash a " + value.getClass().getName() + " as a " + type + " ("
                + type.typname() + ") key value: expected " + expected);
    }

    private static IllegalArgumentException outOfRange(KeyType type, Object value) {
        return new IllegalArgumentException(type + " (" + type.typname() + ") key value " + value + " is out of range");
    }
}
