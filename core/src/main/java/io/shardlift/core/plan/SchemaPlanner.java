package io.shardlift.core.plan;

import io.shardlift.core.TableId;
import io.shardlift.core.catalog.ColumnInfo;
import io.shardlift.core.catalog.ColumnTypes;
import io.shardlift.core.catalog.ForeignKeyInfo;
import io.shardlift.core.catalog.IndexInfo;
import io.shardlift.core.catalog.KeyConstraint;
import io.shardlift.core.catalog.SequenceInfo;
import io.shardlift.core.catalog.SourceCatalog;
import io.shardlift.core.catalog.TableInfo;
import io.shardlift.core.hash.KeyType;
import io.shardlift.core.spec.MigrationSpec;
import io.shardlift.core.spec.SchemaSpec;
import io.shardlift.core.spec.TableSpec;
import io.shardlift.core.spec.TableType;
import io.shardlift.core.spec.UnlistedRule;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Validates the spec against the source catalog and plans the cluster layout. Every refusal is collected
 * (nothing stops at the first) and names the table, the column or constraint, and the fix.
 */
public final class SchemaPlanner {

    private final MigrationSpec spec;
    private final SourceCatalog catalog;
    private final List<String> problems = new ArrayList<>();
    /** The same problems by the table each is about: every problem is one table's. */
    private final Map<TableId, List<String>> problemsByTable = new LinkedHashMap<>();
    /** Tables of schemas listed with {@code all: true} that this plan leaves out (a take-on without those it refuses). */
    private final Set<TableId> leftOut;
    private final List<String> warnings = new ArrayList<>();
    /** Unlisted tables sharded by their schema's {@code unlisted:} rule: their fix is in the rule, not a table entry. */
    private final Set<TableId> byRule = new java.util.HashSet<>();

    private SchemaPlanner(MigrationSpec spec, SourceCatalog catalog, Set<TableId> leftOut) {
        this.spec = spec;
        this.catalog = catalog;
        this.leftOut = Set.copyOf(leftOut);
    }

    /** Plans the layout, or throws {@link PlanException} listing every problem. */
    public static ClusterPlan plan(MigrationSpec spec, SourceCatalog catalog) {
        return plan(spec, catalog, Set.of());
    }

    /**
     * As {@link #plan(MigrationSpec, SourceCatalog)}, without the tables {@code leftOut}: the take-on of tables created
     * during the migration plans without those (unlisted, of schemas listed with {@code all: true}) the planner refuses,
     * so that one such table does not hold the others; verify compares what it can while a listed table cannot be planned
     * (renamed on the source, say).
     */
    public static ClusterPlan plan(MigrationSpec spec, SourceCatalog catalog, Set<TableId> leftOut) {
        return new SchemaPlanner(spec, catalog, leftOut).run();
    }

    private void refuse(TableId about, String problem) {
        problems.add(problem);
        problemsByTable.computeIfAbsent(about, k -> new ArrayList<>()).add(problem);
    }

