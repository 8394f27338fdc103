package io.shardlift.core.plan;

import static io.shardlift.core.Sql.ident;
import static io.shardlift.core.Sql.literal;

import io.shardlift.core.TableId;
import io.shardlift.core.catalog.CheckInfo;
import io.shardlift.core.catalog.ColumnInfo;
import io.shardlift.core.catalog.ForeignKeyInfo;
import io.shardlift.core.catalog.IndexInfo;
import io.shardlift.core.catalog.KeyConstraint;
import io.shardlift.core.ddl.TableShape;
import io.shardlift.core.spec.ConnInfo;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A schema change of one migrated table, translated to the layout: the difference between the shape before and after
 * a DDL statement on the source, as the statements each node runs. The partitioned parent on every node carries a
 * column or CHECK change to its local and foreign partitions; indexes are built on each node's local partitions (as
 * the layout builds them); a reference table changes on every node; enum types the columns use are created or given
 * their new labels first. Whatever cannot be carried is refused as a whole, with the reason: nothing is applied partly.
 *
 * <p>Renames are told from drop-and-add by the column's attnum, which the source keeps across a rename.
 */
public final class LayoutChange {

    /**
     * @param perNode  the statements of each node, to run in one transaction per node; empty when refused
     * @param plan     the table's plan with the new shape
     * @param refusal  why the change cannot be carried, for the operator (names the table, never row data)
     * @param backfill columns added with values the source gave each existing row, which the change stream does not
     *                 carry (an identity, a serial, a default that is not a constant): each node's transaction fills
     *                 them from the source's rows after {@code perNode} and before {@code afterBackfill}
     * @param afterBackfill what each node runs after the fill: the added columns' defaults and NOT NULL
     */
    public record Result(List<List<Ddl>> perNode, TablePlan plan, Optional<String> refusal, List<String> backfill,
                         List<Ddl> afterBackfill) {
        public Result(List<List<Ddl>> perNode, TablePlan plan, Optional<String> refusal) {
            this(perNode, plan, refusal, List.of(), List.of());
        }

        public boolean carried() {
            return refusal.isEmpty();
        }
    }

    private final TablePlan plan;
    private final int n;
    private final List<ConnInfo> nodes;
    /** The migration's other tables, to judge a new foreign key; none known: not judged. */
    private java.util.function.Function<TableId, Optional<TablePlan>> tables = id -> null;

    /** With the migration's tables: a foreign key added to this one is judged against the table it references. */
    public LayoutChange withTables(java.util.function.Function<TableId, Optional<TablePlan>> lookup) {
        this.tables = lookup;
        return this;
    }

    public LayoutChange(TablePlan plan, int nodes) {
        this.plan = plan;
        this.n = nodes;
        this.nodes = null;
    }

    /** With the nodes' connections: a global table's fan-out (see {@link GlobalFanout}) follows its new columns too. */
    public LayoutChange(TablePlan plan, List<ConnInfo> nodes) {
        this.plan = plan;
        this.n = nodes.size();
        this.nodes = List.copyOf(nodes);
    }

