package io.shardlift.ops.verify;

import io.shardlift.core.SourceException;
import io.shardlift.core.TargetException;
import io.shardlift.core.spec.ConnInfo;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

/** The source ({@code node} -1) or one node: how to connect, how to name it, and which exception its failures raise. */
record Endpoint(int node, ConnInfo info) {

    /**
     * Row text depends on these; pinned on every side so equal values render, and hash, equally. Float output is
     * exact with 3 (shortest-exact on PostgreSQL 12 and later with any positive value).
     */
    static final String CANONICAL_SETTINGS = "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY'; "
            + "SET IntervalStyle = 'postgres'; SET extra_float_digits = 3; SET bytea_output = 'hex'; "
            + "SET lc_monetary = 'C'";

    boolean source() {
        return node < 0;
    }

    String label() {
        return source() ? "source " + info.label() : "node " + node + " (" + info.label() + ")";
    }

    /**
     * A connection in canonical settings, in read-only transactions (verify never writes), autocommit off so
     * drill-downs can stream with a fetch size; callers end each unit of work with a rollback.
     */
    Connection open() {
        Properties p = info.jdbcProperties();
        p.putIfAbsent("ApplicationName", "shardlift verify");
        try {
            Connection c = info.connect(p);
            try (Statement st = c.createStatement()) {
                st.execute(CANONICAL_SETTINGS);
            } catch (SQLException e) {
                c.close();
                throw e;
            }
            c.setAutoCommit(false);
            c.setReadOnly(true);
            return c;
        } catch (SQLException e) {
            throw failure("cannot connect", e);
        }
    }

    /** The exception for a failure on this side: exit code 4 for the source, 5 for a node. */
    RuntimeException failure(String what, SQLException e) {
        String message = label() + ": " + what + ": " + e.getMessage();
        return source() ? new SourceException(message, e) : new TargetException(message, e);
    }
}