    private ClusterPlan run() {
        List<TableSpec> specs = expandAll();
        Map<TableId, TableSpec> byId = new LinkedHashMap<>();
        specs.forEach(t -> byId.put(t.id(), t));

        Map<TableId, TableInfo> infos = new LinkedHashMap<>();
        for (TableSpec t : specs) {
            Optional<TableInfo> info = catalog.table(t.id());
            if (info.isEmpty()) {
                Optional<TableId> root = catalog.partitionRoot(t.id());
                refuse(t.id(), root.isPresent()
                        ? t.id() + ": is a partition of " + root.get() + "; a partitioned table is migrated whole, with all its"
                                + " partitions — list " + root.get().name() + " instead of " + t.id().name()
                        : t.id() + ": the spec lists this table but the source has no table " + t.id().quoted()
                                + " — check the name and the schema (`name` under schemas[].tables, `name` of the schema)");
                continue;
            }
            if (!migratable(info.get().relkind())) {
                refuse(t.id(), t.id() + ": is a " + relkindName(info.get().relkind())
                        + ", not a table — only plain and partitioned tables can be migrated; remove it from the spec");
                continue;
            }
            infos.put(t.id(), info.get());
            if (info.get().partitioned()) {
                warnings.add(t.id() + ": partitioned on the source (" + info.get().partitions().size() + " partitions) — migrated as one"
                        + " table with every partition's rows, laid out " + (t.type() == TableType.SHARDED ? "by hash of "
                        + String.join(", ", t.distributedBy()) : "as a global table") + " on the nodes; while the migration runs,"
                        + " TRUNCATE of a single partition is refused (logical replication does not carry it) and ATTACH, DETACH"
                        + " or DROP of a partition is not carried");
            }
        }

        Map<TableId, List<KeyType>> keyTypes = new HashMap<>();
        for (TableSpec t : specs) {
            TableInfo info = infos.get(t.id());
            if (info == null) {
                continue;
            }
            checkCommon(t, info);
            if (t.type() == TableType.SHARDED) {
                checkShardingKey(t, info).ifPresent(types -> keyTypes.put(t.id(), types));
            }
        }

        List<TablePlan> plans = new ArrayList<>();
        for (TableSpec t : specs) {
            TableInfo info = infos.get(t.id());
            if (info == null) {
                continue;
            }
            boolean sharded = t.type() == TableType.SHARDED;
            TableId root = sharded ? colocationRoot(t, byId) : t.id();
            if (sharded && !root.equals(t.id())) {
                checkColocatedTypes(t, root, keyTypes);
            }
            List<String> key = sharded ? t.distributedBy() : List.of();
            // a sharding key already refused (a column that does not exist) says nothing about the constraints: a
            // follow-on advice would name the missing column (a new user's `distributedby: idd` got "widen to (id, idd)")
            boolean keyKnown = !sharded || keyTypes.containsKey(t.id());
            KeyConstraint pk = info.primaryKey().map(k -> keyKnown ? targetKey(t, k) : k).orElse(null);
            List<KeyConstraint> uniques = info.uniques().stream().map(u -> keyKnown ? targetKey(t, u) : u).toList();
            if (sharded) {
                checkUniqueIndexes(t, info);
            }
            List<ForeignKeyInfo> fks = new ArrayList<>();
            for (ForeignKeyInfo fk : info.foreignKeys()) {
                if (checkForeignKey(t, fk, byId, infos)) {
                    fks.add(fk);
                }
            }
            plans.add(new TablePlan(t.id(), sharded ? TableKind.SHARDED : TableKind.REFERENCE, info, key,
                    keyTypes.getOrDefault(t.id(), List.of()), sharded ? t.partitions() : 1, root, pk, uniques, fks,
                    t.priority()));
        }
        checkPartitionNames(plans);
        checkPriorities(plans);

        if (!problems.isEmpty()) {
            throw new PlanException(problems, problemsByTable);
        }
        plans.sort(Comparator.comparingInt(TablePlan::priority).reversed().thenComparing(TablePlan::id));
        List<SequenceInfo> sequences = plans.stream().flatMap(p -> p.source().sequences().stream())
                .collect(Collectors.toMap(SequenceInfo::id, s -> s, (a, b) -> a, LinkedHashMap::new))
                .values().stream().toList();
        for (SequenceInfo s : sequences) {
            if (s.identity()) {
                warnings.add(s.id() + ": identity column " + s.column() + " becomes DEFAULT nextval('" + s.id()
                        + "') on the nodes, drawn from a per-node sequence interleaved across nodes");
            }
        }
        LayoutDdl ddl = new LayoutDdl(spec, plans, catalog.types(), sequences);
        return new ClusterPlan(spec, plans, catalog.types(), sequences, ddl.nodes(), warnings);
    }