    /** The change from {@code before} to {@code after} ({@code after} null: the table was dropped). */
    public Result translate(String tag, TableShape before, TableShape after) {
        Optional<String> why = refusal(before, after);
        if (why.isPresent()) {
            return refused(tag, why.get());
        }
        List<Ddl> all = new ArrayList<>();
        List<String> backfill = new ArrayList<>();
        List<Ddl> afterBackfill = new ArrayList<>();
        String parent = plan.id().quoted();
        try {
            enums(before, after, all);
        } catch (IllegalArgumentException e) {
            return refused(tag, e.getMessage());
        }
        Map<Integer, ColumnInfo> old = byAttnum(before.columns());
        Map<Integer, ColumnInfo> now = byAttnum(after.columns());
        Map<String, CheckInfo> oldChecks = byName(before.checks(), CheckInfo::name);
        Map<String, CheckInfo> newChecks = byName(after.checks(), CheckInfo::name);
        for (CheckInfo c : before.checks()) {
            if (!c.equals(newChecks.get(c.name()))) {
                all.add(Ddl.of("ALTER TABLE " + parent + " DROP CONSTRAINT IF EXISTS " + ident(c.name())));
            }
        }
        for (ColumnInfo o : before.columns()) {
            ColumnInfo c = now.get(o.attnum());
            if (c != null && !c.name().equals(o.name())) {
                all.add(Ddl.of("ALTER TABLE " + parent + " RENAME COLUMN " + ident(o.name()) + " TO " + ident(c.name())));
            }
        }
        for (ColumnInfo c : after.columns()) {
            ColumnInfo o = old.get(c.attnum());
            String col = "ALTER TABLE " + parent + " ALTER COLUMN " + ident(c.name());
            if (o == null) {
                if (filledFromSource(c)) {
                    // added bare, filled from the source, then given its default and NOT NULL: a node computing the
                    // default itself would give the existing rows other values (another sequence, another clock)
                    all.add(Ddl.of("ALTER TABLE " + parent + " ADD COLUMN IF NOT EXISTS " + ident(c.name()) + " " + c.type()
                            + c.collation().map(x -> " COLLATE " + x).orElse("")));
                    backfill.add(c.name());
                    Optional<String> dflt = c.isIdentity()
                            ? after.sequences().orElse(List.of()).stream().filter(q -> q.column().equals(c.name())).findFirst()
                                    .map(q -> "nextval(" + literal(q.id().quoted()) + "::regclass)")
                            : c.defaultExpr();
                    dflt.ifPresent(d -> afterBackfill.add(Ddl.of(col + " SET DEFAULT " + d)));
                    if (c.notNull()) {
                        afterBackfill.add(Ddl.of(setNotNull(parent, c.name())));
                    }
                } else {
                    all.add(Ddl.of("ALTER TABLE " + parent + " ADD COLUMN IF NOT EXISTS " + definition(c)));
                }
                continue;
            }
            if (!o.type().equals(c.type()) || !o.collation().equals(c.collation())) {
                // no USING: PostgreSQL refuses one on the foreign partitions a parent recurses to; the conversion is the
                // assignment cast, and a node that has none refuses the change, which then stops only this table
                all.add(Ddl.of(col + " TYPE " + c.type() + c.collation().map(x -> " COLLATE " + x).orElse("")));
            }
            if (!o.defaultExpr().equals(c.defaultExpr())) {
                all.add(Ddl.of(c.defaultExpr().map(d -> col + " SET DEFAULT " + d).orElse(col + " DROP DEFAULT")));
            }
            if (o.notNull() != c.notNull()) {
                all.add(Ddl.of(c.notNull() ? setNotNull(parent, c.name()) : col + " DROP NOT NULL"));
            }
        }
        for (ColumnInfo o : before.columns()) {
            if (!now.containsKey(o.attnum())) {
                all.add(Ddl.of("ALTER TABLE " + parent + " DROP COLUMN IF EXISTS " + ident(o.name())));
            }
        }
        for (CheckInfo c : after.checks()) {
            if (!c.equals(oldChecks.get(c.name()))) {
                all.add(Ddl.of(LayoutDdl.guarded(plan.id(), c.name(), "ALTER TABLE " + parent + " ADD CONSTRAINT "
                        + ident(c.name()) + " " + c.definition())));
            }
        }
        if (!backfill.isEmpty() && after.primaryKey().isEmpty()) {
            return refused(tag, "it adds the columns " + backfill + ", whose values the source gave each existing row itself"
                    + " (an identity, a serial or a default that is not a constant), and without a primary key the nodes' rows"
                    + " cannot be matched with the source's to be given them");
        }
        TablePlan next = reshaped(plan, after);
        Map<String, IndexInfo> oldIx = byName(before.indexes(), IndexInfo::name);
        Map<String, IndexInfo> newIx = byName(after.indexes(), IndexInfo::name);
        List<List<Ddl>> perNode = new ArrayList<>();
        List<io.shardlift.core.catalog.SequenceInfo> newSequences = next.source().sequences().stream()
                .filter(q -> plan.source().sequences().stream().noneMatch(had -> had.id().equals(q.id()))).toList();
        for (var q : newSequences) {
            afterBackfill.add(Ddl.of(LayoutDdl.ownedBy(q, plan.id())));
        }
        for (int node = 0; node < n; node++) {
            List<Ddl> mine = new ArrayList<>();
            for (var q : newSequences) {
                mine.add(Ddl.of(LayoutDdl.sequence(q, node, n)));
            }
            mine.addAll(all);
            for (int p : plan.partitionsOn(node, n)) {
                TableId local = plan.partition(p);
                String suffix = plan.sharded() ? "_" + p : "";
                for (IndexInfo ix : before.indexes()) {
                    if (!ix.equals(newIx.get(ix.name()))) {
                        mine.add(Ddl.of("DROP INDEX IF EXISTS " + new TableId(local.schema(), Names.withSuffix(ix.name(), suffix)).quoted()));
                    }
                }
                for (IndexInfo ix : after.indexes()) {
                    if (!ix.equals(oldIx.get(ix.name()))) {
                        mine.add(Ddl.of(LayoutDdl.index(next, local, ix, suffix)));
                    }
                }
            }
            if (!plan.sharded() && nodes != null && !before.columns().equals(after.columns())) {
                mine.addAll(new GlobalFanout(null, List.of(next), node, n, nodes).reshaped());
            }
            perNode.add(List.copyOf(mine));
        }
        return new Result(List.copyOf(perNode), next, Optional.empty(), List.copyOf(backfill), List.copyOf(afterBackfill));
    }

