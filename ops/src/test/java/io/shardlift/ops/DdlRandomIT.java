package io.shardlift.ops;

import static io.shardlift.core.Sql.ident;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardlift.core.ledger.Markers;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.plan.LayoutApplier;
import io.shardlift.core.spec.SpecLoader;
import io.shardlift.embedded.PgNode;
import io.shardlift.ops.cutover.CutoverReport;
import io.shardlift.ops.verify.Verifier;
import io.shardlift.ops.verify.VerifyOptions;
import io.shardlift.ops.verify.VerifyReport;
import io.shardlift.ops.workflow.Migration;
import io.shardlift.ops.workflow.Planning;
import io.shardlift.snapshotter.CopyProgress;
import io.shardlift.testkit.Datasets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every carried kind of schema change, on a sharded table ({@code items}) and a global one with TOASTed values
 * ({@code kinds}), in a random order drawn from a seed, at random moments: while the copy is held before the tables
 * (their copy not begun), while it runs, during the catch-up and while streaming, some between two changes of one row
 * (in one transaction or not), the second using the new shape. Writers insert, update and delete all the time, each
 * in the shape the schedule says the tables have now (a write a concurrent change makes fail is tried again, not
 * counted). A statement that rewrites a table is refused by the source's guard while that table's copy runs and is run
 * again once it is done. Afterwards source and cluster are equal row by row and in shape (columns, types, defaults,
 * NOT NULL, generation, CHECKs, indexes on every local partition, enum labels), and a real cutover is DONE, creates the
 * foreign keys added meanwhile and leaves a cluster that takes writes in the new shape.
 *
 * <p>The seed is printed; {@code -Dddl.seed=N} replays a schedule (the statements and their order; the moments they
 * meet depend on timing).
 */
class DdlRandomIT {