    /**
     * {@code all: true} migrates every table of the schema; unlisted ones follow the schema's {@code unlisted:} rule:
     * reference tables by default, sharded as the rule says where the table fits it.
     */
    private List<TableSpec> expandAll() {
        List<TableSpec> out = new ArrayList<>(spec.tables().stream().filter(t -> !leftOut.contains(t.id())).toList());
        Set<TableId> listed = spec.tables().stream().map(TableSpec::id).collect(Collectors.toSet());
        int top = out.stream().mapToInt(TableSpec::priority).max().orElse(0) + 1;
        for (SchemaSpec s : spec.schemas()) {
            if (!s.all()) {
                continue;
            }
            // every relation of the schema is either taken or named with the reason it is not: never a silent skip
            for (TableId id : catalog.tablesIn(s.name())) {
                if (!listed.add(id) || leftOut.contains(id)) {
                    continue;
                }
                char kind = catalog.table(id).map(TableInfo::relkind).orElse('?');
                if (migratable(kind)) {
                    Optional<String> notSharded = s.unlisted().sharded()
                            ? whyNotSharded(id, s.unlisted(), catalog.table(id).orElseThrow()) : Optional.empty();
                    if (s.unlisted().sharded() && notSharded.isEmpty()) {
                        UnlistedRule rule = s.unlisted();
                        out.add(new TableSpec(id, TableType.SHARDED, rule.distributedBy(), rule.colocateWith(), rule.partitions(),
                                0, false));
                        byRule.add(id);
                        warnings.add(id + ": not listed, but schema " + s.name() + " has all: true — sharded by "
                                + String.join(", ", rule.distributedBy()) + " as its unlisted: rule says ("
                                + rule.partitions() + " partitions" + rule.colocateWith().map(c -> ", colocated with " + c).orElse("")
                                + ")");
                        continue;
                    }
                    out.add(new TableSpec(id, TableType.GLOBAL, List.of(), Optional.empty(), 1, top, false));
                    warnings.add(id + ": not listed, but schema " + s.name() + " has all: true — migrated as a global (reference) "
                            + (kind == 'p' ? "table with all its partitions" : "table") + ", copied first (priority " + top + ")"
                            + notSharded.map(why -> "; not sharded as its unlisted: rule " + s.unlisted().describe() + " says: "
                                    + why + (why.startsWith(NO_COLUMN) ? "" : " — give it what the rule needs on the source, or"
                                    + " list it under tables with a key of its own")).orElse(""));
                } else {
                    warnings.add(id + ": left out although schema " + s.name() + " has all: true — it is a " + relkindName(kind)
                            + ", which holds no rows of its own to migrate; create it on the nodes yourself if the application needs it");
                }
            }
        }
        return out;
    }

    /**
     * Why an unlisted table cannot be sharded as its schema's {@code unlisted:} rule says; empty when it can. A table the
     * rule does not fit stays global (with a warning), rather than stopping the plan: the rule is for the schema's tables
     * that carry its key, and a table created during the migration that the planner refused could not be taken on at all.
     * Checks the same things the planner refuses for a listed sharded table.
     */
    /** The reason of a table the rule is not meant for (a lookup table of a multi-tenant schema): no advice follows. */
    private static final String NO_COLUMN = "it has no column ";

    private Optional<String> whyNotSharded(TableId id, UnlistedRule rule, TableInfo info) {
        List<String> key = rule.distributedBy();
        List<String> missing = key.stream().filter(c -> info.column(c).isEmpty()).toList();
        if (!missing.isEmpty()) {
            return Optional.of(NO_COLUMN + String.join(", ", missing));
        }
        if (info.primaryKey().isEmpty()) {
            return Optional.of("it has no primary key");
        }
        List<KeyConstraint> keys = new ArrayList<>();
        keys.add(info.primaryKey().get());
        keys.addAll(info.uniques());
        for (KeyConstraint k : keys) {
            if (!k.columns().containsAll(key)) {
                return Optional.of("its " + k.describe() + " does not include " + String.join(", ", key)
                        + ", so it could not be enforced across nodes");
            }
        }
        for (IndexInfo ix : info.indexes()) {
            if (ix.unique() && !ix.plain()) {
                return Optional.of("its unique index " + ix.name() + " is on expressions or partial");
            }
        }
        for (var check : info.checks()) {
            if (check.exclusion()) {
                return Optional.of("its exclusion constraint " + check.name() + " cannot be enforced across nodes");
            }
        }
        List<KeyType> types = new ArrayList<>();
        for (String col : key) {
            ColumnInfo c = info.column(col).orElseThrow();
            if (!c.notNull()) {
                return Optional.of("its column " + col + " is nullable (ALTER TABLE " + id.quoted() + " ALTER COLUMN "
                        + io.shardlift.core.Sql.ident(col) + " SET NOT NULL)");
            }
            Optional<KeyType> type = c.typtype() == 'e' ? Optional.empty() : KeyType.fromTypname(c.typname());
            if (type.isEmpty()) {
                return Optional.of("its column " + col + " has type " + c.type() + ", which shardlift cannot hash");
            }
            if (!c.collationDeterministic()) {
                return Optional.of("its column " + col + " uses a nondeterministic collation");
            }
            types.add(type.get());
        }
        if (rule.colocateWith().isPresent()) {
            TableSpec root = spec.colocationRoot(spec.table(rule.colocateWith().get()).orElseThrow());
            Optional<TableInfo> rootInfo = catalog.table(root.id());
            List<KeyType> theirs = new ArrayList<>();
            for (String col : root.distributedBy()) {
                rootInfo.flatMap(r -> r.column(col)).filter(c -> c.typtype() != 'e')
                        .flatMap(c -> KeyType.fromTypname(c.typname())).ifPresent(theirs::add);
            }
            // a root whose key does not resolve is refused on its own: nothing to compare with then
            if (theirs.size() == root.distributedBy().size() && !hashFamilies(types).equals(hashFamilies(theirs))) {
                return Optional.of("its key " + String.join(", ", key) + " has type(s) " + types + " while " + root.id()
                        + ", which it would be colocated with, is sharded on " + theirs);
            }
        }
        return Optional.empty();
    }