    /**
     * Whether the source gave the existing rows of an added column values of its own: an identity or serial draws a
     * value per row, a volatile default is computed per row in a rewrite, and even a stable one (now()) was computed at
     * the source's moment; none of it is in the change stream. A constant default is the same on every node.
     */
    static boolean filledFromSource(ColumnInfo c) {
        if (c.isGenerated()) {
            return false;
        }
        return c.isIdentity() || c.defaultExpr().map(d -> !CONSTANT.matcher(d.trim()).matches()).orElse(false);
    }

    /** A literal, optionally cast ({@code 0}, {@code 'x'::text}, {@code '{}'::integer[]}, {@code NULL::date}). */
    private static final java.util.regex.Pattern CONSTANT = java.util.regex.Pattern.compile(
            "\\(?('(?:[^']|'')*'|-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?|true|false|NULL)\\)?"
                    + "(::[A-Za-z_\"][\\w \".\\[\\]()]*)*", java.util.regex.Pattern.CASE_INSENSITIVE);

    /**
     * SET NOT NULL on {@code parent}'s {@code column}, unless the node's own rows hold a NULL in it. The source checked its
     * rows, so a NULL on a node can only be the copy's: it writes NULL for a column dropped on the source after the
     * migration began (the snapshot's values are no longer readable), and the node drops that column too further down the
     * stream; a NOT NULL set on the source before that drop would otherwise stop the table. A node reads only its local
     * tables, never through postgres_fdw (the other nodes are changing their partitions in their own transactions).
     */
    static String setNotNull(String parent, String column) {
        // a global table is its own local table; a sharded parent's local tables are its plain partitions
        return "DO $$ DECLARE r regclass; has_null boolean := false; BEGIN"
                + " FOR r IN SELECT c.oid FROM pg_catalog.pg_class c WHERE c.relkind = 'r' AND (c.oid = " + literal(parent) + "::regclass"
                + " OR c.oid IN (SELECT t.relid FROM pg_catalog.pg_partition_tree(" + literal(parent) + ") t)) LOOP"
                + " EXECUTE pg_catalog.format('SELECT EXISTS (SELECT 1 FROM %s WHERE %I IS NULL)', r, " + literal(column) + ")"
                + " INTO has_null; EXIT WHEN has_null; END LOOP;"
                + " IF NOT has_null THEN ALTER TABLE " + parent + " ALTER COLUMN " + ident(column) + " SET NOT NULL; END IF; END $$";
    }

