package io.shardlift.snapshotter;

import java.sql.SQLException;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyManager;

/**
 * A binary {@code COPY ... FROM STDIN} into one node, opened on the first tuple. Tuples are gathered in
 * a fixed buffer and sent in large CopyData messages; a slow node blocks the writer (backpressure).
 */
final class NodeCopySink implements TupleSink {

    static final int BUFFER_BYTES = 256 * 1024;

    private final int node;
    private final CopyManager copyManager;
    private final String copySql;
    private final byte[] buffer = new byte[BUFFER_BYTES];
    private int filled;
    private CopyIn copyIn;
    private long rows;

    NodeCopySink(int node, CopyManager copyManager, String copySql) {
        this.node = node;
        this.copyManager = copyManager;
        this.copySql = copySql;
    }

    @Override
    public void write(byte[] buf, int off, int len) {
        try {
            if (copyIn == null) {
                copyIn = copyManager.copyIn(copySql);
                append(BinaryCopy.HEADER, 0, BinaryCopy.HEADER.length);
            }
            append(buf, off, len);
            rows++;
        } catch (SQLException e) {
            throw new CopySinkException(node, e);
        }
    }

    private void append(byte[] buf, int off, int len) throws SQLException {
        if (filled + len > buffer.length) {
            flush();
        }
        if (len > buffer.length) {
            copyIn.writeToCopy(buf, off, len);
            return;
        }
        System.arraycopy(buf, off, buffer, filled, len);
        filled += len;
    }

    private void flush() throws SQLException {
        if (filled > 0) {
            copyIn.writeToCopy(buffer, 0, filled);
            filled = 0;
        }
    }

    /** Ends the COPY (if one was opened) and returns the rows the node reported. */
    long finish() throws SQLException {
        if (copyIn == null) {
            return 0;
        }
        append(BinaryCopy.TRAILER, 0, BinaryCopy.TRAILER.length);
        flush();
        long reported = copyIn.endCopy();
        copyIn = null;
        if (reported != rows) {
            throw new SQLException("node took " + reported + " rows, " + rows + " were sent");
        }
        return reported;
    }

    /** Abandons an open COPY after a failure elsewhere; the transaction is rolled back by the caller. */
    void abort() {
        if (copyIn != null) {
            try {
                copyIn.cancelCopy();
            } catch (SQLException ignored) {
                // the connection is rolled back or closed next
            }
            copyIn = null;
        }
    }

    /** Wraps the SQLException of a sink so that it can cross {@link TupleSink#write}. */
    static final class CopySinkException extends RuntimeException {
        final int node;

        CopySinkException(int node, SQLException cause) {
            super(cause.getMessage(), cause);
            this.node = node;
        }

        @Override
        public synchronized SQLException getCause() {
            return (SQLException) super.getCause();
        }
    }
}