    private void checkCommon(TableSpec t, TableInfo info) {
        if (info.primaryKey().isEmpty()) {
            refuse(t.id(), t.id() + ": has no primary key — shardlift applies changes by key and needs one; add it on the source"
                    + " (ALTER TABLE " + t.id().quoted() + " ADD PRIMARY KEY (...))"
                    + (t.type() == TableType.SHARDED ? " including the sharding key " + String.join(", ", t.distributedBy()) : ""));
        }
        if (info.replicaIdentity() == 'n') {
            refuse(t.id(), t.id() + ": REPLICA IDENTITY NOTHING hides the keys of updated and deleted rows from the change stream;"
                    + " run ALTER TABLE " + t.id().quoted() + " REPLICA IDENTITY DEFAULT on the source");
        }
        for (ColumnInfo c : info.columns()) {
            ColumnTypes.refusal(c).ifPresent(why -> refuse(t.id(), t.id() + ": column " + c.name() + " has type " + c.type()
                    + ", which shardlift cannot carry exactly: " + why));
        }
        for (var check : info.checks()) {
            if (check.exclusion() && t.type() == TableType.SHARDED) {
                refuse(t.id(), t.id() + ": exclusion constraint " + check.name() + " cannot be enforced across partitions"
                        + " on different nodes — make the table global, or drop the constraint on the source");
            }
        }
    }

    /** Returns the key's hash types when the sharding key is valid. */
    private Optional<List<KeyType>> checkShardingKey(TableSpec t, TableInfo info) {
        List<KeyType> types = new ArrayList<>();
        boolean ok = true;
        for (String col : t.distributedBy()) {
            Optional<ColumnInfo> c = info.column(col);
            if (c.isEmpty()) {
                refuse(t.id(), t.id() + ": sharding column " + col + " (distributedby) does not exist; columns are "
                        + String.join(", ", info.columnNames()) + " — fix distributedby");
                ok = false;
                continue;
            }
            ColumnInfo column = c.get();
            if (!column.notNull()) {
                refuse(t.id(), t.id() + ": sharding column " + col + " is nullable — a row with a NULL key has no owning shard;"
                        + " make it NOT NULL on the source (ALTER TABLE " + t.id().quoted() + " ALTER COLUMN "
                        + io.shardlift.core.Sql.ident(col) + " SET NOT NULL) or shard on another column");
                ok = false;
            }
            Optional<KeyType> type = column.typtype() == 'e' ? Optional.empty() : KeyType.fromTypname(column.typname());
            if (type.isEmpty()) {
                refuse(t.id(), t.id() + ": sharding column " + col + " has type " + column.type()
                        + ", which shardlift cannot hash — supported: smallint, integer, bigint, text, varchar, char(n),"
                        + " uuid, numeric, date, timestamp, timestamptz, boolean");
                ok = false;
            } else {
                types.add(type.get());
            }
            if (!column.collationDeterministic()) {
                refuse(t.id(), t.id() + ": sharding column " + col + " uses nondeterministic collation " + column.collation().orElse("")
                        + ", which hashes equal strings differently — use a deterministic collation for the key");
                ok = false;
            }
        }
        return ok ? Optional.of(types) : Optional.empty();
    }

