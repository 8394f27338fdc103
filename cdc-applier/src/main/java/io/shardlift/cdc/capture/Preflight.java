package io.shardlift.cdc.capture;

import io.shardlift.core.TableId;
import io.shardlift.core.catalog.ColumnInfo;
import io.shardlift.core.catalog.SourceCatalog;
import io.shardlift.core.catalog.TableInfo;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Checks the source before Debezium touches it, and reports every problem at once quoting what it saw:
 * Debezium itself would retry forever on a missing publication, and would stream a changed table silently. The
 * problems are the source's ({@link io.shardlift.core.SourceException}: the command names them without a stack trace).
 */
final class Preflight {

    private Preflight() {
    }

    static void check(Capture.Config config) {
        List<String> problems = new ArrayList<>();
        try (Connection c = config.source().connect()) {
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SHOW wal_level")) {
                rs.next();
                if (!"logical".equals(rs.getString(1))) {
                    problems.add("wal_level must be 'logical' but is '" + rs.getString(1) + "'");
                }
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT plugin, database, slot_type FROM pg_replication_slots WHERE slot_name = ?")) {
                ps.setString(1, config.slot());
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        problems.add("replication slot '" + config.slot() + "' does not exist; create it (pgoutput) "
                                + "together with the snapshot before starting capture");
                    } else {
                        if (!"pgoutput".equals(rs.getString(1))) {
                            problems.add("replication slot '" + config.slot() + "' must use plugin 'pgoutput' but uses '"
                                    + rs.getString(1) + "'");
                        }
                        if (!"logical".equals(rs.getString(3)) || !config.source().dbname().equals(rs.getString(2))) {
                            problems.add("replication slot '" + config.slot() + "' must be a logical slot of database '"
                                    + config.source().dbname() + "' but is a " + rs.getString(3) + " slot of '" + rs.getString(2) + "'");
                        }
                    }
                }
            }
            Set<TableId> published = new HashSet<>();
            boolean publication;
            try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_publication WHERE pubname = ?")) {
                ps.setString(1, config.publication());
                try (ResultSet rs = ps.executeQuery()) {
                    publication = rs.next();
                }
            }
            if (!publication) {
                problems.add("publication '" + config.publication() + "' does not exist; create it (before the slot) "
                        + "FOR TABLE the migrated tables");
            } else {
                try (PreparedStatement ps = c.prepareStatement(
                        "SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = ?")) {
                    ps.setString(1, config.publication());
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            published.add(new TableId(rs.getString(1), rs.getString(2)));
                        }
                    }
                }
                for (TableInfo t : config.tables()) {
                    if (!published.contains(t.id())) {
                        problems.add("table " + t.id() + " is not in publication '" + config.publication()
                                + "'; its changes would never arrive (ALTER PUBLICATION " + io.shardlift.core.Sql.ident(config.publication())
                                + " ADD TABLE " + t.id().quoted() + ")");
                    }
                }
            }
            SourceCatalog live = SourceCatalog.read(c, config.tables().stream().map(t -> t.id().schema()).distinct().toList());
            for (TableInfo t : config.tables()) {
                // a partition is in the catalog as part of its table, whose columns it has
                Optional<TableInfo> now = live.table(config.publishAs().getOrDefault(t.id(), t.id()));
                if (now.isEmpty()) {
                    problems.add("table " + t.id() + " does not exist on the source");
                } else if (!layout(now.get().columns()).equals(layout(t.columns()))
                        && !(config.carryDdl() && changedInTheLog(c, t, layout(now.get().columns())))) {
                    problems.add("table " + t.id() + " now has the columns " + layout(now.get().columns())
                            + " but capture was configured with " + layout(t.columns())
                            + "; the table changed since it was planned: re-plan and copy it again");
                }
            }
        } catch (SQLException e) {
            throw new io.shardlift.core.SourceException("cannot check the source " + config.source().label() + " before capture: "
                    + e.getMessage(), e);
        }
        if (!problems.isEmpty()) {
            throw new io.shardlift.core.SourceException("capture cannot start on " + config.source().label() + ": "
                    + String.join("; ", problems));
        }
    }

    /**
     * Whether the DDL log carries the table from the shape capture was configured with to the shape it has now: the
     * catalog moved on between the planning and this start (a schema change in those seconds), and the stream brings
     * that change at its place, as for any schema change while capture runs. A change the log does not hold (made while
     * the event trigger was away) is not carried, and stays refused.
     */
    private static boolean changedInTheLog(Connection c, TableInfo t, List<String> now) throws SQLException {
        List<List<String>> shapes = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT old_shape::text, new_shape::text FROM "
                + io.shardlift.core.ddl.SourceDdlLog.LOG_TABLE.quoted() + " WHERE table_schema = ? AND table_name = ? ORDER BY id")) {
            ps.setString(1, t.id().schema());
            ps.setString(2, t.id().name());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    for (int i = 1; i <= 2; i++) {
                        if (rs.getString(i) != null) {
                            shapes.add(layout(io.shardlift.core.ddl.TableShape.parse(rs.getString(i)).applyTo(t).columns()));
                        }
                    }
                }
            }
        } catch (SQLException e) {
            if ("42P01".equals(e.getSQLState())) {
                return false; // no DDL log on this source
            }
            throw e;
        }
        int planned = shapes.lastIndexOf(layout(t.columns()));
        return planned >= 0 && !shapes.isEmpty() && shapes.get(shapes.size() - 1).equals(now);
    }

    private static List<String> layout(List<ColumnInfo> columns) {
        return columns.stream().map(c -> c.name() + " " + c.type()).toList();
    }
}
