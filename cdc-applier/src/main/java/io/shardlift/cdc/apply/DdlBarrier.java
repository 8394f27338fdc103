package io.shardlift.cdc.apply;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shardlift.cdc.event.ChangeEvent;
import io.shardlift.cdc.event.TableCodec;
import io.shardlift.core.SqlErrors;
import io.shardlift.core.TargetException;
import io.shardlift.core.ddl.TableShape;
import io.shardlift.core.ledger.ApplyLedger;
import io.shardlift.core.plan.Ddl;
import io.shardlift.core.plan.LayoutChange;
import io.shardlift.core.spec.ConnInfo;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A schema change of a table, applied at its place in the stream. The capture wrote the DDL event to every Kafka
 * partition of the table's topic (a record key orders only one row's changes; the DDL must come before every later
 * change of the table, whatever its key, so it sits in every partition, after that partition's changes of the old
 * shape and before its changes of the new one). Each partition pauses at it once everything before it is committed,
 * and records its arrival on node 0 (the TRUNCATE barrier's ledger: one DDL and one TRUNCATE never share a position).
 * Once every partition has arrived, one applier translates the change to the layout ({@link LayoutChange}) and runs it
 * on every node, each node in ONE transaction with a row of {@code shardlift.ddl_applied} that names the change, so a
 * node that has it skips it after a crash at any point; then node 0 records the barrier carried out, the table's codec
 * and SQL follow the new shape, and the partitions go on. A change that cannot be carried leaves the table's partitions
 * paused at it, with the reason in the applier's status; the other tables go on.
 */
final class DdlBarrier {

    private static final Logger log = LoggerFactory.getLogger(DdlBarrier.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String APPLIED = io.shardlift.core.ddl.SourceDdlLog.NODE_APPLIED;

    /** Moves a topic's table to its new shape in the applier. */
    interface Reshape {
        void to(String topic, TableApply next);
    }

    private record Waiting(TableApply table, long offset, ChangeEvent event) {
    }

    private final Map<TopicPartition, Waiting> waiting = new ConcurrentHashMap<>();
    private final Map<String, String> stopped = new ConcurrentHashMap<>();
    private final List<ConnInfo> nodes;
    /** Where a column the source filled itself (identity, serial, a default not constant) is read from. */
    private final ConnInfo source;
    private final Node0Ledger ledger;
    private final NodeCommits commits;
    private final Positions positions;
    private final Reshape reshape;
    /** Per topic, the position of the schema change that gave the table its current shape (carried, or restored). */
    private final Map<String, io.shardlift.cdc.event.Position> shapeSince = new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.function.Function<io.shardlift.core.TableId, java.util.Optional<io.shardlift.core.plan.TablePlan>> tables;

    DdlBarrier(List<ConnInfo> nodes, ConnInfo source, Node0Ledger ledger, NodeCommits commits, Positions positions, Reshape reshape,
               java.util.function.Function<io.shardlift.core.TableId, java.util.Optional<io.shardlift.core.plan.TablePlan>> tables) {
        this.tables = tables;
        this.nodes = nodes;
        this.source = source;
        this.ledger = ledger;
        this.commits = commits;
        this.positions = positions;
        this.reshape = reshape;
    }

    boolean pending() {
        return !waiting.isEmpty();
    }

    boolean holds(TopicPartition kafkaPartition) {
        return waiting.containsKey(kafkaPartition);
    }

    /** Topics stopped at a change that cannot be carried, with the operator's message. */
    Map<String, String> stopped() {
        return Map.copyOf(stopped);
    }

    /** A partition reached a DDL event (everything before it is committed): it goes past a carried-out one, else waits. */
    void arrive(Consumer<?, ?> consumer, TableApply t, TopicPartition tp, long offset, ChangeEvent e) throws InterruptedException {
        String position = e.position().toString();
        if (ledger.barrierCarriedOut(tp.topic(), position)) {
            // a replay after a restart, or another process carried it out: the table has the new shape from here on
            moveOn(tp, t, offset, e);
            return;
        }
        ledger.arriveAtBarrier(tp.topic(), position, tp.partition());
        waiting.put(tp, new Waiting(t, offset, e));
        consumer.pause(List.of(tp));
        consumer.seek(tp, offset + 1);
        log.info("{} partition {}: schema change at {} — waiting for every partition of the topic", tp.topic(), tp.partition(),
                e.position());
    }

    /** Carries out the schema changes every partition has reached, and releases the partitions of those done. */
    void check(Consumer<?, ?> consumer) throws InterruptedException {
        for (var entry : new ArrayList<>(waiting.entrySet())) {
            TopicPartition tp = entry.getKey();
            Waiting w = entry.getValue();
            if (stopped.containsKey(tp.topic())) {
                continue;
            }
            String position = w.event().position().toString();
            if (!ledger.barrierCarriedOut(tp.topic(), position)) {
                tryCarryOut(tp.topic(), w, consumer.partitionsFor(tp.topic()).size());
            }
            if (ledger.barrierCarriedOut(tp.topic(), position)) {
                waiting.remove(tp);
                moveOn(tp, w.table(), w.offset(), w.event());
                consumer.resume(List.of(tp));
            }
        }
    }

    /**
     * Whether a change of {@code topic} at {@code p} comes from before the schema change that gave the table the shape
     * the applier reads it with now: a capture restart sends a suffix of the stream again, which may begin before that
     * change, in the table's old shape; such a change was applied before the schema change was, and is passed over.
     */
    boolean beforeCurrentShape(String topic, io.shardlift.cdc.event.Position p) {
        io.shardlift.cdc.event.Position since = shapeSince.get(topic);
        return since != null && p.compareTo(since) < 0;
    }

    void forget(TopicPartition kafkaPartition) {
        waiting.remove(kafkaPartition);
    }

    private void moveOn(TopicPartition tp, TableApply t, long offset, ChangeEvent e) throws InterruptedException {
        Translated tr = translate(t, e);
        if (tr.result.carried()) {
            reshape.to(tp.topic(), next(t, tr.result));
        }
        shapeSince.merge(tp.topic(), e.position(), (a, b) -> a.compareTo(b) >= 0 ? a : b);
        PollBatch past = new PollBatch(commits.writers().length);
        past.advance(tp, offset, e, positions.of(tp));
        commits.commit(past);
    }

    private static TableApply next(TableApply t, LayoutChange.Result r) {
        if (t.plan.source().equals(r.plan().source())) {
            return t;
        }
        return new TableApply(r.plan(), TableCodec.of(r.plan().source()), t.route);
    }

    /**
     * The shape each table has on the nodes where the stream resumes, after a restart: the one the last schema change
     * carried out gave it (node 0's {@code ddl_applied}); else, when the source logged a change not yet carried, the
     * shape before the first one (the source's catalog, which the plan was read from, is already past it); else the
     * plan's. The source's log starts empty with each migration ({@code SourceDdlLog#install}).
     */
    void restore(Map<String, TableApply> byTopic, ConnInfo source, String slot) {
        Map<io.shardlift.core.TableId, String> shapes;
        try (Connection c = nodes.get(0).connect()) {
            shapes = io.shardlift.core.plan.CarriedShapes.whereTheStreamResumes(c, source, slot,
                    byTopic.values().stream().map(TableApply::id).toList());
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT topic, position FROM " + APPLIED)) {
                while (rs.next()) {
                    shapeSince.merge(rs.getString(1), io.shardlift.cdc.event.Position.parse(rs.getString(2)),
                            (a, b) -> a.compareTo(b) >= 0 ? a : b);
                }
            } catch (SQLException noneYet) {
                if (!"42P01".equals(noneYet.getSQLState())) {
                    throw noneYet;
                }
            }
        } catch (SQLException ex) {
            throw new TargetException("node 0: cannot read the schema changes carried so far: " + ex.getMessage(), ex);
        }
        for (var e : new ArrayList<>(byTopic.entrySet())) {
            TableApply t = e.getValue();
            String shape = shapes.get(t.id());
            if (shape != null) {
                io.shardlift.core.plan.TablePlan plan = LayoutChange.reshaped(t.plan, TableShape.parse(shape));
                if (!plan.source().equals(t.plan.source())) {
                    byTopic.put(e.getKey(), new TableApply(plan, TableCodec.of(plan.source()), t.route));
                    log.info("{}: resuming with the shape its schema changes gave it so far ({} columns)", t.id(),
                            plan.source().columns().size());
                }
            }
        }
    }

    private record Translated(String tag, long id, LayoutChange.Result result, String shape, TableShape after) {
    }

    private Translated translate(TableApply t, ChangeEvent e) {
        JsonNode content;
        try {
            content = JSON.readTree(e.marker().orElseThrow());
        } catch (IOException ex) {
            throw new TargetException("the schema change of " + t.id() + " at " + e.position() + " is unreadable: " + ex.getMessage());
        }
        String tag = content.path("tag").asText();
        JsonNode old = content.get("old");
        JsonNode neu = content.get("new");
        TableShape before = TableShape.parse(old.toString());
        TableShape after = neu == null || neu.isNull() ? null : TableShape.parse(neu.toString());
        LayoutChange.Result r = new LayoutChange(t.plan, nodes).withTables(tables).translate(tag, before, after);
        if (r.carried()) {
            try {
                TableCodec.of(r.plan().source());
            } catch (IllegalArgumentException ex) {
                r = new LayoutChange.Result(List.of(), t.plan, java.util.Optional.of(tag + " on " + t.id() + " cannot be carried to"
                        + " the cluster: " + ex.getMessage() + LayoutChange.stopped(t.id())));
            }
        }
        return new Translated(tag, content.path("id").asLong(), r, neu == null ? null : neu.toString(), after);
    }

    private void tryCarryOut(String topic, Waiting w, int kafkaPartitions) throws InterruptedException {
        String position = w.event().position().toString();
        try (Connection c = nodes.get(0).connect()) {
            c.setAutoCommit(false);
            ApplyLedger.BarrierState state = ApplyLedger.lockBarrier(c, topic, position);
            if (state.carriedOut() || state.arrived() < kafkaPartitions) {
                c.rollback();
                return;
            }
            Translated tr = translate(w.table(), w.event());
            if (!tr.result.carried()) {
                c.rollback();
                String message = tr.result.refusal().orElseThrow();
                stopped.put(topic, message);
                log.error("{}", message);
                return;
            }
            // every node's transaction is opened and run before any commits: a statement a node refuses (a type
            // without an assignment cast from the old one, say) rolls back every node and stops only this table
            List<Connection> open = new ArrayList<>();
            try (SourceRows rows = new SourceRows(tr)) {
                for (int node = 0; node < nodes.size(); node++) {
                    Connection nc = nodes.get(node).connect();
                    open.add(nc);
                    nc.setAutoCommit(false);
                    runOn(nc, node, topic, position, w.table(), tr, rows);
                }
            } catch (SourceRead e) {
                rollbackAll(open);
                c.rollback();
                SQLException cause = e.getCause();
                if (SqlErrors.classify(cause).retryable()) {
                    throw new TargetException("source: cannot read the values of the columns " + tr.tag + " added to "
                            + w.table().id() + ": " + SqlErrors.describe(cause), cause);
                }
                String message = tr.tag + " on " + w.table().id() + " cannot be carried to the cluster: the values the source"
                        + " gave the existing rows of its added columns cannot be read from the source: " + SqlErrors.describe(cause)
                        + " (no node applied it); grant shardlift's source role SELECT on the table, or" + LayoutChange.stopped(w.table().id());
                stopped.put(topic, message);
                log.error("{}", message);
                return;
            } catch (SQLException e) {
                rollbackAll(open);
                c.rollback();
                if (SqlErrors.classify(e).retryable()) {
                    throw new TargetException("node " + (open.size() - 1) + ": cannot apply " + tr.tag + " of " + w.table().id()
                            + ": " + SqlErrors.describe(e), e);
                }
                String message = tr.tag + " on " + w.table().id() + " cannot be carried to the cluster: node " + (open.size() - 1)
                        + " refused it: " + SqlErrors.describe(e) + " (no node applied it)" + LayoutChange.stopped(w.table().id());
                stopped.put(topic, message);
                log.error("{}", message);
                return;
            }
            // a crash between these commits leaves some nodes with the change: each holds its ddl_applied row, and the
            // barrier, not yet carried out, runs again after the restart on the nodes that lack it
            try {
                for (Connection nc : open) {
                    nc.commit();
                }
            } finally {
                closeAll(open);
            }
            ApplyLedger.recordBarrierCarriedOut(c, topic, position);
            c.commit();
            log.info("{}: {} at {} applied on every node ({} statements on node 0)", w.table().id(), tr.tag, position,
                    tr.result.perNode().get(0).size());
        } catch (SQLException e) {
            throw new TargetException("node 0: schema change barrier of " + w.table().id() + ": " + e.getMessage(), e);
        }
    }

    private static void rollbackAll(List<Connection> open) {
        for (Connection nc : open) {
            try {
                nc.rollback();
            } catch (SQLException ignored) {
                // closed below; an open transaction ends with its connection
            }
        }
        closeAll(open);
    }

    private static void closeAll(List<Connection> open) {
        for (Connection nc : open) {
            try {
                nc.close();
            } catch (SQLException ignored) {
                // nothing left to do with it
            }
        }
    }

    private static void run(Connection c, List<Ddl> statements) throws SQLException {
        try (Statement st = c.createStatement()) {
            for (Ddl d : statements) {
                try {
                    st.execute(d.sql());
                } catch (SQLException e) {
                    throw new SQLException(e.getMessage() + "\n  while running: " + d.display(), e.getSQLState(), e);
                }
            }
        }
    }

    /**
     * Gives the node's rows of the table the values the source gave its added columns (an identity's, a serial's, a
     * default's computed per row or at the source's moment), in the node's open transaction: the source's rows now,
     * streamed through a temporary table, matched by primary key on the node's own partitions. The source may be
     * ahead of the stream here; a row it changed, deleted or inserted since is changed, deleted or inserted again by
     * the changes after this barrier, each carrying whole rows, so every row ends with the source's values, as after
     * the copy.
     */
    private void fill(Connection c, int node, Translated tr, SourceRows source) throws SQLException, SourceRead {
        io.shardlift.core.plan.TablePlan plan = tr.result.plan();
        List<String> key = tr.after.primaryKey().map(io.shardlift.core.catalog.KeyConstraint::columns).orElseThrow();
        List<String> cols = tr.result.backfill();
        List<String> wanted = source.wanted;
        java.util.Optional<String> select = source.select();
        if (select.isEmpty()) {
            // dropped since: a later change in the stream drops it on the nodes too
            log.info("{}: {} — the source no longer has the added columns {} or the table: left to the changes after it",
                    plan.id(), tr.tag, cols);
            return;
        }
        String tmp = "\"shardlift_fill\"";
        List<String> nodeCols = wanted.stream().map(io.shardlift.core.Sql::ident).toList();
        try (Statement st = c.createStatement()) {
            // the fill is the source's rows, as the applier's own writes: no triggers, no fan-out to the other nodes
            st.execute("SET LOCAL session_replication_role = replica");
            st.execute("SET LOCAL " + io.shardlift.core.plan.GlobalFanout.SETTING + " = 'on'");
            st.execute("DROP TABLE IF EXISTS pg_temp." + tmp);
            st.execute("CREATE TEMPORARY TABLE " + tmp + " ON COMMIT DROP AS SELECT " + String.join(", ", nodeCols)
                    + " FROM " + plan.id().quoted() + " WITH NO DATA");
        }
        java.io.InputStream rowsOfSource;
        Connection src = source.connection();
        try {
            // The table's lock first, then the COPY in the same transaction. A COPY (SELECT) takes its snapshot before
            // it waits for the table's lock: behind an ALTER that rewrites the table (or a TRUNCATE) it would read the
            // new, empty file under a snapshot older than the rewrite's commit, and every row of this node would be
            // taken for one the source no longer has (found by hand: a node's whole table deleted). Read committed
            // gives the COPY a snapshot of its own, taken once the lock is held, so after any rewrite before it; the
            // lock, held until the COPY is read, keeps a later one out.
            try (Statement st = src.createStatement()) {
                st.execute("LOCK TABLE " + tr.after.name() + " IN ACCESS SHARE MODE");
            }
            rowsOfSource = new org.postgresql.copy.PGCopyInputStream(src.unwrap(org.postgresql.PGConnection.class), select.get());
        } catch (SQLException e) {
            source.endRead();
            throw new SourceRead(e);
        }
        long rows;
        try {
            rows = c.unwrap(org.postgresql.PGConnection.class).getCopyAPI().copyIn("COPY " + tmp + " FROM STDIN", rowsOfSource);
        } catch (IOException e) {
            // the stream from the source failed (a node's failure is an SQLException of copyIn)
            throw new SourceRead(e.getCause() instanceof SQLException s ? s
                    : new SQLException("reading the source's rows: " + e.getMessage(), "08006", e));
        } finally {
            source.endRead();
        }
        long updated = 0;
        long gone = 0;
        try (Statement st = c.createStatement()) {
            st.execute("ANALYZE " + tmp);
            String set = String.join(", ", cols.stream().map(x -> io.shardlift.core.Sql.ident(x) + " = f."
                    + io.shardlift.core.Sql.ident(x)).toList());
            String match = String.join(" AND ", key.stream().map(x -> "t." + io.shardlift.core.Sql.ident(x) + " = f."
                    + io.shardlift.core.Sql.ident(x)).toList());
            for (int p : plan.partitionsOn(node, nodes.size())) {
                updated += st.executeUpdate("UPDATE " + plan.partition(p).quoted() + " t SET " + set + " FROM " + tmp
                        + " f WHERE " + match);
                // a row the source no longer has was deleted (or given another key) after the statement: the changes
                // after this barrier delete it, or insert it again whole; gone now, it holds no NULL that a NOT NULL
                // of the added column would refuse
                gone += st.executeUpdate("DELETE FROM " + plan.partition(p).quoted() + " t WHERE NOT EXISTS (SELECT 1 FROM "
                        + tmp + " f WHERE " + match + ")");
            }
        }
        log.info("{}: {} — node {}: {} rows given the source's values of {} ({} source rows read, {} rows the source no"
                + " longer has removed ahead of their change)", plan.id(), tr.tag, node, updated, cols, rows, gone);
    }

    /**
     * The source's side of the fills of one schema change, shared by every node's: one connection, opened when the first
     * node fills, and the COPY of the key and added columns, resolved once.
     */
    private final class SourceRows implements AutoCloseable {
        final List<String> wanted = new ArrayList<>();
        private final Translated tr;
        private Connection connection;
        private java.util.Optional<String> select;

        SourceRows(Translated tr) {
            this.tr = tr;
            if (!tr.result.backfill().isEmpty()) {
                wanted.addAll(tr.after.primaryKey().map(io.shardlift.core.catalog.KeyConstraint::columns).orElseThrow());
                wanted.addAll(tr.result.backfill());
            }
        }

        Connection connection() throws SourceRead {
            if (connection == null) {
                try {
                    connection = source.connect();
                    connection.setAutoCommit(false); // a read takes the table's lock and holds it until it is done
                } catch (SQLException e) {
                    throw new SourceRead(e);
                }
            }
            return connection;
        }

        /** Ends a read's transaction, and with it the source table's lock; a broken session is closed when the fill ends. */
        void endRead() {
            try {
                if (connection != null && !connection.isClosed()) {
                    connection.rollback();
                }
            } catch (SQLException ignored) {
                // the session is gone with its lock; the next read reconnects only with a new SourceRows
            }
        }

        java.util.Optional<String> select() throws SourceRead {
            if (select == null) {
                select = sourceSelect(connection(), tr.after, wanted);
            }
            return select;
        }

        @Override
        public void close() {
            if (connection != null) {
                try {
                    connection.close();
                } catch (SQLException ignored) {
                    // a read-only session: nothing is lost with it
                }
            }
        }
    }

    /**
     * The COPY of the source's key and added columns under the names they have now (a later change may have renamed
     * one: the attnum stays); empty when the source no longer has one of them, or the table.
     */
    private static java.util.Optional<String> sourceSelect(Connection src, TableShape after, List<String> wanted) throws SourceRead {
        Map<String, Integer> attnums = new java.util.HashMap<>();
        after.columns().forEach(col -> attnums.put(col.name(), col.attnum()));
        List<String> now = new ArrayList<>();
        try (PreparedStatement ps = src.prepareStatement("SELECT a.attname FROM pg_catalog.pg_attribute a"
                + " WHERE a.attrelid = to_regclass(?) AND a.attnum = ? AND NOT a.attisdropped")) {
            for (String w : wanted) {
                ps.setString(1, after.name());
                ps.setInt(2, attnums.get(w));
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return java.util.Optional.empty();
                    }
                    now.add(io.shardlift.core.Sql.ident(rs.getString(1)));
                }
            }
        } catch (SQLException e) {
            throw new SourceRead(e);
        }
        return java.util.Optional.of("COPY (SELECT " + String.join(", ", now) + " FROM " + after.name() + ") TO STDOUT");
    }

    /** Reading the source failed, not a node: retried when the source may come back, else the table stops. */
    private static final class SourceRead extends Exception {
        SourceRead(SQLException cause) {
            super(cause.getMessage(), cause);
        }

        @Override
        public synchronized SQLException getCause() {
            return (SQLException) super.getCause();
        }
    }

    /** One node's transaction, left open: the statements and their ledger row; nothing when the node has that row. */
    private void runOn(Connection c, int node, String topic, String position, TableApply t, Translated tr, SourceRows rows)
            throws SQLException, SourceRead {
        try (Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS " + APPLIED + " (\"topic\" text NOT NULL, \"position\" text NOT NULL,"
                    + " \"ddl_id\" bigint NOT NULL, \"table_name\" text NOT NULL, \"tag\" text NOT NULL,"
                    + " \"shape\" jsonb, \"applied_at\" timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (\"topic\", \"position\"))");
            st.execute("SET LOCAL lock_timeout = '30s'");
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM " + APPLIED + " WHERE topic = ? AND position = ?")) {
            ps.setString(1, topic);
            ps.setString(2, position);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    return;
                }
            }
        }
        run(c, tr.result.perNode().get(node));
        if (!tr.result.backfill().isEmpty()) {
            fill(c, node, tr, rows);
            run(c, tr.result.afterBackfill());
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + APPLIED
                + " (topic, position, ddl_id, table_name, tag, shape) VALUES (?, ?, ?, ?, ?, ?::jsonb)")) {
            ps.setString(1, topic);
            ps.setString(2, position);
            ps.setLong(3, tr.id);
            ps.setString(4, t.id().toString());
            ps.setString(5, tr.tag);
            ps.setString(6, tr.shape);
            ps.executeUpdate();
        }
    }
}
