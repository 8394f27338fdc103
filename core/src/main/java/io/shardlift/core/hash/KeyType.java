package io.shardlift.core.hash;

import java.util.Locale;
import java.util.Optional;

/**
 * The column types shardlift can hash-partition on, each bound to the hash support function that
 * PostgreSQL's default hash operator class for the type calls ({@code pg_amproc}, support number 2).
 *
 * <p>Each constant carries its own object and binary hash, so a {@link KeyHasher} resolves the code
 * for a column once per table and the per-row path does no type dispatch.
 */
public enum KeyType {
    /** int2_ops: {@code hashint2extended}. */
    SMALLINT("int2") {
        @Override
        long hash(Object value, long seed) {
            return PgHash.hashInt4((int) PgHash.integral(this, value, Short.MIN_VALUE, Short.MAX_VALUE), seed);
        }

        @Override
        long hashBinary(byte[] buf, int off, int len, long seed) {
            PgHash.requireLength(this, len, 2);
            return PgHash.hashInt4(PgHash.readShort(buf, off), seed);
        }
    },
    /** int4_ops: {@code hashint4extended}. */
    INTEGER("int4") {
        @Override
        long hash(Object value, long seed) {
            return PgHash.hashInt4((int) PgHash.integral(this, value, Integer.MIN_VALUE, Integer.MAX_VALUE), seed);
        }

        @Override
        long hashBinary(byte[] buf, int off, int len, long seed) {
            PgHash.requireLength(this, len, 4);
            return PgHash.hashInt4(PgHash.readInt(buf, off), seed);
        }
    },
    /** int8_ops: {@code hashint8extended}. */
    BIGINT("int8") {
        @Override
        long hash(Object value, long seed) {
            return PgHash.hashInt8(PgHash.integral(this, value, Long.MIN_VALUE, Long.MAX_VALUE), seed);
        }

        @Override
        long hashBinary(byte[] buf, int off, int len, long seed) {
            PgHash.requireLength(this, len, 8);
            return PgHash.hashInt8(PgHash.readLong(buf, off), seed);
        }
    },
    /** text_ops: {@code hashtextextended} (deterministic collation: the UTF-8 bytes). */
    TEXT("text") {
        @Override
        long hash(Object value, long seed) {
            return PgHash.hashText(PgHash.string(this, value), seed);
        }

        @Override
        long hashBinary(byte[] buf, int off, int len, long seed) {
            PgHash.requireNonNegative(this, len);
            return Lookup3.hashBytesExtended(buf, off, len, seed, 0);
        }
    },
    /** varchar has no hash opclass of its own; it uses text_ops. */
    VARCHAR("varchar") {
        @Override
        long hash(Object value, long seed) {
            return PgHash.hashText(PgHash.string(this, value), seed);
        }

        @Override
        long hashBinary(byte[] buf, int off, int len, long seed) {
            PgHash.requireNonNegative(this, len);
            return Lookup3.hashBytesExtended(buf, off, len, seed, 0);
        }
    },
    /** bpchar_ops: {@code hashbpcharextended}, trailing blanks are not significant. */
    BPCHAR("bpchar") {
        @Override
        long hash(Object value, long seed) {
            return PgHash.hashBpchar(PgHash.string(this, value), seed);
        }

        @Override
        long hashBinary(byte[] buf, int off, int len, long seed) {
            PgHash.requireNonNegative(this, len);
            return Lookup3.hashBytesExtended(buf, off, PgHash.trueLength(buf, off, len), seed, 0);
        }
    },
    /** uuid_ops: {@code uuid_hash_extended} over the 16 bytes. */
    UUID("uuid") {
        @Override
        long hash(Object value, long seed) {
            return PgHash.hashUuid(PgHash.uuid(this, value), seed);
        }

        @Override
        long hashBinary(byte[] buf, int off, int len, long seed) {
            PgHash.requireLength(this, len, 16);
            return Lookup3.hashBytesExtended(buf, off, 16, seed, 0);
        }
    },
    /** numeric_ops: {@code hash_numeric_extended}. */
    NUMERIC("numeric") {
        @Override
        long hash(Object value, long seed) {
            return PgHash.hashNumericObject(this, value, seed);
        }

        @Override
        long hashBinary(byte[] buf, int off, int len, long seed) {
            return PgHash.hashNumericBinary(buf, off, len, seed);
        }
    },
    /** date_ops: {@code hashint4extended} of the days since 2000-01-01. */
    DATE("date") {
        @Override
        long hash(Object value, long seed) {
            return PgHash.hashInt4(PgHash.dateDays(this, value), seed);
        }

        @Override
        long hashBinary(byte[] buf, int off, int len, long seed) {
            PgHash.requireLength(this, len, 4);
            return PgHash.hashInt4(PgHash.readInt(buf, off), seed);
        }
    },
    /** timestamp_ops: {@code timestamp_hash_extended} = {@code hashint8extended} of the microseconds since 2000-01-01. */
    TIMESTAMP("timestamp") {
        @Override
        long hash(Object value, long seed) {
            return PgHash.hashInt8(PgHash.timestampMicros(this, value), seed);
        }

        @Override
        long hashBinary(byte[] buf, int off, int len, long seed) {
            PgHash.requireLength(this, len, 8);
            return PgHash.hashInt8(PgHash.readLong(buf, off), seed);
        }
    },
    /** timestamptz_ops: {@code timestamp_hash_extended} of the microseconds since 2000-01-01 00:00 UTC. */
    TIMESTAMPTZ("timestamptz") {
        @Override
        long hash(Object value, long seed) {
            return PgHash.hashInt8(PgHash.timestamptzMicros(this, value), seed);
        }

        @Override
        long hashBinary(byte[] buf, int off, int len, long seed) {
            PgHash.requireLength(this, len, 8);
            return PgHash.hashInt8(PgHash.readLong(buf, off), seed);
        }
    },
    /** bool_ops: {@code hashcharextended} of 0 or 1. */
    BOOLEAN("bool") {
        @Override
        long hash(Object value, long seed) {
            if (value instanceof Boolean b) {
                return Lookup3.hashUint32Extended(b ? 1 : 0, seed);
            }
            throw PgHash.wrongType(this, value, "Boolean");
        }

        @Override
        long hashBinary(byte[] buf, int off, int len, long seed) {
            PgHash.requireLength(this, len, 1);
            byte b = buf[off];
            if (b != 0 && b != 1) {
                throw new IllegalArgumentException("bool binary value must be 0 or 1 but is " + b);
            }
            return Lookup3.hashUint32Extended(b, seed);
        }
    };

    private final String typname;

    KeyType(String typname) {
        this.typname = typname;
    }

    /** {@code pg_type.typname} of the type, e.g. {@code int4}. */
    public String typname() {
        return typname;
    }

    /**
     * The key type for a {@code pg_type.typname}; empty for a type shardlift cannot route on.
     * Case-insensitive. SQL spellings such as {@code integer} or {@code character varying} are not typnames and give empty.
     */
    public static Optional<KeyType> fromTypname(String typname) {
        if (typname == null) {
            return Optional.empty();
        }
        String wanted = typname.trim().toLowerCase(Locale.ROOT);
        for (KeyType t : values()) {
            if (t.typname.equals(wanted)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    /** The type's extended hash support function applied to a Java value; see {@link PgHash#hashValue}. */
    abstract long hash(Object value, long seed);

    /** The same hash from the value's binary send format; see {@link PgHash#hashBinary}. */
    abstract long hashBinary(byte[] buf, int off, int len, long seed);
}
