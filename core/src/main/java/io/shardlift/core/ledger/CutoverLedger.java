package io.shardlift.core.ledger;

import io.shardlift.core.Sql;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.Optional;
import java.util.function.Function;

/**
 * The cutover's ledger: one row on node 0 ({@link LedgerSchema#META}, key {@value #KEY}) that holds the state of the
 * current or last cutover. The ledger knows how the row is read and how it is changed safely (locked, created once);
 * what the text means, and which changes are allowed, is the cutover's (ops' {@code CutoverState}), which hands in a
 * {@link Transition} that checks the row it is given and refuses by throwing.
 */
public final class CutoverLedger {

    /** The key of the cutover's row in {@link LedgerSchema#META}. */
    public static final String KEY = "cutover";

    /** What node 0 holds: the stored text and when it was written. */
    public record Entry(String value, Instant at) {
    }

    /**
     * Given what node 0 holds now (empty: no cutover ever began), returns the text to store; throws, and nothing is
     * written, when that state does not allow the change.
     */
    @FunctionalInterface
    public interface Transition extends Function<Optional<Entry>, String> {
    }

    private CutoverLedger() {
    }

    /** The cutover's row, empty when no cutover ever began or node 0 is not laid out yet. */
    public static Optional<Entry> read(Connection node0) throws SQLException {
        try (Statement st = node0.createStatement();
             ResultSet exists = st.executeQuery("SELECT to_regclass(" + Sql.literal(LedgerSchema.META) + ") IS NOT NULL")) {
            exists.next();
            if (!exists.getBoolean(1)) {
                return Optional.empty();
            }
        }
        return read(node0, false);
    }

    /**
     * Applies {@code transition} to the row in one transaction with the row locked, so two processes never both move
     * it from the state they read. With no row there is nothing to lock: the insert that creates it must win, and one
     * that loses sees the winner's row and asks {@code transition} again (which then refuses).
     *
     * @return the row as it was before
     */
    public static Optional<Entry> write(Connection node0, Transition transition) throws SQLException {
        boolean auto = node0.getAutoCommit();
        node0.setAutoCommit(false);
        try {
            for (int attempt = 1; ; attempt++) {
                Optional<Entry> current = read(node0, true);
                String value = transition.apply(current);
                try (PreparedStatement ps = node0.prepareStatement(current.isEmpty()
                        ? "INSERT INTO " + LedgerSchema.META + " (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING"
                        : "UPDATE " + LedgerSchema.META + " SET value = ?, updated_at = now() WHERE key = ?")) {
                    ps.setString(current.isEmpty() ? 1 : 2, KEY);
                    ps.setString(current.isEmpty() ? 2 : 1, value);
                    if (ps.executeUpdate() == 1) {
                        node0.commit();
                        return current;
                    }
                }
                node0.rollback();
                if (attempt >= 2) {
                    throw new SQLException("the cutover's row on node 0 (" + LedgerSchema.META + ", key " + KEY
                            + ") changed twice while it was being written");
                }
            }
        } catch (SQLException | RuntimeException e) {
            node0.rollback();
            throw e;
        } finally {
            node0.setAutoCommit(auto);
        }
    }

    private static Optional<Entry> read(Connection c, boolean forUpdate) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT value, updated_at FROM " + LedgerSchema.META + " WHERE key = ?"
                + (forUpdate ? " FOR UPDATE" : ""))) {
            ps.setString(1, KEY);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new Entry(rs.getString(1), rs.getObject(2, OffsetDateTime.class).toInstant()))
                        : Optional.empty();
            }
        }
    }
}
