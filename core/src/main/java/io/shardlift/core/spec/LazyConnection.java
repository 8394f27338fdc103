package io.shardlift.core.spec;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * One long-lived connection to a server, opened on first use and opened again after it was closed or broke (a server
 * restarted, a node down for a while): for the components that ask a server something now and then and must survive
 * its absence (the TOAST filler, node 0's ledger, the lag probe). Not thread-safe: one per user.
 */
public final class LazyConnection implements AutoCloseable {

    private final ConnInfo server;
    private Connection c;

    public LazyConnection(ConnInfo server) {
        this.server = server;
    }

    public ConnInfo server() {
        return server;
    }

    /** The connection, opened anew when there is none or it was closed. */
    public Connection get() throws SQLException {
        if (c == null || c.isClosed()) {
            c = server.connect();
        }
        return c;
    }

    /** Closes it quietly: after a failure the next {@link #get} opens a fresh one. */
    @Override
    public void close() {
        try {
            if (c != null) {
                c.close();
            }
        } catch (SQLException ignored) {
            // a broken connection is gone either way; the next get() opens a fresh one
        }
        c = null;
    }
}
