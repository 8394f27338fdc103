package io.shardlift.cdc.event;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** A growable byte buffer with varint writers; reused per thread, never shared. */
final class BinaryOut {

    private byte[] buf;
    private int pos;

    BinaryOut(int initial) {
        buf = new byte[initial];
    }

    void reset() {
        pos = 0;
    }

    int position() {
        return pos;
    }

    byte[] toByteArray() {
        return Arrays.copyOf(buf, pos);
    }

    private void ensure(int more) {
        if (pos + more > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + more));
        }
    }

    void writeByte(int b) {
        ensure(1);
        buf[pos++] = (byte) b;
    }

    /** Reserves {@code n} zero bytes and returns their offset (for a bitmap filled in later). */
    int reserve(int n) {
        ensure(n);
        int at = pos;
        Arrays.fill(buf, at, at + n, (byte) 0);
        pos += n;
        return at;
    }

    void orByte(int at, int bits) {
        buf[at] |= (byte) bits;
    }

    void writeInt(int v) {
        ensure(4);
        buf[pos++] = (byte) (v >>> 24);
        buf[pos++] = (byte) (v >>> 16);
        buf[pos++] = (byte) (v >>> 8);
        buf[pos++] = (byte) v;
    }

    void writeLong(long v) {
        ensure(8);
        for (int shift = 56; shift >= 0; shift -= 8) {
            buf[pos++] = (byte) (v >>> shift);
        }
    }

    /** Unsigned LEB128. */
    void writeVarLong(long v) {
        ensure(10);
        while ((v & ~0x7FL) != 0) {
            buf[pos++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        buf[pos++] = (byte) v;
    }

    /** Zigzag then LEB128: small negative numbers stay small. */
    void writeZigZag(long v) {
        writeVarLong((v << 1) ^ (v >> 63));
    }

    void writeBytes(byte[] b) {
        writeVarLong(b.length);
        ensure(b.length);
        System.arraycopy(b, 0, buf, pos, b.length);
        pos += b.length;
    }

    /** Length-prefixed UTF-8, encoded straight into the buffer (no intermediate byte[] for ASCII-heavy text). */
    void writeString(String s) {
        int n = s.length();
        boolean ascii = true;
        for (int i = 0; i < n; i++) {
            if (s.charAt(i) >= 0x80) {
                ascii = false;
                break;
            }
        }
        if (!ascii) {
            writeBytes(s.getBytes(StandardCharsets.UTF_8));
            return;
        }
        writeVarLong(n);
        ensure(n);
        for (int i = 0; i < n; i++) {
            buf[pos++] = (byte) s.charAt(i);
        }
    }
}
