package io.shardlift.core.ledger;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * Runs a ledger write that spans several statements atomically: inside the caller's transaction when there is one
 * (the write commits with the caller's data), in a transaction of its own on an autocommit connection.
 */
final class Tx {

    @FunctionalInterface
    interface Work<T> {
        T on(Connection c) throws SQLException;
    }

    private Tx() {
    }

    static <T> T atomically(Connection c, Work<T> work) throws SQLException {
        if (!c.getAutoCommit()) {
            return work.on(c);
        }
        c.setAutoCommit(false);
        try {
            T out = work.on(c);
            c.commit();
            return out;
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }
}
