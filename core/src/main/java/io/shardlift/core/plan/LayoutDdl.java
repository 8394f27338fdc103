package io.shardlift.core.plan;

import static io.shardlift.core.Sql.ident;
import static io.shardlift.core.Sql.idents;
import static io.shardlift.core.Sql.literal;

import io.shardlift.core.TableId;
import io.shardlift.core.catalog.CheckInfo;
import io.shardlift.core.catalog.ColumnInfo;
import io.shardlift.core.catalog.UserType;
import io.shardlift.core.catalog.ForeignKeyInfo;
import io.shardlift.core.catalog.IndexInfo;
import io.shardlift.core.catalog.KeyConstraint;
import io.shardlift.core.catalog.SequenceInfo;
import io.shardlift.core.ledger.LedgerSchema;
import io.shardlift.core.spec.ConnInfo;
import io.shardlift.core.spec.MigrationSpec;
import java.util.Map;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Renders the layout of DESIGN.md as idempotent DDL per node. Every statement can be re-run: CREATE ...
 * IF NOT EXISTS where PostgreSQL has it, a catalog-guarded DO block where it does not.
 */
final class LayoutDdl {

    /** The control schema every node carries; later stages add their own tables to it. */
    static final String CONTROL_SCHEMA = "shardlift";

    private final MigrationSpec spec;
    private final List<TablePlan> tables;
    private final List<UserType> types;
    private final List<SequenceInfo> sequences;
    private final int n;

    LayoutDdl(MigrationSpec spec, List<TablePlan> tables, List<UserType> types, List<SequenceInfo> sequences) {
        this.spec = spec;
        this.tables = tables;
        this.types = types;
        this.sequences = sequences;
        this.n = spec.nodes().size();
    }

    List<NodeLayout> nodes() {
        List<NodeLayout> out = new ArrayList<>();
        for (int node = 0; node < n; node++) {
            List<Ddl> t = tablesStage(node);
            Map<TableId, List<Ddl>> ix = indexStage(node);
            // the layout's shape only: a sequence's start follows the source's current value, which a live
            // source moves between two runs of the same migration
            String fingerprint = Names.sha256(t.stream().map(d -> d.display().replaceAll(" START WITH -?\\d+", ""))
                    .collect(Collectors.joining(";\n"))
                    + "\n--\n" + ix.values().stream().flatMap(List::stream).map(Ddl::display).collect(Collectors.joining(";\n")));
            // after the fingerprint: a node laid out before global tables fanned out takes the fan-out on the next
            // `schema` or `snapshot` instead of being refused as laid out for another plan
            t.addAll(new GlobalFanout(this, tables, node, n, spec.nodes()).ddl());
            out.add(new NodeLayout(node, spec.nodes().get(node), t, ix, foreignKeyStage(node, false),
                    foreignKeyStage(node, true), fingerprint));
        }
        return out;
    }

    // ---------------------------------------------------------------- stage 1: before the copy