    /** {@code plan} with the table's shape {@code shape}; its layout (kind, key, partitions, keys) is the same. */
    public static TablePlan reshaped(TablePlan plan, TableShape shape) {
        // the foreign keys are created at the cutover from the plan: one added during the migration is created too, one
        // dropped is not (a key that cannot be carried was refused when it was added)
        return new TablePlan(plan.id(), plan.kind(), shape.applyTo(plan.source()), plan.keyColumns(), plan.keyTypes(),
                plan.partitions(), plan.colocationRoot(), plan.primaryKey(), plan.uniques(),
                shape.foreignKeys().orElse(plan.foreignKeys()), plan.priority());
    }

    /**
     * Why a foreign key of {@code child} cannot be created on the nodes, as the planner judges the source's keys: it
     * must reference a table of the migration, and a sharded one only from a table colocated with it on the key the
     * foreign key maps (a global table cannot reference rows that live on one node).
     */
    static Optional<String> foreignKeyNotCarried(TablePlan child, ForeignKeyInfo fk, Optional<TablePlan> referenced) {
        if (referenced.isEmpty()) {
            return Optional.of("it adds the foreign key " + fk.describe() + ", which references a table that is not in the"
                    + " migration");
        }
        TablePlan parent = referenced.get();
        if (!parent.sharded()) {
            return Optional.empty();
        }
        if (!child.sharded()) {
            return Optional.of("it adds the foreign key " + fk.describe() + " to a global table, which references the sharded"
                    + " table " + parent.id() + " (a full copy on every node cannot reference rows that live on one node)");
        }
        if (!fk.mapsShardingKey(parent.keyColumns(), child.keyColumns()) || !child.colocationRoot().equals(parent.colocationRoot())) {
            return Optional.of("it adds the foreign key " + fk.describe() + " between two sharded tables that are not colocated"
                    + " on that key (the referenced row may live on another node); the cluster cannot enforce it");
        }
        return Optional.empty();
    }

    private Result refused(String tag, String why) {
        String message = tag + " on " + plan.id() + " cannot be carried to the cluster: " + why + stopped(plan.id());
        if (DROPPED.equals(why)) {
            // there is no new definition to start over with: the table is gone
            message = message.replace("start the migration over with the table's new definition", "start the migration over"
                    + " without " + plan.id() + " (left out of the spec, or in a schema listed with all: true, gone)");
        }
        return new Result(List.of(), plan, Optional.of(message));
    }

    private static final String DROPPED = "the table was dropped on the source";

    /**
     * What a stopped table means and what to do, the end of every message that stops a table's stream. Reverting the
     * change on the source does not resume it (the stream does not skip a change it cannot carry: a new user tried), and
     * a migration cannot drop one of its tables: starting over is the way on.
     */
    public static String stopped(io.shardlift.core.TableId table) {
        return ". The stream of " + table + " stopped before any later change of it; the other tables go on, and the cutover"
                + " waits for " + table + ". Reverting the change on the source does not resume it: to go on, start the migration"
                + " over with the table's new definition (stop shardlift run, drop the replication slot on the source, empty the"
                + " nodes' databases and remove --data-dir, then shardlift plan, schema, run)";
    }

