package io.shardlift.core.ledger;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The copy's ledger: which tables the snapshot copied (node 0's record) and which tables each node has built its
 * keys and indexes for. The applier starts applying a table's changes only once both say it is ready.
 */
public final class CopyLedger {

    private CopyLedger() {
    }

    /** Tables ({@code schema.table}) whose copy is complete across the cluster, on node 0's record. */
    public static Set<String> copiedTables(Connection node0) throws SQLException {
        return strings(node0, "SELECT table_name FROM " + LedgerSchema.COPY_TABLE + " WHERE copied_at IS NOT NULL");
    }

    /** Tables ({@code schema.table}) whose keys and indexes this node has built. */
    public static Set<String> indexedTables(Connection node) throws SQLException {
        return strings(node, "SELECT table_name FROM " + LedgerSchema.COPY_INDEX);
    }

    private static Set<String> strings(Connection c, String sql) throws SQLException {
        Set<String> out = new LinkedHashSet<>();
        try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }
}
