package io.shardlift.ops.cutover;

import io.shardlift.core.SourceException;
import io.shardlift.core.TableId;
import io.shardlift.core.ddl.SourceDdlLog;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.spec.ConnInfo;
import io.shardlift.ops.reverse.ReverseSlots;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code complete}: closes the rollback window. CUT_OVER moves to COMPLETED (final: no rollback, no cutover), then
 * what kept the way back open goes: each node's reverse slot and publication (they retain WAL on the nodes), and the
 * forward slot and publication on the source (which retain the source's WAL). The drops come after the state, and are
 * repeated on every start while COMPLETED, so a process stopped in between leaves nothing behind for long. What stays
 * on the source is named, with how to remove it: shardlift does not drop the application's tables.
 */
public final class Completion {

    private static final Logger log = LoggerFactory.getLogger(Completion.class);

    /** What was done and what is left on the source for the operator. */
    public record Result(String cutoverId, List<String> done, List<String> left) {
        public Result {
            done = List.copyOf(done);
            left = List.copyOf(left);
        }
    }

    private final ClusterPlan plan;
    private final StateStore state;

    public Completion(ClusterPlan plan) {
        this.plan = plan;
        this.state = new StateStore(plan.spec().nodes().get(0));
    }

    /**
     * Closes the window. The caller has stopped the reverse stream and holds the lock that serialises the cutover and
     * the rollback.
     *
     * @throws Cutover.Conflict not CUT_OVER (nothing cut over, a rollback done or under way, completed already)
     */
    public Result run() {
        Optional<CutoverState> st = state.read();
        if (st.isEmpty() || st.get().state() != CutoverState.State.CUT_OVER) {
            throw conflict(st);
        }
        String id = st.get().id();
        try {
            state.transition(id, CutoverState.State.COMPLETED, "rollback window closed");
        } catch (CutoverState.IllegalTransition e) {
            throw conflict(e.current());
        }
        List<String> done = cleanUp();
        return new Result(id, done, leftOnSource());
    }

    /** Drops what kept the window open; idempotent. */
    public List<String> cleanUp() {
        List<String> done = new ArrayList<>();
        ReverseSlots.dropAll(plan);
        done.add("dropped the reverse slot and publication " + ReverseSlots.publication(plan.spec()) + " on each of "
                + plan.nodeCount() + " nodes");
        ConnInfo source = plan.spec().source();
        String slot = plan.spec().replication().slot();
        String publication = plan.spec().replication().publication();
        try (Connection c = source.connect()) {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = ?")) {
                ps.setString(1, slot);
                ps.execute();
            }
            try (Statement st = c.createStatement()) {
                st.execute("DROP PUBLICATION IF EXISTS " + io.shardlift.core.Sql.ident(publication));
            }
        } catch (SQLException e) {
            throw new SourceException("source " + source.label() + ": cannot drop the forward slot " + slot + " or publication "
                    + publication + ": " + e.getMessage() + " — drop them by hand (SELECT pg_drop_replication_slot('" + slot
                    + "'); DROP PUBLICATION " + publication + "): a slot left behind retains WAL on the source", e);
        }
        done.add("dropped the forward slot " + slot + " and publication " + publication + " on the source");
        done.addAll(dropDdlCapture());
        log.info("rollback window closed: {}", done);
        return done;
    }

    /**
     * Removes what carrying schema changes left (see SourceDdlLog): on the source the event triggers (a rollback keeps
     * them), their functions and shardlift's DDL tables; on each node the record of the changes carried. Nothing streams
     * any more, so nothing needs them; after the publication is dropped, since the log is part of it. Idempotent.
     */
    private List<String> dropDdlCapture() {
        List<String> done = new ArrayList<>();
        ConnInfo source = plan.spec().source();
        try (Connection c = source.connect(); Statement st = c.createStatement()) {
            if (SourceDdlLog.installed(c)) {
                st.execute(SourceDdlLog.dropAllSql());
                done.add("removed the DDL capture from the source: event triggers " + SourceDdlLog.TRIGGER_END + ", "
                        + SourceDdlLog.TRIGGER_DROP + " and " + SourceDdlLog.TRIGGER_REWRITE + ", their functions, and the tables "
                        + "shardlift.ddl_log, shardlift.ddl_shape, shardlift.ddl_copying, shardlift.ddl_schemas and shardlift.ddl_created");
            }
        } catch (SQLException e) {
            throw new SourceException("source " + source.label() + ": cannot remove shardlift's DDL capture: " + e.getMessage()
                    + " — remove it by hand: " + SourceDdlLog.dropAllSql().replace('\n', ' '), e);
        }
        int nodes = 0;
        for (int n = 0; n < plan.nodeCount(); n++) {
            ConnInfo node = plan.spec().nodes().get(n);
            try (Connection c = node.connect(); Statement st = c.createStatement()) {
                try (var rs = st.executeQuery("SELECT to_regclass('" + SourceDdlLog.NODE_APPLIED.replace("'", "''") + "') IS NOT NULL")) {
                    rs.next();
                    if (!rs.getBoolean(1)) {
                        continue;
                    }
                }
                st.execute("DROP TABLE IF EXISTS " + SourceDdlLog.NODE_APPLIED);
                nodes++;
            } catch (SQLException e) {
                throw new io.shardlift.core.TargetException("node " + n + " (" + node.label() + "): cannot drop "
                        + SourceDdlLog.NODE_APPLIED + ": " + e.getMessage() + " — drop it by hand", e);
            }
        }
        if (nodes > 0) {
            done.add("dropped shardlift.ddl_applied (the record of the schema changes carried) on " + nodes + " nodes");
        }
        return done;
    }

    /** What stays on the source, and how to remove it. */
    List<String> leftOnSource() {
        List<String> left = new ArrayList<>();
        List<String> rels = plan.tables().stream().flatMap(t -> t.source().relations().stream()).map(TableId::quoted).toList();
        left.add("the migrated tables, fenced (trigger " + WriteFenceStep.TRIGGER + "), with the data as of the window's end: "
                + String.join(", ", rels) + " — DROP TABLE them when the application no longer needs the source");
        if (!plan.types().isEmpty()) {
            // after the tables they are the source's last trace of the migrated schema (a new user found them after
            // following the rest of this list)
            left.add("the types the migrated tables use: " + plan.types().stream().map(io.shardlift.core.catalog.UserType::qualified)
                    .collect(java.util.stream.Collectors.joining(", ")) + " — DROP TYPE them after the tables, unless other"
                    + " tables of the source use them");
        }
        left.add("schema shardlift on the source (the reverse stream's ledger, the fence function, the cutover probe's table)"
                + " — DROP SCHEMA shardlift CASCADE (after the tables, or it takes their fence triggers with it)");
        left.add("the forward and reverse topics on the Kafka broker (" + plan.spec().kafka().topicPrefix() + ".* and "
                + plan.spec().kafka().topicPrefix() + "-reverse.*) — delete them on the broker, or remove the embedded broker's"
                + " data directory");
        return left;
    }

    static Cutover.Conflict conflict(Optional<CutoverState> st) {
        if (st.isEmpty()) {
            return new Cutover.Conflict(null, "complete refused: nothing was cut over; there is no rollback window to close");
        }
        CutoverState s = st.get();
        return new Cutover.Conflict(s, switch (s.state()) {
            case COMPLETED -> "complete refused: the rollback window was closed already (COMPLETED, " + s.at() + ")";
            case CUTTING_OVER -> "complete refused: the cutover " + s.id() + " is under way; ask again once it is done";
            case ROLLING_BACK -> "complete refused: the rollback " + s.id() + " is under way";
            default -> "complete refused: nothing is cut over (the state is " + s.state() + ", " + s.id() + ")";
        });
    }
}