    static final String DB = "ddlrandom";
    static final String SCHEMAS = "    - name: public\n      tables:\n"
            + "        - {name: gate, type: global, priority: 9}\n"
            + "        - {name: kinds, type: global, priority: 2}\n"
            + "        - {name: items, type: sharded, distributedby: id, partitions: 4, priority: 2}\n"
            + "        - {name: lines, type: sharded, distributedby: item_id, colocatewith: items, priority: 1}\n";
    static final int ITEMS = 30_000;
    static final int KINDS = 300;
    /** Items 1..REFERENCED have lines (never deleted); kinds 1..50 are the ones items refer to (never deleted). */
    static final int REFERENCED = 5_000;
    static final int KIND_REFS = 50;
    /** Steps while the copy is held before the tables, then while it runs: no rewrites then. */
    static final int HELD = 8;
    static final int COPYING = 6;
    static final int RANDOM_STEPS = 24;
    /**
     * The rewrite tried while the copy is held: refused; run again as the last step of the copy phase, where the guard
     * refuses it again while the copy of items runs, so it runs once that is done.
     */
    static final String PROBE = "ALTER TABLE public.items ADD COLUMN probe bigint GENERATED ALWAYS AS (id * 3) STORED";
    static final String GUARD = "which shardlift is still copying";
    static SchemaFixture env;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        env = SchemaFixture.start("ddlrandom", DB,
                "CREATE TABLE public.gate (id int PRIMARY KEY)",
                "INSERT INTO public.gate SELECT generate_series(1, 10)",
                "CREATE TABLE public.kinds (k int PRIMARY KEY, name varchar(20), n int NOT NULL DEFAULT 0 CONSTRAINT kinds_n_check"
                        + " CHECK (n >= 0), doc text)",
                "CREATE INDEX kinds_name_idx ON public.kinds (name)",
                "ALTER TABLE public.kinds ALTER COLUMN doc SET STORAGE EXTERNAL",
                "INSERT INTO public.kinds SELECT g, 'k' || g, g, repeat(md5(g::text), 80) FROM generate_series(1, " + KINDS + ") g",
                "CREATE TABLE public.items (id bigint PRIMARY KEY, v int NOT NULL DEFAULT 0, note varchar(20),"
                        + " cnt int CONSTRAINT items_cnt_check CHECK (cnt >= 0), kind int)",
                "CREATE INDEX items_note_idx ON public.items (note)",
                "INSERT INTO public.items SELECT g, g % 7, 'n' || g, g % 100, g % " + KIND_REFS + " + 1 FROM generate_series(1, "
                        + ITEMS + ") g",
                "CREATE TABLE public.lines (item_id bigint, n int, qty int, PRIMARY KEY (item_id, n))",
                "INSERT INTO public.lines SELECT g % " + REFERENCED + " + 1, g / " + REFERENCED + ", g % 10 FROM generate_series(1, "
                        + 2 * REFERENCED + ") g");
    }

    @AfterAll
    static void stop() {
        if (env != null) {
            env.close();
        }
    }

    // ------------------------------------------------------------------------------------------------ the model

    enum Type {
        INT, BIGINT, VARCHAR, TEXT, ENUM;

        String sql() {
            return switch (this) {
                case INT -> "integer";
                case BIGINT -> "bigint";
                case VARCHAR -> "varchar(20)";
                case TEXT -> "text";
                case ENUM -> throw new IllegalStateException("an enum column names its type");
            };
        }

        boolean integral() {
            return this == INT || this == BIGINT;
        }
    }

    /** What a column is for: the writers' values and the statements it may get follow from it. */
    enum Role { KEY, CORE, PLAIN, KIND, DOC }

    /** A column as the schedule knows it; {@code genBase} is the column a stored generated column is computed from. */
    record Col(String name, Type type, boolean notNull, String dflt, String genBase, Role role, String enumType) {
        boolean writable() {
            return role != Role.KEY && genBase == null;
        }

        boolean generated() {
            return genBase != null;
        }

        Col named(String n) {
            return new Col(n, type, notNull, dflt, genBase, role, enumType);
        }

        Col typed(Type t) {
            return new Col(name, t, notNull, dflt, genBase, role, enumType);
        }

        Col notNull(boolean b) {
            return new Col(name, type, b, dflt, genBase, role, enumType);
        }

        Col dflt(String d) {
            return new Col(name, type, notNull, d, genBase, role, enumType);
        }

        Col base(String b) {
            return new Col(name, type, notNull, dflt, b, role, enumType);
        }

        String sqlType() {
            return type == Type.ENUM ? "public." + ident(enumType) : type.sql();
        }
    }

    /** A table's shape as the schedule made it; checks, indexes and foreign keys map their name to their column. */
    static final class TableModel {
        final String name;
        final String key;
        final List<Col> cols = new ArrayList<>();
        final Map<String, String> checks = new TreeMap<>();
        final Map<String, String> indexes = new TreeMap<>();
        final Map<String, String> fks = new TreeMap<>();

        TableModel(String name, String key) {
            this.name = name;
            this.key = key;
        }

        TableModel copy() {
            TableModel t = new TableModel(name, key);
            t.cols.addAll(cols);
            t.checks.putAll(checks);
            t.indexes.putAll(indexes);
            t.fks.putAll(fks);
            return t;
        }

        String quoted() {
            return "public." + ident(name);
        }

        Col col(String n) {
            return cols.stream().filter(c -> c.name().equals(n)).findFirst().orElseThrow();
        }

        void replace(String n, Col c) {
            cols.set(cols.indexOf(col(n)), c);
        }

        List<Col> where(Predicate<Col> p) {
            return cols.stream().filter(p).toList();
        }

        boolean isBase(String n) {
            return cols.stream().anyMatch(c -> n.equals(c.genBase()));
        }
    }

    /** The shape of every table and the labels of the enum types the schedule created; immutable once published. */
    static final class Model {
        final Map<String, TableModel> tables = new LinkedHashMap<>();
        final Map<String, List<String>> enums = new TreeMap<>();

        Model copy() {
            Model m = new Model();
            tables.forEach((k, v) -> m.tables.put(k, v.copy()));
            enums.forEach((k, v) -> m.enums.put(k, List.copyOf(v)));
            return m;
        }

        TableModel t(String name) {
            return tables.get(name);
        }

        static Model initial() {
            Model m = new Model();
            TableModel items = new TableModel("items", "id");
            items.cols.addAll(List.of(new Col("id", Type.BIGINT, true, null, null, Role.KEY, null),
                    new Col("v", Type.INT, true, "0", null, Role.CORE, null),
                    new Col("note", Type.VARCHAR, false, null, null, Role.PLAIN, null),
                    new Col("cnt", Type.INT, false, null, null, Role.PLAIN, null),
                    new Col("kind", Type.INT, false, null, null, Role.KIND, null)));
            items.checks.put("items_cnt_check", "cnt");
            items.indexes.put("items_note_idx", "note");
            TableModel kinds = new TableModel("kinds", "k");
            kinds.checks.put("kinds_n_check", "n");
            kinds.indexes.put("kinds_name_idx", "name");
            kinds.cols.addAll(List.of(new Col("k", Type.INT, true, null, null, Role.KEY, null),
                    new Col("name", Type.VARCHAR, false, null, null, Role.PLAIN, null),
                    new Col("n", Type.INT, true, "0", null, Role.CORE, null),
                    new Col("doc", Type.TEXT, false, null, null, Role.DOC, null)));
            TableModel lines = new TableModel("lines", "item_id");
            lines.cols.addAll(List.of(new Col("item_id", Type.BIGINT, true, null, null, Role.KEY, null),
                    new Col("n", Type.INT, true, null, null, Role.KEY, null),
                    new Col("qty", Type.INT, false, null, null, Role.PLAIN, null)));
            m.tables.put("items", items);
            m.tables.put("kinds", kinds);
            m.tables.put("lines", lines);
            return m;
        }
    }

    /** A value of {@code c} in the shape {@code m}: new types get values only they hold, enums any of their labels. */
    static String value(Col c, Model m, Random r) {
        if (!c.notNull() && r.nextInt(8) == 0) {
            return "NULL";
        }
        if (c.role() == Role.KIND) {
            return Integer.toString(1 + r.nextInt(KIND_REFS));
        }
        if (c.role() == Role.DOC) {
            // mostly TOAST-sized: an update that leaves it alone arrives without it
            return r.nextInt(3) > 0 ? "repeat(md5('" + r.nextInt() + "'), 80)" : "'doc " + r.nextInt(1000) + "'";
        }
        return switch (c.type()) {
            case INT -> Integer.toString(r.nextInt(100_000));
            case BIGINT -> Long.toString(3_000_000_000L + r.nextInt(1_000_000));
            case VARCHAR -> "'w" + r.nextInt(1_000_000) + "'";
            case TEXT -> "'a text longer than twenty characters " + r.nextInt(1_000_000) + "'";
            case ENUM -> {
                List<String> labels = m.enums.get(c.enumType());
                yield "'" + labels.get(r.nextInt(labels.size())) + "'";
            }
        };
    }

    /** A value that keeps every NOT NULL, CHECK and foreign key of the schedule's. */
    static String fill(Col c, Model m) {
        if (c.role() == Role.KIND) {
            return "1";
        }
        return switch (c.type()) {
            case INT, BIGINT -> "0";
            case VARCHAR, TEXT -> "'filled'";
            case ENUM -> "'" + m.enums.get(c.enumType()).get(0) + "'";
        };
    }

    static String constant(Col c, Model m) {
        if (c.role() == Role.KIND) {
            return "1";
        }
        return switch (c.type()) {
            case INT -> "7";
            case BIGINT -> "5000000000";
            case VARCHAR -> "'dv'";
            case TEXT -> "'default text'";
            case ENUM -> "'" + m.enums.get(c.enumType()).get(0) + "'";
        };
    }

    static String update(TableModel t, Model m, Random r, long key, String focus, String focusValue) {
        List<Col> writable = t.where(Col::writable);
        List<String> sets = new ArrayList<>();
        Set<String> named = new LinkedHashSet<>();
        if (focus != null && t.cols.stream().anyMatch(c -> c.name().equals(focus) && c.writable())) {
            named.add(focus);
            sets.add(ident(focus) + " = " + (focusValue != null ? focusValue : value(t.col(focus).notNull(true), m, r)));
        }
        int more = focus == null ? 1 + r.nextInt(3) : r.nextInt(2);
        for (int i = 0; i < more; i++) {
            Col c = writable.get(r.nextInt(writable.size()));
            if (named.add(c.name())) {
                sets.add(ident(c.name()) + " = " + value(c, m, r));
            }
        }
        if (sets.isEmpty()) {
            Col c = writable.get(0);
            sets.add(ident(c.name()) + " = " + value(c, m, r));
        }
        return "UPDATE " + t.quoted() + " SET " + String.join(", ", sets) + " WHERE " + ident(t.key) + " = " + key;
    }

    static String insert(TableModel t, Model m, Random r, long key) {
        List<String> cols = new ArrayList<>(List.of(ident(t.key)));
        List<String> vals = new ArrayList<>(List.of(Long.toString(key)));
        for (Col c : t.where(Col::writable)) {
            if ((c.notNull() && c.dflt() == null) || r.nextBoolean()) {
                cols.add(ident(c.name()));
                vals.add(value(c, m, r));
            }
        }
        return "INSERT INTO " + t.quoted() + " (" + String.join(", ", cols) + ") VALUES (" + String.join(", ", vals) + ")";
    }

    // --------------------------------------------------------------------------------------------- the schedule

    enum Kind {
        ADD_COLUMN, ADD_COLUMN_DEFAULT, ADD_GENERATED, DROP_COLUMN, RENAME_COLUMN, TYPE_INT_BIGINT, TYPE_VARCHAR_TEXT,
        SET_DEFAULT, DROP_DEFAULT, SET_NOT_NULL, DROP_NOT_NULL, ADD_CHECK, DROP_CHECK, CREATE_INDEX,
        CREATE_INDEX_CONCURRENTLY, DROP_INDEX, ADD_ENUM_COLUMN, ENUM_ADD_VALUE, ADD_FOREIGN_KEY, DROP_FOREIGN_KEY, PROBE_AGAIN;

        /** Rewrites the table: refused by the source's guard while its copy runs. */
        boolean rewrites() {
            return this == ADD_GENERATED || this == TYPE_INT_BIGINT || this == PROBE_AGAIN;
        }

        /** Statements that are not one table's (or choose it themselves). */
        boolean ownTable() {
            return this == ADD_FOREIGN_KEY || this == DROP_FOREIGN_KEY || this == ENUM_ADD_VALUE || this == PROBE_AGAIN;
        }
    }

    /**
     * One step: its statements, the shape before it for the writers when it restricts them ({@code pre}), the shape after
     * it, and, when {@code before} is set, an update of one row before it and one of the same row after it ({@code after},
     * in the new shape), in one transaction with it when {@code tx}.
     */
    record Step(int index, Kind kind, String table, List<String> sql, boolean tx, Model pre, Model result, String before,
                String after, String cleanup) {
        String describe() {
            return "step " + index + " " + kind + " on " + table + ": " + String.join("; ", sql)
                    + (before == null ? "" : tx ? " (between two updates of one row, one transaction)" : " (between two updates of one row)");
        }
    }

    /** Draws the steps from the seed, with a model of the shapes each leaves; every kind on each table it applies to. */
    static final class Schedule {
        final Random r;
        Model m = Model.initial();
        int names;
        final List<Step> steps = new ArrayList<>();
        final Set<String> covered = new LinkedHashSet<>();

        Schedule(long seed) {
            this.r = new Random(seed);
        }

        static Set<String> wanted() {
            Set<String> out = new LinkedHashSet<>();
            for (Kind k : Kind.values()) {
                if (k == Kind.PROBE_AGAIN) {
                    continue;
                }
                if (k == Kind.ADD_FOREIGN_KEY || k == Kind.DROP_FOREIGN_KEY) {
                    out.add(k + " items");
                    out.add(k + " lines");
                } else if (k == Kind.ENUM_ADD_VALUE) {
                    out.add(k + " any");
                } else {
                    out.add(k + " items");
                    out.add(k + " kinds");
                }
            }
            return out;
        }

        List<Step> build() {
            for (int i = 0; i < RANDOM_STEPS; i++) {
                boolean early = steps.size() < HELD + COPYING - 1;
                if (steps.size() == HELD + COPYING - 1) {
                    Model w = m.copy();
                    w.t("items").cols.add(new Col("probe", Type.BIGINT, false, null, "id", Role.PLAIN, null));
                    add(Kind.PROBE_AGAIN, "items", List.of(PROBE), false, null, w, null, null, null);
                    continue;
                }
                boolean fresh = r.nextInt(10) < 6;
                for (int tries = 0; tries < 200; tries++) {
                    Kind k = Kind.values()[r.nextInt(Kind.values().length - 1)];
                    if (early && (k.rewrites() || k == Kind.CREATE_INDEX_CONCURRENTLY)) {
                        continue;
                    }
                    String table = r.nextInt(100) < 60 ? "items" : "kinds";
                    if (fresh && tries < 150 && !uncoveredFor(k)) {
                        continue;
                    }
                    if (make(k, table)) {
                        break;
                    }
                }
            }
            // what chance left out, in rounds, since one kind may need another first (DROP_INDEX after CREATE_INDEX)
            for (int round = 0; round < 4 && !covered.containsAll(wanted()); round++) {
                List<String> left = new ArrayList<>(wanted());
                Collections.shuffle(left, r);
                for (String w : left) {
                    if (!covered.contains(w)) {
                        String[] parts = w.split(" ");
                        Kind k = Kind.valueOf(parts[0]);
                        String table = parts[1].equals("any") ? "items" : parts[1];
                        if (!make(k, table)) {
                            // what the kind needs that chance did not leave: a column of the type it changes, a key column
                            switch (k) {
                                case TYPE_INT_BIGINT -> addColumn(table, Type.INT, Role.PLAIN);
                                case TYPE_VARCHAR_TEXT -> addColumn(table, Type.VARCHAR, Role.PLAIN);
                                case ADD_FOREIGN_KEY -> addColumn(table, Type.INT, Role.KIND);
                                case DROP_CHECK -> make(Kind.ADD_CHECK, table);
                                case DROP_INDEX -> make(Kind.CREATE_INDEX, table);
                                case DROP_FOREIGN_KEY -> {
                                    if (!make(Kind.ADD_FOREIGN_KEY, table)) {
                                        addColumn(table, Type.INT, Role.KIND);
                                        make(Kind.ADD_FOREIGN_KEY, table);
                                    }
                                }
                                case ENUM_ADD_VALUE -> make(Kind.ADD_ENUM_COLUMN, table);
                                default -> {
                                }
                            }
                            make(k, table);
                        }
                    }
                }
            }
            return steps;
        }

        private boolean uncoveredFor(Kind k) {
            return wanted().stream().anyMatch(w -> w.startsWith(k + " ") && !covered.contains(w));
        }

        private String name(String prefix) {
            return prefix + (++names);
        }

        /** Adds a step of kind {@code k} on {@code table} if it applies to the shapes now; false if it does not. */
        boolean make(Kind k, String table) {
            Model w = m.copy();
            TableModel t = w.t(table);
            String q = t.quoted();
            switch (k) {
                case ADD_COLUMN -> {
                    Type type = List.of(Type.INT, Type.BIGINT, Type.VARCHAR, Type.TEXT).get(r.nextInt(4));
                    String c = name("c");
                    t.cols.add(new Col(c, type, false, null, null, Role.PLAIN, null));
                    return add(k, table, List.of("ALTER TABLE " + q + " ADD COLUMN " + ident(c) + " " + type.sql()), w, c);
                }
                case ADD_COLUMN_DEFAULT -> {
                    Type type = List.of(Type.INT, Type.BIGINT, Type.VARCHAR, Type.TEXT).get(r.nextInt(4));
                    Col c = new Col(name("d"), type, r.nextInt(3) == 0, null, null, Role.PLAIN, null);
                    c = c.dflt(constant(c, w));
                    t.cols.add(c);
                    return add(k, table, List.of("ALTER TABLE " + q + " ADD COLUMN " + ident(c.name()) + " " + type.sql() + " DEFAULT "
                            + c.dflt() + (c.notNull() ? " NOT NULL" : "")), w, c.name());
                }
                case ADD_GENERATED -> {
                    List<Col> bases = t.where(c -> c.role() != Role.KEY && c.type().integral() && !c.generated());
                    if (bases.isEmpty()) {
                        return false;
                    }
                    Col base = bases.get(r.nextInt(bases.size()));
                    String c = name("g");
                    t.cols.add(new Col(c, Type.BIGINT, false, null, base.name(), Role.PLAIN, null));
                    return add(k, table, List.of("ALTER TABLE " + q + " ADD COLUMN " + ident(c) + " bigint GENERATED ALWAYS AS ("
                            + ident(base.name()) + " * 2) STORED"), w, base.name());
                }
                case DROP_COLUMN -> {
                    List<Col> can = t.where(c -> (c.role() == Role.PLAIN || c.role() == Role.KIND) && !t.isBase(c.name()));
                    if (can.isEmpty()) {
                        return false;
                    }
                    Col c = can.get(r.nextInt(can.size()));
                    t.cols.remove(c);
                    // PostgreSQL drops the column's own constraints and indexes with it
                    t.checks.values().removeIf(c.name()::equals);
                    t.indexes.values().removeIf(c.name()::equals);
                    t.fks.values().removeIf(c.name()::equals);
                    return add(k, table, List.of("ALTER TABLE " + q + " DROP COLUMN " + ident(c.name())), w, null);
                }
                case RENAME_COLUMN -> {
                    List<Col> can = t.where(c -> c.role() != Role.KEY);
                    Col c = can.get(r.nextInt(can.size()));
                    String to = name("r");
                    t.replace(c.name(), c.named(to));
                    t.cols.replaceAll(x -> c.name().equals(x.genBase()) ? x.base(to) : x);
                    t.checks.replaceAll((n, col) -> col.equals(c.name()) ? to : col);
                    t.indexes.replaceAll((n, col) -> col.equals(c.name()) ? to : col);
                    t.fks.replaceAll((n, col) -> col.equals(c.name()) ? to : col);
                    return add(k, table, List.of("ALTER TABLE " + q + " RENAME COLUMN " + ident(c.name()) + " TO " + ident(to)), w, to);
                }
                case TYPE_INT_BIGINT -> {
                    // PostgreSQL refuses to change the type of a column a generated one is computed from
                    List<Col> can = t.where(c -> c.role() != Role.KEY && c.type() == Type.INT && !c.generated() && !t.isBase(c.name()));
                    if (can.isEmpty()) {
                        return false;
                    }
                    Col c = can.get(r.nextInt(can.size()));
                    Col now = c.typed(Type.BIGINT);
                    // a default is kept as the source shows it: an int literal
                    t.replace(c.name(), now);
                    return add(k, table, List.of("ALTER TABLE " + q + " ALTER COLUMN " + ident(c.name()) + " TYPE bigint"
                            + (r.nextBoolean() ? " USING " + ident(c.name()) + "::bigint" : "")), w, c.name());
                }
                case TYPE_VARCHAR_TEXT -> {
                    List<Col> can = t.where(c -> c.type() == Type.VARCHAR && !c.generated());
                    if (can.isEmpty()) {
                        return false;
                    }
                    Col c = can.get(r.nextInt(can.size()));
                    t.replace(c.name(), c.typed(Type.TEXT));
                    return add(k, table, List.of("ALTER TABLE " + q + " ALTER COLUMN " + ident(c.name()) + " TYPE text"), w, c.name());
                }
                case SET_DEFAULT -> {
                    List<Col> can = t.where(Col::writable);
                    Col c = can.get(r.nextInt(can.size()));
                    String d = constant(c, w);
                    t.replace(c.name(), c.dflt(d));
                    return add(k, table, List.of("ALTER TABLE " + q + " ALTER COLUMN " + ident(c.name()) + " SET DEFAULT " + d), w, null);
                }
                case DROP_DEFAULT -> {
                    List<Col> can = t.where(c -> c.writable() && c.dflt() != null);
                    if (can.isEmpty()) {
                        return false;
                    }
                    Col c = can.get(r.nextInt(can.size()));
                    t.replace(c.name(), c.dflt(null));
                    return add(k, table, List.of("ALTER TABLE " + q + " ALTER COLUMN " + ident(c.name()) + " DROP DEFAULT"), w, null);
                }
                case SET_NOT_NULL -> {
                    List<Col> can = t.where(c -> c.writable() && !c.notNull());
                    if (can.isEmpty()) {
                        return false;
                    }
                    Col c = can.get(r.nextInt(can.size()));
                    t.replace(c.name(), c.notNull(true));
                    // the writers stop writing NULL before it; the rows without a value get one in its transaction
                    return add(k, table, List.of("UPDATE " + q + " SET " + ident(c.name()) + " = " + fill(c, w) + " WHERE "
                                    + ident(c.name()) + " IS NULL",
                            "ALTER TABLE " + q + " ALTER COLUMN " + ident(c.name()) + " SET NOT NULL"), true, w, w, c.name());
                }
                case DROP_NOT_NULL -> {
                    List<Col> can = t.where(c -> c.writable() && c.notNull());
                    if (can.isEmpty()) {
                        return false;
                    }
                    Col c = can.get(r.nextInt(can.size()));
                    t.replace(c.name(), c.notNull(false));
                    return add(k, table, List.of("ALTER TABLE " + q + " ALTER COLUMN " + ident(c.name()) + " DROP NOT NULL"), w, null);
                }
                case ADD_CHECK -> {
                    List<Col> can = t.where(c -> c.role() != Role.KEY && c.type() != Type.ENUM);
                    Col c = can.get(r.nextInt(can.size()));
                    String ck = name("ck");
                    t.checks.put(ck, c.name());
                    String cond = c.type().integral() ? ident(c.name()) + " >= 0" : "char_length(" + ident(c.name()) + ") < 10000";
                    return add(k, table, List.of("ALTER TABLE " + q + " ADD CONSTRAINT " + ident(ck) + " CHECK (" + cond + ")"), w,
                            c.name());
                }
                case DROP_CHECK -> {
                    if (t.checks.isEmpty()) {
                        return false;
                    }
                    List<String> can = new ArrayList<>(t.checks.keySet());
                    String ck = can.get(r.nextInt(can.size()));
                    t.checks.remove(ck);
                    return add(k, table, List.of("ALTER TABLE " + q + " DROP CONSTRAINT " + ident(ck)), w, null);
                }
                case CREATE_INDEX, CREATE_INDEX_CONCURRENTLY -> {
                    List<Col> can = t.where(c -> c.role() != Role.KEY && c.role() != Role.DOC);
                    Col c = can.get(r.nextInt(can.size()));
                    String ix = name("ix");
                    t.indexes.put(ix, c.name());
                    boolean conc = k == Kind.CREATE_INDEX_CONCURRENTLY;
                    String sql = "CREATE INDEX " + (conc ? "CONCURRENTLY " : "") + ident(ix) + " ON " + q + " (" + ident(c.name()) + ")";
                    // a CONCURRENTLY build that fails leaves an invalid index behind
                    return add(k, table, List.of(sql), false, null, w, c.name(), null,
                            conc ? "DROP INDEX IF EXISTS public." + ident(ix) : null);
                }
                case DROP_INDEX -> {
                    if (t.indexes.isEmpty()) {
                        return false;
                    }
                    List<String> can = new ArrayList<>(t.indexes.keySet());
                    String ix = can.get(r.nextInt(can.size()));
                    t.indexes.remove(ix);
                    return add(k, table, List.of("DROP INDEX public." + ident(ix)), w, null);
                }
                case ADD_ENUM_COLUMN -> {
                    String type = name("mood");
                    w.enums.put(type, List.of("a", "b"));
                    Col c = new Col(name("m"), Type.ENUM, false, null, null, Role.PLAIN, type);
                    if (r.nextBoolean()) {
                        c = c.dflt("'a'");
                    }
                    t.cols.add(c);
                    return add(k, table, List.of("CREATE TYPE public." + ident(type) + " AS ENUM ('a', 'b')",
                            "ALTER TABLE " + q + " ADD COLUMN " + ident(c.name()) + " public." + ident(type)
                                    + (c.dflt() != null ? " DEFAULT 'a'" : "")), true, null, w, c.name());
                }
                case ENUM_ADD_VALUE -> {
                    List<Col> can = new ArrayList<>();
                    List<String> tables = new ArrayList<>();
                    for (TableModel x : w.tables.values()) {
                        for (Col c : x.where(c -> c.type() == Type.ENUM)) {
                            can.add(c);
                            tables.add(x.name);
                        }
                    }
                    if (can.isEmpty()) {
                        return false;
                    }
                    int i = r.nextInt(can.size());
                    Col c = can.get(i);
                    List<String> labels = new ArrayList<>(w.enums.get(c.enumType()));
                    String label = "v" + (++names);
                    boolean first = r.nextInt(3) == 0;
                    labels.add(first ? 0 : labels.size(), label);
                    w.enums.put(c.enumType(), List.copyOf(labels));
                    String sql = "ALTER TYPE public." + ident(c.enumType()) + " ADD VALUE '" + label + "'"
                            + (first ? " BEFORE '" + labels.get(1) + "'" : "");
                    // the new label is usable only once its statement committed: never in one transaction with it
                    return add(k, tables.get(i), List.of(sql), false, null, w, c.name(), "'" + label + "'", null, false);
                }
                case ADD_FOREIGN_KEY -> {
                    boolean onItems = table.equals("kinds") ? r.nextBoolean() : table.equals("items");
                    TableModel child = w.t(onItems ? "items" : "lines");
                    Optional<Col> col = onItems ? child.cols.stream().filter(c -> c.role() == Role.KIND).findFirst()
                            : Optional.of(child.col("item_id"));
                    if (col.isEmpty() || !child.fks.isEmpty()) {
                        return false;
                    }
                    String fk = name("fk");
                    child.fks.put(fk, col.get().name());
                    String ref = onItems ? "public.kinds (k)" : "public.items (id)";
                    return add(k, child.name, List.of("ALTER TABLE " + child.quoted() + " ADD CONSTRAINT " + ident(fk) + " FOREIGN KEY ("
                            + ident(col.get().name()) + ") REFERENCES " + ref), w, onItems ? col.get().name() : null);
                }
                case DROP_FOREIGN_KEY -> {
                    List<String> has = w.tables.values().stream().filter(x -> !x.fks.isEmpty())
                            .filter(x -> table.equals("kinds") || x.name.equals(table)).map(x -> x.name).toList();
                    if (has.isEmpty()) {
                        return false;
                    }
                    TableModel child = w.t(has.get(r.nextInt(has.size())));
                    String fk = child.fks.keySet().iterator().next();
                    child.fks.remove(fk);
                    return add(k, child.name, List.of("ALTER TABLE " + child.quoted() + " DROP CONSTRAINT " + ident(fk)), w, null);
                }
                default -> throw new IllegalStateException(k.toString());
            }
        }

        private void addColumn(String table, Type type, Role role) {
            Model w = m.copy();
            String c = name("c");
            w.t(table).cols.add(new Col(c, type, false, null, null, role, null));
            add(Kind.ADD_COLUMN, table, List.of("ALTER TABLE " + w.t(table).quoted() + " ADD COLUMN " + ident(c) + " " + type.sql()), w, c);
        }

        private boolean add(Kind k, String table, List<String> sql, Model w, String focus) {
            return add(k, table, sql, false, null, w, focus, null, null, true);
        }

        private boolean add(Kind k, String table, List<String> sql, boolean multi, Model pre, Model w, String focus) {
            return add(k, table, sql, multi, pre, w, focus, null, null, true);
        }

        private boolean add(Kind k, String table, List<String> sql, boolean multi, Model pre, Model w, String focus, String focusValue,
                            String cleanup) {
            return add(k, table, sql, multi, pre, w, focus, focusValue, cleanup, cleanup == null);
        }

        /**
         * Adds the step; about half the time between two updates of one row (the first in the old shape, the second in
         * the new one, naming {@code focus}), a third of those in one transaction with it when {@code txAllowed}.
         */
        private boolean add(Kind k, String table, List<String> sql, boolean multi, Model pre, Model w, String focus, String focusValue,
                            String cleanup, boolean txAllowed) {
            String before = null;
            String after = null;
            boolean tx = multi;
            TableModel t = w.t(table);
            if (!table.equals("lines") && r.nextBoolean()) {
                long key = 1 + r.nextInt(table.equals("items") ? REFERENCED : KIND_REFS);
                before = update(m.t(table), m, r, key, null, null);
                after = update(t, w, r, key, focus, focusValue);
                tx = multi || (txAllowed && r.nextInt(3) == 0);
            }
            steps.add(new Step(steps.size(), k, table, sql, tx, pre, w, before, after, cleanup));
            covered.add(k + " " + (k == Kind.ENUM_ADD_VALUE ? "any" : table));
            m = w;
            return true;
        }
    }

    // ---------------------------------------------------------------------------------------------- the writers

    /** Retried, not counted: what a schema change running at the same moment makes a write fail with. */
    static boolean concurrentChange(SQLException e) {
        String s = String.valueOf(e.getSQLState());
        return s.startsWith("42") || s.startsWith("22") || s.equals("23502") || s.equals("23514") || s.startsWith("40")
                || s.startsWith("55") || s.equals("57014") || s.equals("0A000") || s.equals("25P02");
    }

    /** Writers on the source, each writing in the shape {@code live} says the tables have now. */
    final class Writers implements AutoCloseable {
        final AtomicLong commits = new AtomicLong();
        final Map<String, AtomicLong> retried = new ConcurrentHashMap<>();
        final AtomicReference<Throwable> failed = new AtomicReference<>();
        final AtomicLong fenced = new AtomicLong();
        private final List<Thread> threads = new ArrayList<>();
        private final AtomicLong nextItem;
        private final AtomicLong nextKind;
        private volatile boolean running = true;

        Writers(int count, long seed, AtomicReference<Model> live, AtomicLong nextItem, AtomicLong nextKind) {
            this.nextItem = nextItem;
            this.nextKind = nextKind;
            for (int i = 0; i < count; i++) {
                Random r = new Random(seed * 31 + i);
                Thread th = new Thread(() -> loop(r, live), "ddl-random-writer-" + i);
                threads.add(th);
                th.start();
            }
        }

        private void loop(Random r, AtomicReference<Model> live) {
            Deque<Long> items = new ArrayDeque<>();
            Deque<Long> kinds = new ArrayDeque<>();
            try (Connection c = env.cluster.source().connect(DB); Statement st = c.createStatement()) {
                while (running) {
                    try {
                        write(st, live.get(), r, items, kinds);
                        commits.incrementAndGet();
                    } catch (SQLException e) {
                        if (String.valueOf(e.getMessage()).contains("moved to the sharded cluster")) {
                            fenced.incrementAndGet();
                            return;
                        }
                        if (!concurrentChange(e)) {
                            throw e;
                        }
                        retried.computeIfAbsent(e.getSQLState(), x -> new AtomicLong()).incrementAndGet();
                    }
                    Thread.sleep(3);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Throwable e) {
                failed.set(e);
            }
        }

        private void write(Statement st, Model m, Random r, Deque<Long> mine, Deque<Long> kinds) throws SQLException {
            TableModel items = m.t("items");
            TableModel k = m.t("kinds");
            int p = r.nextInt(100);
            if (p < 35) {
                long id = nextItem.incrementAndGet();
                st.executeUpdate(insert(items, m, r, id));
                mine.addLast(id);
                if (mine.size() > 100) {
                    mine.removeFirst();
                }
            } else if (p < 63) {
                long id = !mine.isEmpty() && r.nextInt(4) == 0 ? mine.peekLast() : 1 + r.nextInt(ITEMS);
                st.executeUpdate(update(items, m, r, id, null, null));
            } else if (p < 70) {
                long id = !mine.isEmpty() && r.nextBoolean() ? mine.removeFirst() : REFERENCED + 1 + r.nextInt(ITEMS - REFERENCED);
                st.executeUpdate("DELETE FROM public.items WHERE id = " + id);
            } else if (p < 85) {
                st.executeUpdate(update(k, m, r, 1 + r.nextInt(KINDS), null, null));
            } else if (p < 90) {
                if (!kinds.isEmpty() && r.nextInt(3) == 0) {
                    st.executeUpdate("DELETE FROM public.kinds WHERE k = " + kinds.removeFirst());
                } else {
                    long key = nextKind.incrementAndGet();
                    st.executeUpdate(insert(k, m, r, key));
                    kinds.addLast(key);
                }
            } else {
                long item = 1 + r.nextInt(REFERENCED);
                int q = r.nextInt(3);
                if (q == 0) {
                    st.executeUpdate("UPDATE public.lines SET qty = " + r.nextInt(100) + " WHERE item_id = " + item + " AND n < 3");
                } else if (q == 1) {
                    st.executeUpdate("INSERT INTO public.lines (item_id, n, qty) VALUES (" + item + ", " + (100 + r.nextInt(50)) + ", 1)"
                            + " ON CONFLICT DO NOTHING");
                } else {
                    st.executeUpdate("DELETE FROM public.lines WHERE item_id = " + item + " AND n >= 100");
                }
            }
        }

        /** Waits until the cutover's fence stopped every writer. */
        void awaitFenced() throws InterruptedException {
            for (Thread t : threads) {
                t.join(60_000);
            }
            assertThat(failed.get()).isNull();
            assertThat(fenced.get()).as("every writer was fenced").isEqualTo(threads.size());
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            for (Thread t : threads) {
                t.join(30_000);
            }
        }

        String summary() {
            return commits.get() + " writes, retried after a concurrent change " + new TreeMap<>(retried);
        }
    }

    // ------------------------------------------------------------------------------------------------- the test

    @Test
    void randomSchemaChangesAtRandomMomentsEndEqualAndCutOver() throws Exception {
        long seed = Long.getLong("ddl.seed", new Random().nextLong() & 0xffff_ffffL);
        System.out.println("DdlRandomIT seed " + seed + " (replay the schedule with -Dddl.seed=" + seed + ")");
        long t0 = System.nanoTime();
        List<Step> steps = new Schedule(seed).build();
        assertThat(new Schedule(seed).build().stream().map(Step::sql).toList()).as("a seed gives one schedule")
                .isEqualTo(steps.stream().map(Step::sql).toList());
        Set<String> covered = new LinkedHashSet<>();
        steps.forEach(s -> covered.add(s.kind() + " " + (s.kind() == Kind.ENUM_ADD_VALUE ? "any" : s.table())));
        assertThat(covered).as("the schedule holds every kind of statement").containsAll(Schedule.wanted());
        System.out.println("DdlRandomIT schedule of " + steps.size() + " steps:");
        steps.forEach(s -> System.out.println("  " + s.describe()));

        ClusterPlan plan = Planning.plan(new SpecLoader().load(env.spec(dir, SCHEMAS)));
        LayoutApplier.apply(plan, EnumSet.of(LayoutApplier.Stage.TABLES));
        AtomicReference<Model> live = new AtomicReference<>(Model.initial());
        AtomicLong nextItem = new AtomicLong(1_000_000);
        AtomicLong nextKind = new AtomicLong(10_000);
        Map<String, Integer> moments = new TreeMap<>();
        int refusals = 0;
        Random gaps = new Random(seed ^ 0x5eed);
        Migration m = null;
        List<Writers> writers = new ArrayList<>();
        Writers w = new Writers(2, seed, live, nextItem, nextKind);
        writers.add(w);
        try {
            try (Connection hold = env.cluster.nodes().get(0).connect(DB); Statement hs = hold.createStatement()) {
                // the copy is held at gate (copied first) by a lock on node 0's copy of it: the other tables wait to be copied
                hold.setAutoCommit(false);
                hs.execute("LOCK TABLE public.gate IN ACCESS EXCLUSIVE MODE");
                m = Migration.start(plan, new Migration.Options(2, 1_000, dir.resolve("data"), Optional.of("schema-it")),
                        new SimpleMeterRegistry());
                long deadline = System.nanoTime() + 120_000_000_000L;
                while (waiting(env.cluster.nodes().get(0)) == 0) {
                    assertThat(m.failure()).as(m.statusLine()).isEmpty();
                    assertThat(System.nanoTime()).as("the copy reaches public.gate: " + m.statusLine()).isLessThan(deadline);
                    Thread.sleep(100);
                }
                try (Connection c = env.cluster.source().connect(DB); Statement st = c.createStatement()) {
                    st.execute("SET lock_timeout = '20s'");
                    for (Step s : steps) {
                        if (s.index() == HELD) {
                            // a rewrite now would hide the rows from the copy's snapshot: the guard refuses it
                            assertThatThrownBy(() -> st.execute(PROBE)).hasMessageContaining(GUARD);
                            hold.commit();
                            // the next steps meet the copy of the tables while it runs
                            while (state(m, "items") == CopyProgress.State.WAITING && System.nanoTime() < deadline) {
                                Thread.sleep(5);
                            }
                            System.out.println("DdlRandomIT the copy goes on (" + m.statusLine() + ")");
                        }
                        Thread.sleep(s.index() < HELD + COPYING && s.index() >= HELD ? gaps.nextInt(40) : gaps.nextInt(150));
                        String moment = moment(m, s.table());
                        moments.merge(moment, 1, Integer::sum);
                        System.out.println("DdlRandomIT [" + moment + "] " + s.describe());
                        refusals += run(s, c, st, live, m);
                        assertThat(w.failed.get()).as(w.summary()).isNull();
                    }
                }
            }
            long scheduleDone = System.nanoTime();
            Thread.sleep(1_000);
            w.close();
            assertThat(w.failed.get()).as(w.summary()).isNull();
            System.out.println("DdlRandomIT writers: " + w.summary());
            try (Connection c = env.cluster.source().connect(DB)) {
                Markers.emit(c, "ddl-random");
            }
            awaitMarker(m, "ddl-random", 8, 300); // four tables, two Kafka partitions each
            long caughtUp = System.nanoTime();
            Model end = live.get();
            assertEqualEverywhere(end);
            ClusterPlan now = Planning.plan(new SpecLoader().load(env.spec(dir, SCHEMAS)));
            VerifyReport same = new Verifier(now, VerifyOptions.withJobs(2)).run();
            assertThat(same.equal()).as(same.toString()).isTrue();

            // a real cutover, writers running in the new shape until its fence stops them
            Writers again = new Writers(2, seed + 1, live, nextItem, nextKind);
            writers.add(again);
            Thread.sleep(1_000);
            long deadline = System.nanoTime() + 240_000_000_000L;
            while (!m.caughtUp()) {
                assertThat(m.failure()).as(m.statusLine()).isEmpty();
                assertThat(again.failed.get()).as(again.summary()).isNull();
                assertThat(System.nanoTime()).as(m.statusLine()).isLessThan(deadline);
                Thread.sleep(200);
            }
            CutoverReport done = SchemaFixture.cutOver(m);
            again.awaitFenced();
            System.out.println("DdlRandomIT cutover: " + done);
            System.out.println("DdlRandomIT writers during the cutover: " + again.summary());
            assertEqualEverywhere(end);
            assertForeignKeys(end);
            assertWritable(end);
            assertThat(m.failure()).as(m.statusLine()).isEmpty();
            long t1 = System.nanoTime();
            System.out.printf("DdlRandomIT seed %d: %d steps, moments %s, %d refused by the copy guard and run again after the copy;"
                            + " schedule %.1f s, caught up %.1f s later, total %.1f s%n", seed, steps.size(), moments, refusals,
                    (scheduleDone - t0) / 1e9, (caughtUp - scheduleDone) / 1e9, (t1 - t0) / 1e9);
        } finally {
            for (Writers x : writers) {
                x.close();
            }
            if (m != null) {
                m.close();
            }
        }
    }

    /**
     * Runs one step; a rewrite the guard refuses while its table's copy runs is run again until the copy is done, a lock
     * timeout or a race with a writer (a NULL written just before SET NOT NULL) again. Returns the guard's refusals.
     */
    private static int run(Step s, Connection c, Statement st, AtomicReference<Model> live, Migration m) throws Exception {
        if (s.pre() != null) {
            live.set(s.pre());
        }
        int refused = 0;
        long deadline = System.nanoTime() + 240_000_000_000L;
        for (int attempt = 1; ; attempt++) {
            try {
                if (s.tx()) {
                    c.setAutoCommit(false);
                }
                if (s.before() != null) {
                    st.execute(s.before());
                }
                for (String sql : s.sql()) {
                    st.execute(sql);
                }
                if (s.tx()) {
                    if (s.after() != null) {
                        st.execute(s.after());
                    }
                    c.commit();
                    c.setAutoCommit(true);
                    live.set(s.result());
                } else {
                    live.set(s.result());
                    if (s.after() != null) {
                        st.execute(s.after());
                    }
                }
                return refused;
            } catch (SQLException e) {
                if (s.tx()) {
                    c.rollback();
                    c.setAutoCommit(true);
                }
                if (s.cleanup() != null) {
                    st.execute(s.cleanup());
                }
                String msg = String.valueOf(e.getMessage());
                if (msg.contains(GUARD)) {
                    assertThat(s.kind().rewrites()).as("refused by the copy guard: " + s.describe() + ": " + msg).isTrue();
                    assertThat(System.nanoTime()).as("the copy of " + s.table() + " is done: " + m.statusLine()).isLessThan(deadline);
                    if (refused++ == 0) {
                        System.out.println("DdlRandomIT   refused while the copy of " + s.table() + " runs; again once it is done");
                    }
                    Thread.sleep(200);
                    continue;
                }
                boolean race = "55P03".equals(e.getSQLState()) || "40P01".equals(e.getSQLState()) || "23502".equals(e.getSQLState());
                assertThat(race && attempt < 30).as(s.describe() + " failed: " + e.getSQLState() + " " + msg).isTrue();
                System.out.println("DdlRandomIT   again after " + e.getSQLState() + " " + msg);
                Thread.sleep(100);
            }
        }
    }

    /** Where the table is when a step runs. */
    private static String moment(Migration m, String table) {
        CopyProgress.State state = state(m, table);
        if (state != CopyProgress.State.DONE) {
            return "copy " + state;
        }
        return m.caughtUp() ? "streaming" : "catch-up";
    }

    private static CopyProgress.State state(Migration m, String table) {
        return m.copyProgress().tables().stream().filter(t -> t.table().name().equals(table)).map(CopyProgress.TableView::state)
                .findFirst().orElseThrow();
    }

    private static long waiting(PgNode n) throws SQLException {
        try (Connection c = n.connect(DB); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_locks WHERE relation = 'public.gate'::regclass AND NOT granted")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static void awaitMarker(Migration m, String marker, int partitions, int seconds) throws Exception {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        long seen = 0;
        while (System.nanoTime() < deadline) {
            try (Connection c = env.cluster.nodes().get(0).connect(DB)) {
                seen = Markers.count(c, marker);
                if (seen >= partitions) {
                    return;
                }
            }
            assertThat(m.failure()).as(m.statusLine()).isEmpty();
            // a table stopped at a change it could not carry never gets there: no use waiting
            String error = m.applierStatus().lastError().orElse("");
            assertThat(error).as("a table stopped").doesNotContain("cannot be carried");
            Thread.sleep(300);
        }
        throw new AssertionError("marker reached " + seen + " of " + partitions + " partitions: " + m.statusLine() + " "
                + m.applierStatus().lastError().orElse(""));
    }

    // --------------------------------------------------------------------------------------------- the checks

    private static void assertEqualEverywhere(Model end) throws SQLException {
        assertRowsEqual("public.items", List.of("id"));
        assertRowsEqual("public.kinds", List.of("k"));
        assertRowsEqual("public.lines", List.of("item_id", "n"));
        assertRowsEqual("public.gate", List.of("id"));
        for (String t : List.of("items", "kinds", "lines")) {
            env.assertShapeEqual("public", t);
            assertIndexesEqual(t, !t.equals("kinds"));
        }
        // the model says what the source must look like: the schedule ran as drawn
        assertThat(columns(env.cluster.source(), "items")).isEqualTo(end.t("items").cols.stream().map(Col::name).toList());
        assertThat(columns(env.cluster.source(), "kinds")).isEqualTo(end.t("kinds").cols.stream().map(Col::name).toList());
        for (var e : end.enums.entrySet()) {
            boolean used = end.tables.values().stream().anyMatch(t -> t.cols.stream().anyMatch(c -> e.getKey().equals(c.enumType())));
            if (used) {
                String want = "{" + String.join(",", e.getValue()) + "}";
                assertThat(labels(env.cluster.source(), e.getKey())).isEqualTo(want);
                for (PgNode n : env.cluster.nodes()) {
                    assertThat(labels(n, e.getKey())).as("enum " + e.getKey() + " on " + n.name()).isEqualTo(want);
                }
            }
        }
    }

    /** Row by row through every node; a difference shows both rows. */
    private static void assertRowsEqual(String table, List<String> keys) throws SQLException {
        try (Connection src = env.cluster.source().connect(DB)) {
            for (PgNode n : env.cluster.nodes()) {
                try (Connection dst = n.connect(DB)) {
                    List<Datasets.RowDiff> diffs = Datasets.diffRows(src, dst, table, keys, 5);
                    StringBuilder shown = new StringBuilder();
                    for (var d : diffs) {
                        String where = String.join(" AND ", java.util.stream.IntStream.range(0, keys.size())
                                .mapToObj(i -> keys.get(i) + "::text = '" + d.key().get(i) + "'").toList());
                        shown.append("\n  ").append(d.kind()).append(' ').append(d.key()).append("\n    source ")
                                .append(rowJson(src, table, where)).append("\n    node   ").append(rowJson(dst, table, where));
                    }
                    assertThat(diffs).as(table + " via " + n.name() + shown).isEmpty();
                }
            }
        }
    }

    private static String rowJson(Connection c, String table, String where) throws SQLException {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT row_to_json(t)::text FROM " + table + " t WHERE " + where)) {
            return rs.next() ? rs.getString(1) : "(none)";
        }
    }

    private static List<String> columns(PgNode n, String table) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = n.connect(DB); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT attname FROM pg_attribute WHERE attrelid = 'public." + table + "'::regclass"
                     + " AND attnum > 0 AND NOT attisdropped ORDER BY attnum")) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    private static String labels(PgNode n, String type) throws SQLException {
        try (Connection c = n.connect(DB); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT enum_range(NULL::public." + ident(type) + ")::text")) {
            rs.next();
            return rs.getString(1);
        }
    }

    /**
     * The source table's indexes (those no constraint owns) are on every local partition of it on every node (a global
     * table's own copy), under the layout's names ({@code <index>_<partition>}), with the same definition.
     */
    private static void assertIndexesEqual(String table, boolean sharded) throws SQLException {
        List<String> want = indexes(env.cluster.source(), "public." + table, null);
        for (PgNode n : env.cluster.nodes()) {
            List<String> locals = new ArrayList<>();
            try (Connection c = n.connect(DB); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery(sharded
                         ? "SELECT c.oid::regclass::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                           + " WHERE i.inhparent = 'public." + table + "'::regclass AND c.relkind = 'r' ORDER BY 1"
                         : "SELECT 'public." + table + "'")) {
                while (rs.next()) {
                    locals.add(rs.getString(1));
                }
            }
            assertThat(locals).as(table + " has local partitions on " + n.name()).isNotEmpty();
            for (String local : locals) {
                String suffix = sharded ? local.substring(local.lastIndexOf('_')) : null;
                assertThat(indexes(n, local, suffix)).as("indexes of " + local + " on " + n.name()).isEqualTo(want);
            }
        }
    }

    private static List<String> indexes(PgNode n, String table, String suffix) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = n.connect(DB); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT ic.relname, pg_get_indexdef(i.indexrelid), i.indisvalid FROM pg_index i"
                     + " JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = '" + table + "'::regclass"
                     + " AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid) ORDER BY 1")) {
            while (rs.next()) {
                String name = rs.getString(1);
                if (suffix != null) {
                    assertThat(name).endsWith(suffix);
                    name = name.substring(0, name.length() - suffix.length());
                }
                String def = rs.getString(2);
                out.add(name + (def.startsWith("CREATE UNIQUE") ? " UNIQUE" : "") + def.substring(def.indexOf(" USING ")) + " valid="
                        + rs.getBoolean(3));
            }
        }
        Collections.sort(out);
        return out;
    }

    /** The cutover created the foreign keys the tables have now, on each local partition, and none dropped meanwhile. */
    private static void assertForeignKeys(Model end) throws SQLException {
        for (String table : List.of("items", "lines")) {
            Set<String> want = end.t(table).fks.keySet();
            for (PgNode n : env.cluster.nodes()) {
                Map<String, Set<String>> perLocal = new TreeMap<>();
                try (Connection c = n.connect(DB); Statement st = c.createStatement();
                     ResultSet rs = st.executeQuery("SELECT c.relname, coalesce(string_agg(k.conname, ',' ORDER BY k.conname), '')"
                             + " FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                             + " LEFT JOIN pg_constraint k ON k.conrelid = c.oid AND k.contype = 'f'"
                             + " WHERE i.inhparent = 'public." + table + "'::regclass AND c.relkind = 'r' GROUP BY 1")) {
                    while (rs.next()) {
                        String suffix = rs.getString(1).substring(rs.getString(1).lastIndexOf('_'));
                        Set<String> names = new TreeSet<>();
                        for (String k : rs.getString(2).split(",")) {
                            if (!k.isEmpty()) {
                                assertThat(k).endsWith(suffix);
                                names.add(k.substring(0, k.length() - suffix.length()));
                            }
                        }
                        perLocal.put(rs.getString(1), names);
                    }
                }
                assertThat(perLocal).as(table + " on " + n.name()).isNotEmpty();
                perLocal.forEach((local, names) -> assertThat(names).as("foreign keys of " + local + " on " + n.name()).isEqualTo(want));
            }
        }
    }

    /**
     * After the cutover the cluster is the database: a row of each table in the new shape through one node, seen through
     * the other, and a change of a row through the other.
     */
    private static void assertWritable(Model end) throws SQLException {
        Random r = new Random(7);
        PgNode n0 = env.cluster.nodes().get(0);
        PgNode n1 = env.cluster.nodes().get(1);
        TableModel items = end.t("items");
        TableModel kinds = end.t("kinds");
        try (Connection c = n0.connect(DB); Statement st = c.createStatement()) {
            st.executeUpdate(insertAll(items, end, r, 9_000_001));
            st.executeUpdate("INSERT INTO public.lines (item_id, n, qty) VALUES (9000001, 1, 1)");
        }
        try (Connection c = n1.connect(DB); Statement st = c.createStatement()) {
            st.executeUpdate(insertAll(kinds, end, r, 90_001));
            for (Col col : items.where(Col::writable)) {
                assertThat(st.executeUpdate("UPDATE public.items SET " + ident(col.name()) + " = " + value(col.notNull(true), end, r)
                        + " WHERE id = 9000001")).as("an update of " + col.name() + " through " + n1.name()).isEqualTo(1);
            }
        }
        for (String[] check : new String[][] {{"public.items", "id = 9000001"}, {"public.kinds", "k = 90001"},
                {"public.lines", "item_id = 9000001"}}) {
            try (Connection a = n0.connect(DB); Connection b = n1.connect(DB)) {
                String row = rowJson(a, check[0], check[1]);
                assertThat(row).as(check[0] + " on " + n0.name()).isNotEqualTo("(none)");
                assertThat(rowJson(b, check[0], check[1])).as(check[0] + " on " + n1.name()).isEqualTo(row);
            }
        }
        if (!items.fks.isEmpty()) {
            // the foreign key the migration carried holds on the cluster
            Col kind = items.cols.stream().filter(c -> c.role() == Role.KIND).findFirst().orElseThrow();
            try (Connection c = n0.connect(DB); Statement st = c.createStatement()) {
                assertThatThrownBy(() -> st.executeUpdate("UPDATE public.items SET " + ident(kind.name()) + " = 777777 WHERE id = 1"))
                        .isInstanceOf(SQLException.class).hasMessageContaining("foreign key");
            }
        }
    }

    private static String insertAll(TableModel t, Model m, Random r, long key) {
        List<String> cols = new ArrayList<>(List.of(ident(t.key)));
        List<String> vals = new ArrayList<>(List.of(Long.toString(key)));
        for (Col c : t.where(Col::writable)) {
            cols.add(ident(c.name()));
            vals.add(value(c.notNull(true), m, r));
        }
        return "INSERT INTO " + t.quoted() + " (" + String.join(", ", cols) + ") VALUES (" + String.join(", ", vals) + ")";
    }
}
