package io.shardlift.core.plan;

import io.shardlift.core.TableId;
import io.shardlift.core.TargetException;
import io.shardlift.core.catalog.ColumnInfo;
import io.shardlift.core.ledger.MetaLedger;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies a {@link ClusterPlan} to the nodes, each node in one transaction, all nodes in parallel.
 * Idempotent: a node already laid out for the same plan is left as it is; a node laid out for a
 * different plan, or holding tables shardlift did not create, is refused before anything is written.
 */
public final class LayoutApplier {

    private static final Logger log = LoggerFactory.getLogger(LayoutApplier.class);


    public enum Stage {
        /** Control schema, types, sequences, FDW servers, parents, partitions, reference tables. */
        TABLES,
        /** Primary keys, unique constraints and indexes on the local tables. */
        INDEXES,
        /** Foreign keys, added NOT VALID. */
        FOREIGN_KEYS,
        /** VALIDATE CONSTRAINT of those foreign keys. */
        VALIDATE_FOREIGN_KEYS
    }

    /** What one node did: statements run and whether its layout was already in place. */
    public record NodeResult(int node, String label, int statements, boolean alreadyLaidOut) {
    }

    private LayoutApplier() {
    }

    public static List<NodeResult> apply(ClusterPlan given, Set<Stage> stages) {
        // the foreign keys follow the schema changes carried during the migration (a key added is created and
        // validated, a dropped one is not), wherever they are created: the cutover, its recovery
        ClusterPlan plan = stages.contains(Stage.FOREIGN_KEYS) || stages.contains(Stage.VALIDATE_FOREIGN_KEYS)
                ? CarriedShapes.onTheNodes(given) : given;
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, plan.nodeCount()), r -> {
            Thread t = new Thread(r, "shardlift-layout");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<NodeResult>> futures = new ArrayList<>();
            for (NodeLayout node : plan.nodes()) {
                futures.add(pool.submit(() -> applyNode(plan, node, EnumSet.copyOf(stages))));
            }
            List<NodeResult> results = new ArrayList<>();
            List<String> failures = new ArrayList<>();
            for (Future<NodeResult> f : futures) {
                try {
                    results.add(f.get());
                } catch (ExecutionException e) {
                    failures.add(e.getCause().getMessage());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new TargetException("interrupted while laying out the nodes");
                }
            }
            if (!failures.isEmpty()) {
                throw new TargetException(String.join("\n", failures));
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }

    private static NodeResult applyNode(ClusterPlan plan, NodeLayout node, Set<Stage> stages) {
        String label = "node " + node.index() + " (" + node.conn().label() + ")";
        try (Connection c = node.conn().connect()) {
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.execute("SET LOCAL lock_timeout = '10s'");
                // two appliers on one node would race on CREATE ... IF NOT EXISTS
                st.execute("SELECT pg_advisory_xact_lock(hashtext('shardlift.layout'))");
                boolean laidOut = fingerprint(c).isPresent();
                List<String> problems = new ArrayList<>(encodingProblems(c, label));
                problems.addAll(conflicts(c, plan, node, label));
                if (!problems.isEmpty()) {
                    throw new TargetException(String.join("\n", problems));
                }
                int count = 0;
                if (stages.contains(Stage.TABLES)) {
                    count += run(st, node.tables(), label);
                    MetaLedger.put(c, MetaLedger.LAYOUT_FINGERPRINT, node.fingerprint());
                    MetaLedger.put(c, MetaLedger.LAYOUT_STRUCTURE, structure(plan, node.index()));
                } else if (!laidOut) {
                    throw new TargetException(label + " has no shardlift layout yet: run `shardlift schema` first");
                }
                if (stages.contains(Stage.INDEXES)) {
                    count += run(st, node.indexes(), label);
                }
                if (stages.contains(Stage.FOREIGN_KEYS)) {
                    count += run(st, node.foreignKeys(), label);
                }
                if (stages.contains(Stage.VALIDATE_FOREIGN_KEYS)) {
                    count += run(st, node.validations(), label);
                }
                c.commit();
                log.info("{}: layout {} ({} statements, stages {})", label, laidOut ? "verified" : "created", count, stages);
                return new NodeResult(node.index(), label, count, laidOut);
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new TargetException(label + ": " + e.getMessage(), e);
        }
    }

    private static int run(Statement st, List<Ddl> ddl, String label) throws SQLException {
        for (Ddl d : ddl) {
            try {
                st.execute(d.sql());
            } catch (SQLException e) {
                throw new SQLException(e.getMessage() + "\n  while running: " + d.display(), e.getSQLState(), e);
            }
        }
        return ddl.size();
    }

    /**
     * Whether the node's layout is this plan's but for tables it does not hold yet: tables created on the source during
     * the migration in a schema migrated whole (as the source recorded them), which a restart plans from the catalog and
     * lays out then, global or sharded as the schema's {@code unlisted:} rule makes them. A node's layout is created in
     * one transaction, so a sharded table whose parent is absent has none of its partitions there either.
     */
    private static boolean laidOutWithoutNewTables(Connection c, ClusterPlan plan, int node) throws SQLException {
        Set<TableId> absent = new LinkedHashSet<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NULL")) {
            for (TablePlan t : plan.tables()) {
                ps.setString(1, t.id().quoted());
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getBoolean(1)) {
                        absent.add(t.id());
                    }
                }
            }
        }
        if (absent.isEmpty() || MetaLedger.get(c, MetaLedger.LAYOUT_STRUCTURE)
                .filter(s -> s.equals(structure(plan, node, absent))).isEmpty()) {
            return false;
        }
        // only tables the source recorded as created during the migration: a table added to the spec is still refused
        Set<TableId> created = new LinkedHashSet<>();
        try (Connection source = plan.spec().source().connect()) {
            io.shardlift.core.ddl.SourceDdlLog.created(source, true).forEach(t -> created.add(t.table()));
        } catch (SQLException e) {
            log.warn("cannot read the source's tables created during the migration ({}): the layout is taken as another plan's",
                    e.getMessage());
            return false;
        }
        return created.containsAll(absent);
    }

    /** What a layout is apart from the shapes of its tables; see {@link MetaLedger#LAYOUT_STRUCTURE}. */
    static String structure(ClusterPlan plan, int node) {
        return structure(plan, node, Set.of());
    }

    private static String structure(ClusterPlan plan, int node, Set<TableId> without) {
        StringBuilder sb = new StringBuilder().append(plan.nodeCount()).append('/').append(node);
        for (TablePlan t : plan.tables()) {
            if (without.contains(t.id())) {
                continue;
            }
            sb.append('\n').append(t.id()).append(' ').append(t.kind()).append(' ').append(t.keyColumns()).append(' ')
                    .append(t.partitions()).append(' ').append(t.colocationRoot()).append(' ')
                    .append(t.primaryKey() == null ? "-" : t.primaryKey().columns());
        }
        return Names.sha256(sb.toString());
    }

    /** Whether the applier carried a schema change of the source to this node (its {@code shardlift.ddl_applied}). */
    private static boolean carriedSchemaChanges(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass('\"shardlift\".\"ddl_applied\"') IS NOT NULL");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            if (!rs.getBoolean(1)) {
                return false;
            }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT EXISTS (SELECT 1 FROM \"shardlift\".\"ddl_applied\")");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    private static Optional<String> fingerprint(Connection c) throws SQLException {
        return MetaLedger.exists(c) ? MetaLedger.get(c, MetaLedger.LAYOUT_FINGERPRINT) : Optional.empty();
    }

    /**
     * Why this node cannot take {@code node}'s layout, read-only: laid out for a different plan, or (not laid out
     * yet) already holding one of the migrated tables or lacking a type they use. Empty when it can.
     * The preflight of every command calls it before anything is written anywhere.
     */
    public static List<String> conflicts(Connection c, ClusterPlan plan, NodeLayout node, String label) throws SQLException {
        Optional<String> existing = fingerprint(c);
        if (existing.isPresent()) {
            if (existing.get().equals(node.fingerprint())) {
                return List.of();
            }
            // with schema changes carried (replication.ddl: replicate) the tables' shapes follow the source during the
            // migration, and a restart plans from the source's catalog, which may be ahead of the nodes by changes still in
            // the stream: the layout is the same as long as its structure is
            if ((plan.spec().replication().replicateDdl() || carriedSchemaChanges(c))
                    && MetaLedger.get(c, MetaLedger.LAYOUT_STRUCTURE).filter(s -> s.equals(structure(plan, node.index()))).isPresent()) {
                return List.of();
            }
            if (plan.spec().replication().replicateDdl() && laidOutWithoutNewTables(c, plan, node.index())) {
                return List.of();
            }
            return List.of(label + " was laid out by shardlift for a different plan (layout "
                    + existing.get().substring(0, 12) + ", this spec gives " + node.fingerprint().substring(0, 12)
                    + "): the spec or the source schema changed after `shardlift schema` ran — restore them, or drop the"
                    + " migrated tables, the shardlift schema and the shardlift_node_* servers on every node and run again");
        }
        Set<TableId> names = new LinkedHashSet<>();
        for (TablePlan t : plan.tables()) {
            names.add(t.id());
            for (int p = 0; t.sharded() && p < t.partitions(); p++) {
                names.add(t.partition(p));
            }
        }
        List<String> problems = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
            for (TableId id : names) {
                ps.setString(1, id.quoted());
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getBoolean(1)) {
                        problems.add(label + " already has a table " + id + " that shardlift did not create — migrate into an"
                                + " empty database, or drop it there");
                    }
                }
            }
        }
        // the plan creates its user-defined types and extensions itself; anything else must be there already
        // (compared without quotes: format_type quotes only the names that need it)
        Set<String> created = new java.util.HashSet<>();
        plan.types().forEach(t -> created.add(t.schema() + "." + t.name()));
        Set<String> types = new LinkedHashSet<>();
        for (TablePlan t : plan.tables()) {
            for (ColumnInfo col : t.source().columns()) {
                String type = col.type().replaceAll("(\\[])+$", "");
                if (!col.isBuiltinType() && col.typeExtension().isEmpty() && !created.contains(type.replace("\"", ""))) {
                    types.add(type);
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT to_regtype(?) IS NOT NULL")) {
            for (String type : types) {
                ps.setString(1, type);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (!rs.getBoolean(1)) {
                        problems.add(label + " has no type " + type + ", which migrated columns use — create it there first"
                                + " (shardlift creates enum, domain, composite and range types and extension types itself, not base types"
                                + " written in C)");
                    }
                }
            }
        }
        return problems;
    }

    /** The node's encoding, if it is not UTF8: read-only, needs no plan. */
    public static List<String> encodingProblems(Connection c, String label) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SHOW server_encoding")) {
            rs.next();
            if (!"UTF8".equalsIgnoreCase(rs.getString(1))) {
                // the router hashes text keys as UTF-8 bytes; PostgreSQL hashes them in the server's encoding
                return List.of(label + " uses encoding " + rs.getString(1) + " but shardlift routes text keys as UTF-8 —"
                        + " create the database there WITH ENCODING 'UTF8'");
            }
        }
        return List.of();
    }
}