    private TableId colocationRoot(TableSpec t, Map<TableId, TableSpec> byId) {
        TableId at = t.id();
        Set<TableId> seen = new LinkedHashSet<>();
        while (seen.add(at)) {
            TableSpec s = byId.get(at);
            if (s == null || s.colocateWith().isEmpty()) {
                return at;
            }
            at = s.colocateWith().get();
        }
        return at;
    }

    private void checkColocatedTypes(TableSpec t, TableId root, Map<TableId, List<KeyType>> keyTypes) {
        List<KeyType> mine = keyTypes.get(t.id());
        List<KeyType> theirs = keyTypes.get(root);
        if (mine == null || theirs == null) {
            return; // already reported
        }
        if (!hashFamilies(mine).equals(hashFamilies(theirs))) {
            refuse(t.id(), t.id() + ": colocated with " + root + " but its sharding key " + String.join(", ", t.distributedBy())
                    + " has type(s) " + mine + " while " + root + " is sharded on " + theirs
                    + " — equal values would hash to different partitions; give the key columns the same types");
        }
    }

    /**
     * Integer widths hash alike (PostgreSQL folds int8 so that it matches int4 for values in range), and
     * varchar hashes as text; everything else must match exactly.
     */
    private static List<String> hashFamilies(List<KeyType> types) {
        return types.stream().map(k -> switch (k) {
            case SMALLINT, INTEGER, BIGINT -> "integer";
            case TEXT, VARCHAR -> "text";
            default -> k.name();
        }).toList();
    }

    /** The constraint as the nodes get it; on sharded tables it must include the sharding key. */
    private KeyConstraint targetKey(TableSpec t, KeyConstraint k) {
        if (t.type() != TableType.SHARDED) {
            return k;
        }
        List<String> missing = t.distributedBy().stream().filter(c -> !k.columns().contains(c)).toList();
        if (missing.isEmpty()) {
            return k;
        }
        List<String> widened = new ArrayList<>(k.columns());
        widened.addAll(missing);
        if (t.widenUnique()) {
            warnings.add(t.id() + ": " + k.describe() + " lacks the sharding key and becomes (" + String.join(", ", widened)
                    + ") on the nodes (widen_unique: true) — (" + String.join(", ", k.columns())
                    + ") alone is no longer enforced unique across the cluster, only per " + String.join(", ", missing));
            return new KeyConstraint(k.name(), k.kind(), widened, k.deferrable(), k.nullsNotDistinct());
        }
        refuse(t.id(), t.id() + ": " + k.describe() + " does not include the sharding key " + String.join(", ", missing)
                + " — uniqueness cannot be enforced across nodes; add " + String.join(", ", missing)
                + " to the constraint on the source, shard on a column it contains, or set widen_unique: true on the table"
                + " to widen it to (" + String.join(", ", widened) + ") on the nodes");
        return k;
    }

    private void checkUniqueIndexes(TableSpec t, TableInfo info) {
        for (IndexInfo ix : info.indexes()) {
            if (ix.unique() && !ix.plain()) {
                refuse(t.id(), t.id() + ": unique index " + ix.name() + " is on expressions or partial (" + ix.method()
                        + ") — shardlift cannot prove it includes the sharding key; drop it on the source or make the table global");
            }
        }
    }

