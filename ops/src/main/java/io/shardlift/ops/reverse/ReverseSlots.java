package io.shardlift.ops.reverse;

import static io.shardlift.core.Sql.ident;

import io.shardlift.core.TableId;
import io.shardlift.core.TargetException;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.plan.TablePlan;
import io.shardlift.core.spec.ConnInfo;
import io.shardlift.core.spec.MigrationSpec;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The reverse stream's publication and logical slot on each node. A node publishes its own local partitions of every
 * sharded table; node 0 also publishes the global tables (every node holds the same copy, and every write reaches
 * node 0's, so one node is enough and none is carried twice).
 *
 * <p>They are created inside the cutover's freeze, after the drain and before the release ({@code reverse-slots}): the
 * forward applier has applied everything by then and the application cannot reach the cluster yet, so the slot's
 * consistent point lies after the forward applier's last write (nothing of it is echoed back) and before the first
 * write after the point of no return (nothing is missed). They are created again, never reused: a slot left by an
 * earlier attempt begins too early.
 */
public final class ReverseSlots {

    private ReverseSlots() {
    }

    /**
     * Node 0's record ({@code shardlift.meta}) of the cutover that made the current slots: the reverse captures keep
     * their Debezium offsets under it, since a later window's new slots begin past what the earlier window's captures
     * stored, and Debezium refuses to start from an offset its slot no longer has.
     */
    static final String EPOCH = "reverse_epoch";

    /** Records {@code cutoverId} as the maker of the current reverse slots, on node 0. */
    public static void recordEpoch(Connection node0, String cutoverId) throws SQLException {
        io.shardlift.core.ledger.MetaLedger.put(node0, EPOCH, cutoverId);
    }

    /** The Debezium offsets key of the reverse captures of migration {@code migrationId}. */
    static String offsetsId(ConnInfo node0, String migrationId) {
        try (Connection c = node0.connect()) {
            return io.shardlift.core.ledger.MetaLedger.get(c, EPOCH).map(e -> migrationId + "-" + e).orElse(migrationId);
        } catch (SQLException e) {
            throw new TargetException("node 0: cannot read the reverse stream's epoch: " + e.getMessage(), e);
        }
    }

    /** The slot on node {@code node}: {@code <replication.slot>_rev_<node>}. */
    public static String slot(MigrationSpec spec, int node) {
        return spec.replication().slot() + "_rev_" + node;
    }

    /** The publication on every node: {@code <replication.publication>_reverse}. */
    public static String publication(MigrationSpec spec) {
        return spec.replication().publication() + "_reverse";
    }

    /** The tables node {@code node} publishes: its local partitions, and on node 0 the global tables. */
    public static List<TableId> publishedOn(ClusterPlan plan, int node) {
        List<TableId> out = new ArrayList<>();
        for (TablePlan t : plan.tables()) {
            if (t.sharded()) {
                t.partitionsOn(node, plan.nodeCount()).forEach(p -> out.add(t.partition(p)));
            } else if (node == 0) {
                out.add(t.id());
            }
        }
        return out;
    }

    /** The migrated tables whose changes node {@code node} publishes (each has a topic its capture feeds). */
    public static List<TableId> tablesOn(ClusterPlan plan, int node) {
        return plan.tables().stream().filter(t -> t.sharded() ? !t.partitionsOn(node, plan.nodeCount()).isEmpty() : node == 0)
                .map(TablePlan::id).toList();
    }

    /**
     * Creates node {@code node}'s publication, then its slot (the publication must exist before the slot's consistent
     * point), dropping what an earlier attempt left. {@code c} must be in autocommit and hold no transaction: a logical
     * slot waits for the transactions running when it is created.
     *
     * @return the slot's consistent point
     */
    public static String create(ClusterPlan plan, int node, Connection c) throws SQLException {
        MigrationSpec spec = plan.spec();
        List<TableId> tables = publishedOn(plan, node);
        drop(spec, c, node);
        try (Statement st = c.createStatement()) {
            st.execute(tables.isEmpty() ? "CREATE PUBLICATION " + ident(publication(spec))
                    : "CREATE PUBLICATION " + ident(publication(spec)) + " FOR TABLE "
                    + tables.stream().map(TableId::quoted).collect(Collectors.joining(", ")));
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT lsn::text FROM pg_create_logical_replication_slot(?, 'pgoutput')")) {
            ps.setString(1, slot(spec, node));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    /** Drops node {@code node}'s slot and publication if they exist; the slot must not be in use. */
    static void drop(MigrationSpec spec, Connection c, int node) throws SQLException {
        // a capture just stopped: its walsender may hold the slot for a moment longer
        long deadline = System.nanoTime() + 15_000_000_000L;
        while (true) {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = ?")) {
                ps.setString(1, slot(spec, node));
                ps.execute();
                break;
            } catch (SQLException e) {
                if (!"55006".equals(e.getSQLState()) || System.nanoTime() > deadline) {
                    throw e;
                }
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SQLException("interrupted while waiting for the slot " + slot(spec, node) + " to be released", e);
            }
        }
        try (Statement st = c.createStatement()) {
            st.execute("DROP PUBLICATION IF EXISTS " + ident(publication(spec)));
        }
    }

    /**
     * Drops every node's reverse slot and publication (a cutover that did not pass its point of no return, or a
     * rollback window closed). Each node is tried; the first failure is thrown after all were tried.
     */
    public static void dropAll(ClusterPlan plan) {
        TargetException first = null;
        for (int k = 0; k < plan.nodeCount(); k++) {
            ConnInfo n = plan.spec().nodes().get(k);
            try (Connection c = n.connect()) {
                drop(plan.spec(), c, k);
            } catch (SQLException e) {
                if (first == null) {
                    first = new TargetException("node " + k + " (" + n.label() + "): cannot drop the reverse slot "
                            + slot(plan.spec(), k) + ": " + e.getMessage() + " — drop it by hand (SELECT pg_drop_replication_slot('"
                            + slot(plan.spec(), k) + "')), a slot left behind retains WAL on the node", e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /** How many nodes hold their reverse slot now. */
    public static int existing(ClusterPlan plan) {
        int n = 0;
        for (int k = 0; k < plan.nodeCount(); k++) {
            ConnInfo node = plan.spec().nodes().get(k);
            try (Connection c = node.connect();
                 PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_replication_slots WHERE slot_name = ?")) {
                ps.setString(1, slot(plan.spec(), k));
                try (ResultSet rs = ps.executeQuery()) {
                    n += rs.next() ? 1 : 0;
                }
            } catch (SQLException e) {
                throw new TargetException("node " + k + " (" + node.label() + "): cannot read its replication slots: "
                        + e.getMessage(), e);
            }
        }
        return n;
    }

    /**
     * What node {@code node} needs for the reverse stream's slot, which the cutover creates on it inside the freeze: wal_level
     * logical, a free replication slot (its own counts as free: it is dropped and made again), a free WAL sender for the
     * reverse capture, and a user with REPLICATION. Checked by the preflight of {@code run}, the cutover's dry run, and
     * when the slot cannot be created. Empty when fine.
     */
    public static List<String> problems(ClusterPlan plan, int node, Connection c) throws SQLException {
        return problems(plan.spec(), node, c);
    }

    /** {@link #problems(ClusterPlan, int, Connection)} from the spec alone (the preflight may have no plan). */
    public static List<String> problems(MigrationSpec spec, int node, Connection c) throws SQLException {
        String label = "node " + node + " (" + spec.nodes().get(node).label() + ")";
        String why = " (the cutover creates the reverse stream's slot " + slot(spec, node) + " on every node: the rollback window's"
                + " way back)";
        List<String> p = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT current_setting('wal_level'), current_setting('max_replication_slots')::int,"
                + " (SELECT count(*) FROM pg_replication_slots WHERE slot_name <> ?)::int,"
                + " current_setting('max_wal_senders')::int,"
                + " (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'walsender')::int,"
                + " (SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user), current_user")) {
            ps.setString(1, slot(spec, node));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (!"logical".equals(rs.getString(1))) {
                    p.add(label + ": wal_level must be 'logical' but is '" + rs.getString(1) + "'" + why
                            + " — ALTER SYSTEM SET wal_level = logical on that node, then restart it");
                }
                if (rs.getInt(3) >= rs.getInt(2)) {
                    p.add(label + ": max_replication_slots is " + rs.getInt(2) + " and " + rs.getInt(3) + " slots exist, none free" + why
                            + " — raise max_replication_slots on that node (needs a restart) or drop an unused slot there");
                }
                if (rs.getInt(5) >= rs.getInt(4)) {
                    p.add(label + ": max_wal_senders is " + rs.getInt(4) + " and " + rs.getInt(5) + " WAL senders run, none free for the"
                            + " reverse capture" + why + " — raise max_wal_senders on that node (needs a restart)");
                }
                if (!rs.getBoolean(6)) {
                    p.add(label + ": the user " + rs.getString(7) + " has neither REPLICATION nor SUPERUSER, which the reverse capture's"
                            + " replication connection needs" + why + " — ALTER ROLE " + ident(rs.getString(7)) + " WITH REPLICATION");
                }
            }
        }
        return p;
    }
}