    private Optional<String> refusal(TableShape before, TableShape after) {
        if (after == null) {
            return Optional.of(DROPPED);
        }
        if (!after.name().equals(before.name())) {
            return Optional.of("the table is now " + after.name() + " (renamed or moved to another schema)");
        }
        if (after.relkind() != before.relkind() || !after.partitions().equals(before.partitions())) {
            return Optional.of("its partitioning on the source changed (partitions " + before.partitions() + " -> "
                    + after.partitions() + ")");
        }
        if (!keyColumns(before.primaryKey()).equals(keyColumns(after.primaryKey()))) {
            return Optional.of("its primary key changed from " + keyColumns(before.primaryKey()) + " to " + keyColumns(after.primaryKey()));
        }
        if (!names(before.uniques()).equals(names(after.uniques()))) {
            return Optional.of("its unique constraints changed (" + names(before.uniques()) + " -> " + names(after.uniques())
                    + "); unique constraints are not carried");
        }
        List<String> keys = new ArrayList<>(plan.keyColumns());
        before.primaryKey().ifPresent(k -> keys.addAll(k.columns()));
        Map<Integer, ColumnInfo> now = byAttnum(after.columns());
        for (ColumnInfo o : before.columns()) {
            ColumnInfo c = now.get(o.attnum());
            boolean key = keys.contains(o.name());
            String what = plan.keyColumns().contains(o.name()) ? "the sharding key column " : "the primary-key column ";
            if (c == null) {
                if (key) {
                    return Optional.of("it drops " + what + o.name());
                }
                continue;
            }
            if (key && !c.name().equals(o.name())) {
                return Optional.of("it renames " + what + o.name() + " to " + c.name());
            }
            if (key && (!c.type().equals(o.type()) || !c.collation().equals(o.collation()))) {
                return Optional.of("it changes the type of " + what + o.name() + " from " + o.type() + " to " + c.type()
                        + " (rows would hash to other partitions)");
            }
            if (!sameGeneration(o, c, before.columns(), now) || c.identity() != o.identity()) {
                return Optional.of("it changes the generation or identity of column " + c.name() + ", which is not carried");
            }
            if (after.typeByExpression() && !c.type().equals(o.type())) {
                return Optional.of("it changes the type of column " + c.name() + " from " + o.type() + " to " + c.type()
                        + " with a USING expression, which the nodes cannot run (PostgreSQL refuses USING on the foreign"
                        + " partitions of a parent) and which may give the existing rows other values than the nodes' assignment"
                        + " cast would; a change without USING, or with USING " + c.name() + "::" + c.type()
                        + " alone, is carried");
            }
        }
        List<ForeignKeyInfo> hadKeys = before.foreignKeys().orElse(plan.foreignKeys());
        for (ForeignKeyInfo fk : after.foreignKeys().orElse(List.of())) {
            Optional<TablePlan> referenced = fk.referenced().equals(plan.id()) ? Optional.of(plan) : tables.apply(fk.referenced());
            if (!hadKeys.contains(fk) && referenced != null) {
                Optional<String> why = foreignKeyNotCarried(plan, fk, referenced);
                if (why.isPresent()) {
                    return why;
                }
            }
        }
        for (CheckInfo c : after.checks()) {
            if (c.exclusion() && !before.checks().contains(c)) {
                return Optional.of("it adds the exclusion constraint " + c.name() + ", which is not carried");
            }
        }
        return Optional.empty();
    }

    /**
     * Whether {@code c} is generated as {@code o} was. A RENAME of a column the expression reads changes the expression's
     * text (PostgreSQL prints it with the new name), not the generation, and the nodes' own RENAME carries it along; so the
     * renamed columns' names are set aside on both sides before comparing (a real change of the expression, such as SET
     * EXPRESSION, still differs).
     */
    private static boolean sameGeneration(ColumnInfo o, ColumnInfo c, List<ColumnInfo> before, Map<Integer, ColumnInfo> now) {
        if (c.generatedExpr().equals(o.generatedExpr())) {
            return true;
        }
        if (o.generatedExpr().isEmpty() || c.generatedExpr().isEmpty()) {
            return false;
        }
        String was = o.generatedExpr().get();
        String is = c.generatedExpr().get();
        int i = 0;
        for (ColumnInfo b : before) {
            ColumnInfo a = now.get(b.attnum());
            if (a != null && !a.name().equals(b.name())) {
                String mark = "\u0000" + (i++) + "\u0000";
                was = withoutName(was, b.name(), mark);
                is = withoutName(is, a.name(), mark);
            }
        }
        return was.equals(is);
    }