    private boolean checkForeignKey(TableSpec child, ForeignKeyInfo fk, Map<TableId, TableSpec> byId,
                                    Map<TableId, TableInfo> infos) {
        TableSpec parent = byId.get(fk.referenced());
        if (parent == null) {
            refuse(child.id(), child.id() + ": foreign key " + fk.describe() + " references " + fk.referenced()
                    + ", which is not in the spec — add " + fk.referenced() + " to the spec (type: global or sharded)");
            return false;
        }
        if (!infos.containsKey(parent.id())) {
            return false; // reported as missing
        }
        boolean childSharded = child.type() == TableType.SHARDED;
        boolean parentSharded = parent.type() == TableType.SHARDED;
        if (!parentSharded) {
            return true; // any table may reference a table every node has
        }
        if (!childSharded) {
            refuse(child.id(), child.id() + ": is global but its foreign key " + fk.describe() + " references the sharded table "
                    + parent.id() + " — a full copy on every node cannot reference rows that live on one node;"
                    + " make " + child.id() + " sharded and colocated with " + parent.id() + ", or make " + parent.id() + " global");
            return false;
        }
        TableId childRoot = colocationRoot(child, byId);
        TableId parentRoot = colocationRoot(parent, byId);
        boolean keyAligned = fk.mapsShardingKey(parent.distributedBy(), child.distributedBy());
        if (!childRoot.equals(parentRoot) || !keyAligned) {
            String why = !childRoot.equals(parentRoot)
                    ? child.id() + " is not colocated with " + parent.id()
                    : "the foreign key does not map " + child.id() + "'s sharding key " + String.join(", ", child.distributedBy())
                            + " onto " + parent.id() + "'s " + String.join(", ", parent.distributedBy());
            refuse(child.id(), child.id() + ": foreign key " + fk.describe() + " joins two sharded tables that are not colocated on that key ("
                    + why + ") — the referenced row may live on another node; "
                    + (byRule.contains(child.id()) && child.colocateWith().isEmpty() && !childRoot.equals(parentRoot)
                    ? child.id() + " is sharded by schema " + child.id().schema() + "'s unlisted: rule, whose tables are each a"
                    + " colocation group of their own unless the rule has colocatewith: give the rule colocatewith: a listed"
                    + " table sharded on the same key, or list " + child.id().name() + " under tables"
                    : "shard both on the referencing column and set colocatewith: " + parent.id().name() + " on "
                    + child.id().name() + ", or make " + parent.id() + " global"));
            return false;
        }
        return true;
    }

    private void checkPartitionNames(List<TablePlan> plans) {
        Map<TableId, TableId> taken = new HashMap<>();
        for (TablePlan p : plans) {
            taken.put(p.id(), p.id());
        }
        for (TablePlan p : plans) {
            for (TableId other : catalog.tablesIn(p.id().schema())) {
                taken.putIfAbsent(other, other);
            }
        }
        for (TablePlan p : plans) {
            if (!p.sharded()) {
                continue;
            }
            for (int i = 0; i < p.partitions(); i++) {
                TableId part = p.partition(i);
                TableId owner = taken.putIfAbsent(part, p.id());
                if (owner != null && !owner.equals(p.id())) {
                    refuse(p.id(), p.id() + ": its partition " + i + " would be named " + part + ", which is already "
                            + (owner.equals(part) ? "a table on the source" : "a partition of " + owner)
                            + " — rename one of the tables on the source");
                }
            }
        }
    }

    private void checkPriorities(List<TablePlan> plans) {
        Map<TableId, Integer> prio = plans.stream().collect(Collectors.toMap(TablePlan::id, TablePlan::priority));
        for (TablePlan p : plans) {
            for (ForeignKeyInfo fk : p.foreignKeys()) {
                Integer parent = prio.get(fk.referenced());
                if (parent != null && !fk.referenced().equals(p.id()) && parent < p.priority()) {
                    warnings.add(p.id() + ": priority " + p.priority() + " copies it before " + fk.referenced() + " (priority "
                            + parent + ") which it references — harmless here (foreign keys are created at cutover),"
                            + " but give parents the higher priority to copy them first");
                }
            }
        }
    }

    /** Plain and partitioned tables hold rows; views, materialized views and foreign tables do not (here). */
    private static boolean migratable(char relkind) {
        return relkind == 'r' || relkind == 'p';
    }

    private static String relkindName(char relkind) {
        return switch (relkind) {
            case 'p' -> "partitioned table";
            case 'v' -> "view";
            case 'm' -> "materialized view";
            case 'f' -> "foreign table";
            default -> "relation of kind " + relkind;
        };
    }
}
