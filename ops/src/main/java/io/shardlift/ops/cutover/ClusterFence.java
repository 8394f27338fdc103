package io.shardlift.ops.cutover;

import static io.shardlift.core.Sql.ident;
import static io.shardlift.core.Sql.literal;

import io.shardlift.core.TableId;
import io.shardlift.core.TargetException;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.plan.TablePlan;
import io.shardlift.core.spec.ConnInfo;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * The write fence on the cluster's migrated tables, for the way back: on each node a trigger on every parent, local
 * partition and global table refusing the application's writes (SQLSTATE 25006, naming the source). A partition written
 * through postgres_fdw from another node is named directly, so its own trigger refuses it. Like the source's fence it is
 * an ordinary trigger: the forward applier, whose sessions run as {@code session_replication_role = replica}, passes.
 */
final class ClusterFence {

    static final String TRIGGER = "shardlift_moved_back";
    static final String FUNCTION = "\"shardlift\".\"refuse_writes_moved_back\"";

    private ClusterFence() {
    }

    /** The relations of node {@code node} the fence guards. */
    static List<TableId> relations(ClusterPlan plan, int node) {
        List<TableId> out = new ArrayList<>();
        for (TablePlan t : plan.tables()) {
            out.add(t.id());
            if (t.sharded()) {
                t.partitionsOn(node, plan.nodeCount()).forEach(p -> out.add(t.partition(p)));
            }
        }
        return out;
    }

    /** How long one attempt waits for a table's lock, and how many attempts a node gets. */
    static final int LOCK_TIMEOUT_MS = 1_000;
    static final int ATTEMPTS = 15;

    /**
     * Fences node {@code node}, one transaction per attempt on {@code c}, retried when a lock does not come within
     * {@link #LOCK_TIMEOUT_MS}. The nodes are fenced side by side, and a write through one node holds locks on another
     * (postgres_fdw), so two nodes' fences can wait on each other's writers: a deadlock across servers that no server
     * detects (a CI run's rollback failed on one after a single 10 s wait). A node fenced already refuses new writes, so
     * its writers end and the next attempt of the other goes through.
     */
    static void install(ClusterPlan plan, int node, Connection c, String id) throws SQLException {
        for (int attempt = 1; ; attempt++) {
            try {
                installOnce(plan, node, c, id);
                return;
            } catch (SQLException e) {
                boolean lockWait = "55P03".equals(e.getSQLState()) || "40P01".equals(e.getSQLState()); // lock timeout, deadlock
                if (!lockWait || attempt >= ATTEMPTS) {
                    throw e;
                }
                try {
                    Thread.sleep(20L * attempt);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    private static void installOnce(ClusterPlan plan, int node, Connection c, String id) throws SQLException {
        StringBuilder sql = new StringBuilder("SET LOCAL lock_timeout = '" + LOCK_TIMEOUT_MS + "ms';\n");
        sql.append("CREATE OR REPLACE FUNCTION ").append(FUNCTION).append("() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN")
                .append(" RAISE EXCEPTION 'table %.% moved back to the source at rollback %', TG_TABLE_SCHEMA, TG_TABLE_NAME, ")
                .append(literal(id)).append(" USING ERRCODE = 'read_only_sql_transaction', HINT = ")
                .append(literal("write to the source: " + plan.spec().source().label())).append("; END $f$;\n");
        for (TableId rel : relations(plan, node)) {
            sql.append("DROP TRIGGER IF EXISTS ").append(ident(TRIGGER)).append(" ON ").append(rel.quoted()).append(";\n");
            sql.append("CREATE TRIGGER ").append(ident(TRIGGER)).append(" BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON ")
                    .append(rel.quoted()).append(" FOR EACH STATEMENT EXECUTE FUNCTION ").append(FUNCTION).append("();\n");
        }
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            st.execute(sql.toString());
            c.commit();
        } catch (SQLException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
    }

    /** Lifts the fence on every node (a rollback undone, or a new cutover past its point of no return). */
    static void liftAll(ClusterPlan plan) {
        for (int k = 0; k < plan.nodeCount(); k++) {
            ConnInfo n = plan.spec().nodes().get(k);
            StringBuilder sql = new StringBuilder();
            for (TableId rel : relations(plan, k)) {
                sql.append("DROP TRIGGER IF EXISTS ").append(ident(TRIGGER)).append(" ON ").append(rel.quoted()).append(";\n");
            }
            try (Connection c = n.connect(); Statement st = c.createStatement()) {
                st.execute(sql.toString());
            } catch (SQLException e) {
                throw new TargetException("node " + k + " (" + n.label() + "): cannot lift the cluster's write fence: " + e.getMessage()
                        + " — drop the triggers " + TRIGGER + " by hand", e);
            }
        }
    }
}