    private List<Ddl> tablesStage(int node) {
        List<Ddl> out = new ArrayList<>();
        LedgerSchema.DDL.forEach(sql -> out.add(Ddl.of(sql)));
        boolean anySharded = tables.stream().anyMatch(TablePlan::sharded);
        if (anySharded && n > 1) {
            out.add(Ddl.of("CREATE EXTENSION IF NOT EXISTS \"postgres_fdw\""));
            // aggregates and joins of colocated partitions run on the node that holds them, as in Shardman
            out.add(Ddl.of("DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET enable_partitionwise_aggregate = on', current_database());"
                    + " EXECUTE format('ALTER DATABASE %I SET enable_partitionwise_join = on', current_database()); END $$"));
        }
        Set<String> extensions = new TreeSet<>();
        tables.forEach(t -> t.source().columns().forEach(c -> c.typeExtension().ifPresent(extensions::add)));
        extensions.forEach(e -> out.add(Ddl.of("CREATE EXTENSION IF NOT EXISTS " + ident(e))));

        Set<String> schemas = new TreeSet<>();
        tables.forEach(t -> schemas.add(t.id().schema()));
        sequences.forEach(s -> schemas.add(s.id().schema()));
        types.forEach(e -> schemas.add(e.schema()));
        schemas.forEach(s -> out.add(Ddl.of("CREATE SCHEMA IF NOT EXISTS " + ident(s))));

        for (UserType type : types) { // dependencies first
            out.add(Ddl.of(type.createSql()));
        }
        if (anySharded && n > 1) {
            for (int other = 0; other < n; other++) {
                if (other != node) {
                    out.addAll(server(other));
                }
            }
        }
        for (SequenceInfo s : sequences) {
            out.add(Ddl.of(sequence(s, node)));
        }
        if (tables.stream().anyMatch(TablePlan::sharded)) {
            out.add(Ddl.of(REFUSE_KEY_CHANGE_FUNCTION));
        }
        for (TablePlan t : tables) {
            if (t.sharded()) {
                out.add(Ddl.of("CREATE TABLE IF NOT EXISTS " + t.id().quoted() + " (\n" + columnsAndChecks(t)
                        + "\n) PARTITION BY HASH (" + idents(t.keyColumns()) + ")"));
                for (int p = 0; p < t.partitions(); p++) {
                    TableId part = t.partition(p);
                    String bound = " PARTITION OF " + t.id().quoted() + " FOR VALUES WITH (MODULUS " + t.partitions()
                            + ", REMAINDER " + p + ")";
                    int owner = TablePlan.nodeOf(p, n);
                    if (owner == node) {
                        out.add(Ddl.of("CREATE TABLE IF NOT EXISTS " + part.quoted() + bound));
                        out.add(Ddl.of(keyChangeTrigger(t, part)));
                    } else {
                        out.add(Ddl.of("CREATE FOREIGN TABLE IF NOT EXISTS " + part.quoted() + bound + " SERVER "
                                + ident(NodeLayout.serverName(owner)) + " OPTIONS (schema_name " + literal(part.schema())
                                + ", table_name " + literal(part.name()) + ")"));
                    }
                }
            } else {
                out.add(Ddl.of("CREATE TABLE IF NOT EXISTS " + t.id().quoted() + " (\n" + columnsAndChecks(t) + "\n)"));
            }
        }
        for (SequenceInfo s : sequences) {
            tables.stream().filter(t -> t.source().sequences().contains(s)).findFirst().ifPresent(t ->
                    out.add(Ddl.of(ownedBy(s, t.id()))));
        }
        return out;
    }

    /**
     * The sequence owned by its column, as on the source (dropping the column drops it). Only once the column is there:
     * a restart plans from the source's catalog, which may hold a column added as identity or serial that the change
     * stream has not carried to the nodes yet; its schema change creates it and then makes the sequence its own.
     */
    static String ownedBy(SequenceInfo s, TableId table) {
        return "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = " + literal(table.quoted())
                + "::regclass AND attname = " + literal(s.column()) + " AND NOT attisdropped) THEN ALTER SEQUENCE "
                + s.id().quoted() + " OWNED BY " + table.quoted() + "." + ident(s.column()) + "; END IF; END $$";
    }

    static final String KEY_CHANGE_TRIGGER = "shardlift_key_change";

    /**
     * An UPDATE that changes a row's sharding key would have to move the row to another partition, often on another
     * node; PostgreSQL cannot route a row out of a partition reached through postgres_fdw (the update fails with
     * "violates partition constraint" or "cannot route tuples into foreign table"), so it is refused plainly, with
     * what to do instead. The applier never needs it: a key change arrives as a delete and an insert.
     */
    private static final String REFUSE_KEY_CHANGE_FUNCTION = "CREATE OR REPLACE FUNCTION " + ident(CONTROL_SCHEMA)
            + ".\"refuse_key_change\"() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN"
            + " RAISE EXCEPTION 'the sharding key (%) of %.% cannot change on the sharded cluster', TG_ARGV[0], TG_TABLE_SCHEMA, TG_ARGV[1]"
            + " USING ERRCODE = 'feature_not_supported', HINT = 'the row would move to another partition: DELETE it and INSERT it"
            + " with the new key, in one transaction'; END $f$";

    /** On a local partition only: a trigger on the foreign ones would stop postgres_fdw from pushing UPDATEs down. */
    private static String keyChangeTrigger(TablePlan t, TableId partition) {
        String old = t.keyColumns().stream().map(k -> "OLD." + ident(k)).collect(Collectors.joining(", "));
        String neu = t.keyColumns().stream().map(k -> "NEW." + ident(k)).collect(Collectors.joining(", "));
        return "DO $$ BEGIN CREATE TRIGGER " + ident(KEY_CHANGE_TRIGGER) + " BEFORE UPDATE OF " + idents(t.keyColumns()) + " ON "
                + partition.quoted() + " FOR EACH ROW WHEN (ROW(" + old + ") IS DISTINCT FROM ROW(" + neu + ")) EXECUTE FUNCTION "
                + ident(CONTROL_SCHEMA) + ".\"refuse_key_change\"(" + literal(String.join(", ", t.keyColumns())) + ", "
                + literal(t.id().name()) + "); EXCEPTION WHEN duplicate_object THEN NULL; END $$";
    }