    /** {@code expr} with the column {@code name}, bare or double-quoted as PostgreSQL prints it, replaced by {@code mark}. */
    private static String withoutName(String expr, String name, String mark) {
        String edge = "[\\w\"$'.]";
        String out = expr.replaceAll("(?<!" + edge + ")" + java.util.regex.Pattern.quote(ident(name)) + "(?!" + edge + ")",
                java.util.regex.Matcher.quoteReplacement(mark));
        return out.replaceAll("(?<!" + edge + ")" + java.util.regex.Pattern.quote(name) + "(?![\\w\"$'.(])",
                java.util.regex.Matcher.quoteReplacement(mark));
    }

    /** Enum types the new shape uses: created, or given the labels they lack, in order. */
    private static void enums(TableShape before, TableShape after, List<Ddl> out) {
        for (var e : after.enums().entrySet()) {
            List<String> had = before.enums().get(e.getKey());
            List<String> labels = e.getValue();
            if (labels.equals(had)) {
                continue;
            }
            if (had != null && !subsequence(had, labels)) {
                throw new IllegalArgumentException("the labels of enum type " + e.getKey() + " changed from " + had + " to "
                        + labels + " (renamed or reordered labels are not carried; added ones are)");
            }
            String[] parts = e.getKey().split("\\.", 2);
            String schemaLit = literal(unquote(parts[0]));
            String nameLit = literal(unquote(parts[1]));
            out.add(Ddl.of("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n"
                    + " ON n.oid = t.typnamespace WHERE n.nspname = " + schemaLit + " AND t.typname = " + nameLit + ") THEN"
                    + " CREATE TYPE " + e.getKey() + " AS ENUM (" + String.join(", ", labels.stream().map(l -> literal(l)).toList())
                    + "); END IF; END $$"));
            for (int i = 0; i < labels.size(); i++) {
                out.add(Ddl.of("ALTER TYPE " + e.getKey() + " ADD VALUE IF NOT EXISTS " + literal(labels.get(i))
                        + (i == 0 ? (labels.size() > 1 ? " BEFORE " + literal(labels.get(1)) : "") : " AFTER " + literal(labels.get(i - 1)))));
            }
        }
    }

    private static boolean subsequence(List<String> part, List<String> whole) {
        int i = 0;
        for (String w : whole) {
            if (i < part.size() && part.get(i).equals(w)) {
                i++;
            }
        }
        return i == part.size();
    }

    private static String unquote(String quoted) {
        return quoted.substring(1, quoted.length() - 1).replace("\"\"", "\"");
    }

    private static String definition(ColumnInfo c) {
        StringBuilder sb = new StringBuilder(ident(c.name())).append(' ').append(c.type());
        c.collation().ifPresent(x -> sb.append(" COLLATE ").append(x));
        if (c.isGenerated()) {
            sb.append(" GENERATED ALWAYS AS (").append(c.generatedExpr().get()).append(") STORED");
        } else {
            c.defaultExpr().ifPresent(d -> sb.append(" DEFAULT ").append(d));
        }
        if (c.notNull()) {
            sb.append(" NOT NULL");
        }
        return sb.toString();
    }

    private static List<String> keyColumns(Optional<KeyConstraint> k) {
        return k.map(KeyConstraint::columns).orElse(List.of());
    }

    private static List<String> names(List<KeyConstraint> keys) {
        return keys.stream().map(k -> k.name() + k.columns()).sorted().toList();
    }

    private static Map<Integer, ColumnInfo> byAttnum(List<ColumnInfo> cols) {
        Map<Integer, ColumnInfo> m = new LinkedHashMap<>();
        cols.forEach(c -> m.put(c.attnum(), c));
        return m;
    }

    private static <T> Map<String, T> byName(List<T> items, java.util.function.Function<T, String> name) {
        Map<String, T> m = new HashMap<>();
        items.forEach(i -> m.put(name.apply(i), i));
        return m;
    }
}
