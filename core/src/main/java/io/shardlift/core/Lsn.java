package io.shardlift.core;

/**
 * A PostgreSQL WAL position, {@code 16/B374D848} in text. Ordered as unsigned 64-bit. The one text codec for
 * LSNs: the change stream carries them as {@code long}s and formats them through {@link #format(long)}.
 */
public record Lsn(long value) implements Comparable<Lsn> {

    /** Parses {@code 16/B374D848}. */
    public static Lsn parse(String text) {
        int slash = text.indexOf('/');
        if (slash < 1 || slash == text.length() - 1) {
            throw new IllegalArgumentException("\"" + text + "\" is not an LSN (expected hex/hex, e.g. 16/B374D848)");
        }
        long hi = Long.parseUnsignedLong(text.substring(0, slash), 16);
        long lo = Long.parseUnsignedLong(text.substring(slash + 1), 16);
        return new Lsn((hi << 32) | lo);
    }

    /** PostgreSQL's text form of the LSN {@code value}. */
    public static String format(long value) {
        return Long.toHexString(value >>> 32).toUpperCase() + "/" + Long.toHexString(value & 0xFFFFFFFFL).toUpperCase();
    }

    @Override
    public int compareTo(Lsn o) {
        return Long.compareUnsigned(value, o.value);
    }

    public boolean isAfter(Lsn o) {
        return compareTo(o) > 0;
    }

    @Override
    public String toString() {
        return format(value);
    }
}
