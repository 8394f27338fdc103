package io.shardlift.core;

import java.sql.BatchUpdateException;
import java.sql.SQLException;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * What logs, status and errors may show of a failed statement that carried rows. pgjdbc's own messages quote
 * them: a failed batch names its statement with every parameter ("Batch entry 0 INSERT ... VALUES ('...')"), and
 * a server error's DETAIL repeats the offending key or row. So this keeps only the SQLState, the object names the
 * server reports, and the server's primary message, except for data exceptions (class 22), whose primary message
 * quotes the value that failed to convert.
 */
public final class SqlErrors {

    private SqlErrors() {
    }

    /** What a failed statement means for the one who sent it; the one list of SQLStates shardlift retries on. */
    public enum Kind {
        /** The connection is gone or the server is going away (class 08, 57P, or no SQLState): reconnect and retry. */
        CONNECTION_LOST,
        /** Serialization failure, deadlock, lock not available, too many connections: retry on the same terms. */
        TRANSIENT,
        /** Data, schema, privilege or anything else: retrying cannot help; stop and say what failed. */
        PERMANENT;

        public boolean retryable() {
            return this != PERMANENT;
        }
    }

    public static Kind classify(SQLException e) {
        String s = e.getSQLState();
        if (s == null || s.startsWith("08") || s.startsWith("57P")) {
            return Kind.CONNECTION_LOST;
        }
        if (s.equals("40001") || s.equals("40P01") || s.equals("55P03") || s.equals("53300")) {
            return Kind.TRANSIENT;
        }
        return Kind.PERMANENT;
    }

    /** A unique or exclusion violation: in the change stream, rows applied out of order rather than bad data. */
    public static boolean isUniqueViolation(SQLException e) {
        String s = e.getSQLState();
        return s != null && (s.equals("23505") || s.equals("23P01"));
    }

    /** A description of {@code e} with no row values, e.g. {@code "duplicate key value violates ... (SQLState 23505, table x)"}. */
    public static String describe(SQLException e) {
        SQLException cause = e;
        if (e instanceof BatchUpdateException && e.getNextException() != null) {
            cause = e.getNextException();
        }
        String state = cause.getSQLState() == null ? "none" : cause.getSQLState();
        ServerErrorMessage server = cause instanceof PSQLException p ? p.getServerErrorMessage() : null;
        StringBuilder out = new StringBuilder();
        if (server != null) {
            out.append(state.startsWith("22") ? "data exception" : server.getMessage());
            out.append(" (SQLState ").append(state);
            appendName(out, "table", server.getTable());
            appendName(out, "column", server.getColumn());
            appendName(out, "constraint", server.getConstraint());
            return out.append(')').toString();
        }
        if (cause instanceof BatchUpdateException) {
            // its message is the statement with its values: say only that the batch failed
            return "a statement batch failed (SQLState " + state + ")";
        }
        // raised by the driver itself (connection refused, I/O error): names hosts, never rows
        return cause.getMessage() + " (SQLState " + state + ")";
    }

    private static void appendName(StringBuilder out, String what, String name) {
        if (name != null && !name.isEmpty()) {
            out.append(", ").append(what).append(' ').append(name);
        }
    }
}
