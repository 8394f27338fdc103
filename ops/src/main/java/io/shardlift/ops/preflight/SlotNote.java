package io.shardlift.ops.preflight;

import io.shardlift.core.Sql;
import io.shardlift.core.spec.MigrationSpec;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;

/** The slot a failed command leaves on the source, and what it costs there. */
final class SlotNote {

    private SlotNote() {
    }

    static Optional<String> read(MigrationSpec spec) {
        String slot = spec.replication().slot();
        try (Connection c = spec.source().connect();
             PreparedStatement ps = c.prepareStatement("SELECT pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(),"
                     + " restart_lsn)) FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of("the replication slot '" + slot + "' stays on the source " + spec.source().label()
                        + " and retains its WAL there (" + rs.getString(1) + " now) until the migration goes on: run the same"
                        + " command again to resume, or give the migration up and drop it on the source: SELECT"
                        + " pg_drop_replication_slot(" + Sql.literal(slot) + ")");
            }
        } catch (SQLException e) {
            return Optional.of("the replication slot '" + slot + "' may still exist on the source " + spec.source().label()
                    + " (it could not be checked: " + e.getMessage() + "); if it does, it retains WAL there: resume with the same"
                    + " command, or drop it: SELECT pg_drop_replication_slot(" + Sql.literal(slot) + ")");
        }
    }
}