    private List<Ddl> server(int other) {
        // async: an Append over foreign partitions scans every node at once instead of one after another
        return server(NodeLayout.serverName(other), other, List.of("async_capable 'true'", "fetch_size '10000'", "batch_size '1000'"));
    }

    /** A postgres_fdw server reaching node {@code other}, and the user mapping for the user shardlift connects as. */
    List<Ddl> server(String name, int other, List<String> extraOptions) {
        ConnInfo c = spec.nodes().get(other);
        String server = ident(name);
        List<String> opts = new ArrayList<>();
        opts.add("host " + literal(c.host()));
        opts.add("port " + literal(String.valueOf(c.port())));
        opts.add("dbname " + literal(c.dbname()));
        c.params().entrySet().stream().filter(e -> FDW_SERVER_PARAMS.contains(e.getKey()))
                .forEach(e -> opts.add(e.getKey() + " " + literal(e.getValue())));
        opts.addAll(extraOptions);
        String user = "user " + literal(c.user());
        String sql = "CREATE USER MAPPING IF NOT EXISTS FOR CURRENT_USER SERVER " + server + " OPTIONS (" + user;
        String display = sql;
        if (c.password().isPresent()) {
            sql += ", password " + literal(c.password().get());
            display += ", password '******'";
        }
        return List.of(
                Ddl.of("CREATE SERVER IF NOT EXISTS " + server + " FOREIGN DATA WRAPPER \"postgres_fdw\" OPTIONS ("
                        + String.join(", ", opts) + ")"),
                new Ddl(sql + ")", display + ")"));
    }

    private static final Set<String> FDW_SERVER_PARAMS = Set.of("sslmode", "sslrootcert", "sslcert", "sslkey",
            "connect_timeout", "application_name", "keepalives", "keepalives_idle", "target_session_attrs");

    /**
     * Node k draws start + k, start + k + N, ... so no two nodes ever hand out the same value; cutover
     * moves every node's sequence past the source's last value.
     */
    private String sequence(SequenceInfo s, int node) {
        return sequence(s, node, n);
    }

    static String sequence(SequenceInfo s, int node, int n) {
        long step = Math.abs(s.increment()) * n;
        long increment = s.increment() < 0 ? -step : step;
        long base = s.lastValue().map(v -> v + s.increment()).orElse(s.start());
        long start = base + (long) node * s.increment();
        return "CREATE SEQUENCE IF NOT EXISTS " + s.id().quoted() + " AS " + s.dataType() + " INCREMENT BY " + increment
                + " MINVALUE " + s.min() + " MAXVALUE " + s.max() + " START WITH " + start + (s.cycle() ? " CYCLE" : " NO CYCLE");
    }

    private String columnsAndChecks(TablePlan t) {
        Map<String, SequenceInfo> identitySeq = t.source().sequences().stream().filter(SequenceInfo::identity)
                .collect(Collectors.toMap(SequenceInfo::column, s -> s, (a, b) -> a));
        List<String> parts = new ArrayList<>();
        for (ColumnInfo c : t.source().columns()) {
            StringBuilder sb = new StringBuilder("  ").append(ident(c.name())).append(' ').append(c.type());
            c.collation().ifPresent(coll -> sb.append(" COLLATE ").append(coll));
            if (c.notNull()) {
                sb.append(" NOT NULL");
            }
            if (c.isGenerated()) {
                sb.append(" GENERATED ALWAYS AS (").append(c.generatedExpr().get()).append(") STORED");
            } else if (c.isIdentity() && identitySeq.containsKey(c.name())) {
                sb.append(" DEFAULT nextval(").append(literal(identitySeq.get(c.name()).id().quoted())).append("::regclass)");
            } else {
                c.defaultExpr().ifPresent(d -> sb.append(" DEFAULT ").append(d));
            }
            parts.add(sb.toString());
        }
        for (CheckInfo check : t.source().checks()) {
            if (!check.exclusion()) {
                parts.add("  CONSTRAINT " + ident(check.name()) + " " + check.definition());
            }
        }
        return String.join(",\n", parts);
    }

    // ---------------------------------------------------------------- stage 2: after a table's data is in

