package io.shardlift.cdc.event;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Reads what {@link BinaryOut} wrote; every read is bounds-checked and fails with the offset. */
final class BinaryIn {

    private final byte[] buf;
    private int pos;

    BinaryIn(byte[] buf) {
        this.buf = buf;
    }

    boolean atEnd() {
        return pos == buf.length;
    }

    int position() {
        return pos;
    }

    private void need(int n) {
        if (n < 0 || pos + n > buf.length) {
            throw new IllegalArgumentException("change event truncated: need " + n + " bytes at offset " + pos
                    + " of " + buf.length);
        }
    }

    int readByte() {
        need(1);
        return buf[pos++] & 0xFF;
    }

    int peekByte(int at) {
        return buf[at] & 0xFF;
    }

    int skip(int n) {
        need(n);
        int at = pos;
        pos += n;
        return at;
    }

    int readInt() {
        need(4);
        int v = ((buf[pos] & 0xFF) << 24) | ((buf[pos + 1] & 0xFF) << 16) | ((buf[pos + 2] & 0xFF) << 8) | (buf[pos + 3] & 0xFF);
        pos += 4;
        return v;
    }

    long readLong() {
        need(8);
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (buf[pos++] & 0xFF);
        }
        return v;
    }

    long readVarLong() {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            int b = readByte();
            v |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return v;
            }
        }
        throw new IllegalArgumentException("malformed varint at offset " + pos);
    }

    int readLength() {
        long n = readVarLong();
        if (n > buf.length - pos) {
            throw new IllegalArgumentException("change event truncated: length " + n + " at offset " + pos + " of " + buf.length);
        }
        return (int) n;
    }

    long readZigZag() {
        long v = readVarLong();
        return (v >>> 1) ^ -(v & 1);
    }

    byte[] readBytes() {
        int n = readLength();
        byte[] b = Arrays.copyOfRange(buf, pos, pos + n);
        pos += n;
        return b;
    }

    String readString() {
        int n = readLength();
        String s = new String(buf, pos, n, StandardCharsets.UTF_8);
        pos += n;
        return s;
    }
}
