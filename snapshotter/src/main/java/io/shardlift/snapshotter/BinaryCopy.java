package io.shardlift.snapshotter;

/** PostgreSQL's binary COPY format: header, tuples ({@code int16} field count, then {@code int32} length + bytes), trailer. */
final class BinaryCopy {

    /** "PGCOPY\n\377\r\n\0", flags 0, header extension length 0. */
    static final byte[] HEADER = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xFF, '\r', '\n', 0, 0, 0, 0, 0, 0, 0, 0, 0};
    static final int SIGNATURE_LENGTH = 11;
    static final byte[] TRAILER = {(byte) 0xFF, (byte) 0xFF};

    private BinaryCopy() {
    }

    static int int16(byte[] b, int at) {
        return (short) (((b[at] & 0xFF) << 8) | (b[at + 1] & 0xFF));
    }

    static int int32(byte[] b, int at) {
        return ((b[at] & 0xFF) << 24) | ((b[at + 1] & 0xFF) << 16) | ((b[at + 2] & 0xFF) << 8) | (b[at + 3] & 0xFF);
    }

    /** Length of the header at {@code at} (signature, flags, extension), checking the signature. */
    static int headerLength(byte[] b, int at, int end) {
        if (end - at < HEADER.length) {
            throw new IllegalStateException("binary COPY stream shorter than its header");
        }
        for (int i = 0; i < SIGNATURE_LENGTH; i++) {
            if (b[at + i] != HEADER[i]) {
                throw new IllegalStateException("not a binary COPY stream: bad signature");
            }
        }
        int flags = int32(b, at + SIGNATURE_LENGTH);
        if ((flags & (1 << 16)) != 0) {
            throw new IllegalStateException("binary COPY stream with OIDs is not supported");
        }
        int ext = int32(b, at + SIGNATURE_LENGTH + 4);
        return HEADER.length + ext;
    }
}
