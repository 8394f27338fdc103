package io.shardlift.core.plan;

import io.shardlift.core.TableId;
import io.shardlift.core.TargetException;
import io.shardlift.core.ddl.SourceDdlLog;
import io.shardlift.core.ddl.TableShape;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The shapes the change stream has given the tables on the nodes: a plan is read from the source's catalog when the
 * migration starts, and each schema change carried since is recorded with the table's new shape in node 0's
 * {@code shardlift.ddl_applied} (the applier's barrier). What works on the cluster's tables after a schema change
 * (the reverse stream of the rollback window, a restarted applier) starts from the newest carried shape.
 */
public final class CarriedShapes {

    private CarriedShapes() {
    }

    /** The shape the last schema change carried out on the nodes gave {@code table}, if any was carried. */
    public static Optional<String> last(Connection node0, TableId table) throws SQLException {
        try (PreparedStatement ps = node0.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
            ps.setString(1, SourceDdlLog.NODE_APPLIED);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    return Optional.empty();
                }
            }
        }
        try (PreparedStatement ps = node0.prepareStatement("SELECT shape::text FROM " + SourceDdlLog.NODE_APPLIED
                + " WHERE table_name = ? AND shape IS NOT NULL ORDER BY ddl_id DESC LIMIT 1")) {
            ps.setString(1, table.toString());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
            }
        }
    }

    /**
     * The shape each of {@code tables} has on the nodes where the stream resumes, for those whose shape is not the one
     * the source's catalog gives now: the one the last schema change carried out gave it (node 0's {@code ddl_applied});
     * else, when the source logged a change not yet carried, the shape before the first one. A restart plans from the
     * source's catalog, which is already past such a change; the copy and the applier start from the nodes' shape.
     */
    public static java.util.Map<TableId, String> whereTheStreamResumes(Connection node0, io.shardlift.core.spec.ConnInfo source,
                                                                       String slot, java.util.Collection<TableId> tables)
            throws SQLException {
        java.util.Map<TableId, String> out = new java.util.HashMap<>();
        for (TableId t : tables) {
            last(node0, t).ifPresent(shape -> out.put(t, shape));
        }
        if (out.size() < tables.size()) {
            java.util.Map<TableId, String> logged;
            try (Connection c = source.connect()) {
                logged = SourceDdlLog.firstLoggedShapes(c, slot);
            } catch (SQLException e) {
                throw new io.shardlift.core.SourceException("source " + source.label() + ": cannot read the DDL log: " + e.getMessage(), e);
            }
            for (var e : logged.entrySet()) {
                if (tables.contains(e.getKey())) {
                    out.putIfAbsent(e.getKey(), e.getValue());
                }
            }
        }
        return out;
    }

    /**
     * {@code plan} with each table in the shape the stream carried to the nodes, and the foreign keys the cutover creates
     * following them (a key added during the migration is created, a dropped one is not); the tables' layout is the same.
     */
    public static ClusterPlan onTheNodes(ClusterPlan plan) {
        java.util.Map<String, String> shapes = new java.util.HashMap<>();
        try (Connection c = plan.spec().nodes().get(0).connect()) {
            try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
                ps.setString(1, SourceDdlLog.NODE_APPLIED);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (!rs.getBoolean(1)) {
                        return plan;
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT DISTINCT ON (table_name) table_name, shape::text FROM "
                    + SourceDdlLog.NODE_APPLIED + " WHERE shape IS NOT NULL ORDER BY table_name, ddl_id DESC");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    shapes.put(rs.getString(1), rs.getString(2));
                }
            }
        } catch (SQLException e) {
            throw new TargetException("node 0: cannot read the schema changes carried so far: " + e.getMessage(), e);
        }
        if (shapes.isEmpty()) {
            return plan;
        }
        List<TablePlan> tables = new ArrayList<>();
        for (TablePlan t : plan.tables()) {
            String shape = shapes.get(t.id().toString());
            tables.add(shape == null ? t : LayoutChange.reshaped(t, TableShape.parse(shape)));
        }
        // the sequences follow the tables: a column added as identity or serial brings one, a dropped one takes its own
        List<io.shardlift.core.catalog.SequenceInfo> sequences = tables.stream().flatMap(t -> t.source().sequences().stream())
                .collect(java.util.stream.Collectors.toMap(io.shardlift.core.catalog.SequenceInfo::id, q -> q, (a, b) -> a,
                        java.util.LinkedHashMap::new)).values().stream().toList();
        List<NodeLayout> nodes = new LayoutDdl(plan.spec(), tables, plan.types(), sequences).nodes();
        return new ClusterPlan(plan.spec(), tables, plan.types(), sequences, nodes, plan.warnings());
    }
}
