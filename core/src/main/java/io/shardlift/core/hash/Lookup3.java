package io.shardlift.core.hash;

/**
 * Bob Jenkins' lookup3 as PostgreSQL uses it, ported from {@code src/common/hashfn.c}
 * ({@code hash_bytes_extended}, {@code hash_bytes_uint32_extended}).
 *
 * <p>Only the little-endian code path is ported: PostgreSQL's hash of a byte string differs between
 * little- and big-endian servers, and every server shardlift targets (x86-64, arm64) is little-endian.
 * The aligned and unaligned little-endian paths of the C code produce the same value; this is the
 * unaligned one, read byte by byte.
 *
 * <p>All arithmetic is on Java {@code int}, which wraps exactly like C {@code uint32}; only the final
 * 64-bit result needs the unsigned widening of {@code c}.
 */
final class Lookup3 {

    private static final int GOLDEN = 0x9e3779b9;
    private static final int FIXED_OFFSET = 3923095;

    private Lookup3() {
    }

    /**
     * {@code hash_bytes_extended(k, len, seed)} over {@code len} bytes of {@code buf} from {@code off}.
     *
     * <p>{@code swap16 = 1} reads the bytes pairwise swapped (stream byte {@code p} is {@code buf[off + (p ^ 1)]}):
     * numeric digits arrive big-endian on the wire but PostgreSQL hashes them as native little-endian
     * int16s, and swapping while reading keeps the binary path free of copies. {@code len} must then be even.
     */
    static long hashBytesExtended(byte[] buf, int off, int len, long seed, int swap16) {
        int a = GOLDEN + len + FIXED_OFFSET;
        int b = a;
        int c = a;

        if (seed != 0) {
            // the seed acts as a 12-byte chunk of data: high word, low word, four zero bytes
            a += (int) (seed >>> 32);
            b += (int) seed;
            // mix(a, b, c)
            a -= c; a ^= Integer.rotateLeft(c, 4);  c += b;
            b -= a; b ^= Integer.rotateLeft(a, 6);  a += c;
            c -= b; c ^= Integer.rotateLeft(b, 8);  b += a;
            a -= c; a ^= Integer.rotateLeft(c, 16); c += b;
            b -= a; b ^= Integer.rotateLeft(a, 19); a += c;
            c -= b; c ^= Integer.rotateLeft(b, 4);  b += a;
        }

        int p = 0;
        int rem = len;
        while (rem >= 12) {
            a += word(buf, off, p, swap16);
            b += word(buf, off, p + 4, swap16);
            c += word(buf, off, p + 8, swap16);
            // mix(a, b, c)
            a -= c; a ^= Integer.rotateLeft(c, 4);  c += b;
            b -= a; b ^= Integer.rotateLeft(a, 6);  a += c;
            c -= b; c ^= Integer.rotateLeft(b, 8);  b += a;
            a -= c; a ^= Integer.rotateLeft(c, 16); c += b;
            b -= a; b ^= Integer.rotateLeft(a, 19); a += c;
            c -= b; c ^= Integer.rotateLeft(b, 4);  b += a;
            p += 12;
            rem -= 12;
        }

        // The C switch falls through from case 11 down to case 1; the lowest byte of c is left for the length.
        if (rem >= 11) {
            c += at(buf, off, p + 10, swap16) << 24;
        }
        if (rem >= 10) {
            c += at(buf, off, p + 9, swap16) << 16;
        }
        if (rem >= 9) {
            c += at(buf, off, p + 8, swap16) << 8;
        }
        if (rem >= 8) {
            b += at(buf, off, p + 7, swap16) << 24;
        }
        if (rem >= 7) {
            b += at(buf, off, p + 6, swap16) << 16;
        }
        if (rem >= 6) {
            b += at(buf, off, p + 5, swap16) << 8;
        }
        if (rem >= 5) {
            b += at(buf, off, p + 4, swap16);
        }
        if (rem >= 4) {
            a += at(buf, off, p + 3, swap16) << 24;
        }
        if (rem >= 3) {
            a += at(buf, off, p + 2, swap16) << 16;
        }
        if (rem >= 2) {
            a += at(buf, off, p + 1, swap16) << 8;
        }
        if (rem >= 1) {
            a += at(buf, off, p, swap16);
        }

        // final(a, b, c)
        c ^= b; c -= Integer.rotateLeft(b, 14);
        a ^= c; a -= Integer.rotateLeft(c, 11);
        b ^= a; b -= Integer.rotateLeft(a, 25);
        c ^= b; c -= Integer.rotateLeft(b, 16);
        a ^= c; a -= Integer.rotateLeft(c, 4);
        b ^= a; b -= Integer.rotateLeft(a, 14);
        c ^= b; c -= Integer.rotateLeft(b, 24);

        return ((long) b << 32) | (c & 0xFFFFFFFFL);
    }

    /** {@code hash_bytes_uint32_extended(k, seed)}: the same value as hashing the 4 little-endian bytes of k. */
    static long hashUint32Extended(int k, long seed) {
        int a = GOLDEN + 4 + FIXED_OFFSET;
        int b = a;
        int c = a;

        if (seed != 0) {
            a += (int) (seed >>> 32);
            b += (int) seed;
            // mix(a, b, c)
            a -= c; a ^= Integer.rotateLeft(c, 4);  c += b;
            b -= a; b ^= Integer.rotateLeft(a, 6);  a += c;
            c -= b; c ^= Integer.rotateLeft(b, 8);  b += a;
            a -= c; a ^= Integer.rotateLeft(c, 16); c += b;
            b -= a; b ^= Integer.rotateLeft(a, 19); a += c;
            c -= b; c ^= Integer.rotateLeft(b, 4);  b += a;
        }

        a += k;

        // final(a, b, c)
        c ^= b; c -= Integer.rotateLeft(b, 14);
        a ^= c; a -= Integer.rotateLeft(c, 11);
        b ^= a; b -= Integer.rotateLeft(a, 25);
        c ^= b; c -= Integer.rotateLeft(b, 16);
        a ^= c; a -= Integer.rotateLeft(c, 4);
        b ^= a; b -= Integer.rotateLeft(a, 14);
        c ^= b; c -= Integer.rotateLeft(b, 24);

        return ((long) b << 32) | (c & 0xFFFFFFFFL);
    }

    private static int at(byte[] buf, int off, int p, int swap16) {
        return buf[off + (p ^ swap16)] & 0xFF;
    }

    private static int word(byte[] buf, int off, int p, int swap16) {
        return at(buf, off, p, swap16)
                | at(buf, off, p + 1, swap16) << 8
                | at(buf, off, p + 2, swap16) << 16
                | at(buf, off, p + 3, swap16) << 24;
    }
}
