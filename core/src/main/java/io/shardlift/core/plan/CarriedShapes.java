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

    /** {@code plan} with each table in the shape the stream carried to the nodes; the layout itself is the same. */
    public static ClusterPlan onTheNodes(ClusterPlan plan) {
        List<TablePlan> tables = new ArrayList<>();
        boolean changed = false;
        try (Connection c = plan.spec().nodes().get(0).connect()) {
            for (TablePlan t : plan.tables()) {
                Optional<String> shape = last(c, t.id());
                TablePlan now = shape.map(s -> LayoutChange.reshaped(t, TableShape.parse(s))).orElse(t);
                changed |= now != t;
                tables.add(now);
            }
        } catch (SQLException e) {
            throw new TargetException("node 0: cannot read the schema changes carried so far: " + e.getMessage(), e);
        }
        return changed ? new ClusterPlan(plan.spec(), tables, plan.types(), plan.sequences(), plan.nodes(), plan.warnings())
                : plan;
    }
}