    private Map<TableId, List<Ddl>> indexStage(int node) {
        Map<TableId, List<Ddl>> byTable = new java.util.LinkedHashMap<>();
        for (TablePlan t : tables) {
            List<Ddl> out = byTable.computeIfAbsent(t.id(), k -> new ArrayList<>());
            for (int p : t.partitionsOn(node, n)) {
                TableId table = t.partition(p);
                String suffix = t.sharded() ? "_" + p : "";
                if (t.primaryKey() != null) {
                    out.add(Ddl.of(keyConstraint(table, t.primaryKey(), suffix)));
                }
                for (KeyConstraint u : t.uniques()) {
                    if (u.kind() != KeyConstraint.Kind.UNIQUE_INDEX) {
                        out.add(Ddl.of(keyConstraint(table, u, suffix)));
                    }
                }
                for (IndexInfo ix : t.source().indexes()) {
                    out.add(Ddl.of(index(t, table, ix, suffix)));
                }
                for (CheckInfo x : t.source().checks()) {
                    if (x.exclusion()) {
                        out.add(Ddl.of(guarded(table, x.name() + suffix, "ALTER TABLE " + table.quoted() + " ADD CONSTRAINT "
                                + ident(Names.withSuffix(x.name(), suffix)) + " " + x.definition())));
                    }
                }
            }
        }
        return byTable;
    }

    private static String keyConstraint(TableId table, KeyConstraint k, String suffix) {
        String name = Names.withSuffix(k.name(), suffix);
        String body = (k.isPrimary() ? "PRIMARY KEY" : "UNIQUE" + (k.nullsNotDistinct() ? " NULLS NOT DISTINCT" : ""))
                + " (" + idents(k.columns()) + ")" + (k.deferrable() ? " DEFERRABLE" : "");
        return guarded(table, name, "ALTER TABLE " + table.quoted() + " ADD CONSTRAINT " + ident(name) + " " + body);
    }

    static String index(TablePlan t, TableId table, IndexInfo ix, String suffix) {
        String name = Names.withSuffix(ix.name(), suffix);
        String method = ix.method();
        if (ix.unique() && t.sharded()) {
            // a plain unique index on a sharded table: same treatment as a unique constraint
            List<String> cols = new ArrayList<>(ix.columns());
            t.keyColumns().stream().filter(k -> !cols.contains(k)).forEach(cols::add);
            method = "USING btree (" + idents(cols) + ")";
        }
        return "CREATE " + (ix.unique() ? "UNIQUE " : "") + "INDEX IF NOT EXISTS " + ident(name) + " ON " + table.quoted()
                + " " + method;
    }

    /** ALTER TABLE ... ADD CONSTRAINT, skipped when the table already has a constraint of that name. */
    static String guarded(TableId table, String constraint, String alter) {
        return "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conrelid = "
                + literal(table.quoted()) + "::regclass AND conname = " + literal(constraint) + ") THEN "
                + alter + "; END IF; END $$";
    }

    // ---------------------------------------------------------------- stage 3: at cutover

    private List<Ddl> foreignKeyStage(int node, boolean validate) {
        List<Ddl> out = new ArrayList<>();
        for (TablePlan child : tables) {
            for (ForeignKeyInfo fk : child.foreignKeys()) {
                TablePlan parent = tables.stream().filter(t -> t.id().equals(fk.referenced())).findFirst().orElseThrow();
                for (int p : child.partitionsOn(node, n)) {
                    TableId from = child.partition(p);
                    TableId to = parent.sharded() ? parent.partition(p) : parent.id();
                    String name = Names.withSuffix(fk.name(), child.sharded() ? "_" + p : "");
                    if (validate) {
                        out.add(Ddl.of("ALTER TABLE " + from.quoted() + " VALIDATE CONSTRAINT " + ident(name)));
                    } else {
                        out.add(Ddl.of(guarded(from, name, "ALTER TABLE " + from.quoted() + " ADD CONSTRAINT " + ident(name)
                                + " FOREIGN KEY (" + idents(fk.columns()) + ") REFERENCES " + to.quoted() + " ("
                                + idents(fk.referencedColumns()) + ")" + (fk.matchFull() ? " MATCH FULL" : "")
                                + " ON UPDATE " + fk.onUpdate() + " ON DELETE " + fk.onDelete()
                                + (fk.deferrable() ? " DEFERRABLE" + (fk.initiallyDeferred() ? " INITIALLY DEFERRED" : "") : "")
                                + " NOT VALID")));
                    }
                }
            }
        }
        return out;
    }
}
