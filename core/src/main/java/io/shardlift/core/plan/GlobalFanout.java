package io.shardlift.core.plan;

import static io.shardlift.core.Sql.ident;
import static io.shardlift.core.Sql.idents;
import static io.shardlift.core.Sql.literal;

import io.shardlift.core.TableId;
import io.shardlift.core.catalog.ColumnInfo;
import io.shardlift.core.spec.ConnInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Keeps every node's copy of a global table identical whichever node a write goes through: triggers on each copy
 * forward each row change to the other nodes' copies through postgres_fdw, in the writing transaction, so a write
 * reaches every copy or none (up to postgres_fdw's one-phase commit: see the README).
 *
 * <p>Writes to global tables are serialised cluster-wide by one lock row that every node holds in
 * {@code shardlift.fanout_lock}. A writer locks that row on every node in node order (its own node's row locally,
 * the others through {@code shardlift_lock_<k>}) before its statement changes anything. Its own node's lock is held
 * until its local commit, which comes after its remote commits, so whoever takes every lock next finds every copy
 * with the previous write committed. The forwarded rows go through {@code shardlift_fanout_<k>}, another connection:
 * postgres_fdw runs a remote transaction as REPEATABLE READ, and the snapshot of a connection that waited for a lock
 * would predate the write it waited for. Both servers' sessions carry {@link #SETTING}, so the triggers on the other
 * copies do not forward again.
 *
 * <p>shardlift's own writers (the snapshot copy, the change applier) mark their node sessions the same way (or run as
 * {@code session_replication_role = replica}, where these triggers do not fire), so the copy and the change stream
 * before the cutover, and after a cutover that rolled back, are never applied twice.
 */
public final class GlobalFanout {

    /** Set to {@code on} in a node session whose writes to global tables are already the cluster's: no forwarding. */
    public static final String SETTING = "shardlift.fanout";

    /** Run on a node session of shardlift's own writers. */
    public static final String MARK_SESSION = "SET " + SETTING + " = 'on'";

    static final String SCHEMA = "shardlift_fanout";
    static final String LOCK_TABLE = "\"shardlift\".\"fanout_lock\"";
    /** How long a writer waits for the lock, or a forwarded change for a row lock, before it fails. */
    static final String LOCK_TIMEOUT = "10s";

    private static final String NOT_FANOUT = "current_setting(" + literal(SETTING) + ", true) IS DISTINCT FROM 'on'";
    private static final String BODY = "$shardlift$";
    /**
     * As shardlift's user: the application's roles need no user mappings for the fan-out servers nor rights on its
     * schemas; every name in the bodies is schema-qualified.
     */
    private static final String DEFINER = " SECURITY DEFINER SET search_path = pg_catalog, pg_temp";

    private final LayoutDdl layout;
    private final List<TablePlan> globals;
    private final int node;
    private final int n;
    private final List<ConnInfo> nodes;

    GlobalFanout(LayoutDdl layout, List<TablePlan> tables, int node, int n, List<ConnInfo> nodes) {
        this.layout = layout;
        this.globals = tables.stream().filter(t -> !t.sharded()).toList();
        this.node = node;
        this.n = n;
        this.nodes = nodes;
    }

    static String writeServer(int node) {
        return "shardlift_fanout_" + node;
    }

    static String lockServer(int node) {
        return "shardlift_lock_" + node;
    }

    /** The foreign table on this node through which a change reaches node {@code other}'s copy of {@code table}. */
    static TableId copyOn(TableId table, int other) {
        return new TableId(SCHEMA, Names.withSuffix(table.schema() + "." + table.name(), "@" + other));
    }

    /**
     * After a schema change of a global table carried during the migration: the foreign tables its rows are forwarded
     * through, and its row function, with the table's new columns (the lock, the servers and the triggers stay).
     */
    List<Ddl> reshaped() {
        List<Ddl> out = new ArrayList<>();
        if (globals.isEmpty() || n < 2) {
            return out;
        }
        for (int other = 0; other < n; other++) {
            if (other == node) {
                continue;
            }
            for (TablePlan t : globals) {
                out.add(Ddl.of("DROP FOREIGN TABLE IF EXISTS " + copyOn(t.id(), other).quoted()));
                out.add(Ddl.of(copyTable(t, other)));
            }
        }
        for (TablePlan t : globals) {
            out.add(Ddl.of(rowFunction(t)));
        }
        return out;
    }

    private String copyTable(TablePlan t, int other) {
        return "CREATE FOREIGN TABLE IF NOT EXISTS " + copyOn(t.id(), other).quoted() + " (\n"
                + columns(t).stream().map(c -> "  " + ident(c.name()) + " " + c.type()
                + c.collation().map(coll -> " COLLATE " + coll).orElse("")).collect(Collectors.joining(",\n"))
                + "\n) SERVER " + ident(writeServer(other)) + " OPTIONS (schema_name " + literal(t.id().schema())
                + ", table_name " + literal(t.id().name()) + ")";
    }

    List<Ddl> ddl() {
        List<Ddl> out = new ArrayList<>();
        if (globals.isEmpty() || n < 2) {
            return out;
        }
        out.add(Ddl.of("CREATE EXTENSION IF NOT EXISTS \"postgres_fdw\""));
        out.add(Ddl.of("CREATE SCHEMA IF NOT EXISTS " + ident(SCHEMA)));
        out.add(Ddl.of("CREATE TABLE IF NOT EXISTS " + LOCK_TABLE + " (\"name\" text PRIMARY KEY)"));
        out.add(Ddl.of("INSERT INTO " + LOCK_TABLE + " (\"name\") VALUES ('global') ON CONFLICT DO NOTHING"));
        // the remote sessions mark themselves, and bound their waits: PostgreSQL sees no deadlock across nodes
        String options = "options " + literal("-c " + SETTING + "=on -c lock_timeout=" + LOCK_TIMEOUT);
        for (int other = 0; other < n; other++) {
            if (other == node) {
                continue;
            }
            // parallel_commit: the remote commits of a write run side by side in the local pre-commit
            out.addAll(layout.server(writeServer(other), other, List.of(options, "parallel_commit 'true'")));
            out.addAll(layout.server(lockServer(other), other, List.of(options, "parallel_commit 'true'")));
            out.add(Ddl.of("CREATE FOREIGN TABLE IF NOT EXISTS " + lockOn(other) + " (\"name\" text) SERVER "
                    + ident(lockServer(other)) + " OPTIONS (schema_name 'shardlift', table_name 'fanout_lock')"));
            for (TablePlan t : globals) {
                out.add(Ddl.of(copyTable(t, other)));
            }
        }
        out.add(Ddl.of(lockFunction()));
        for (TablePlan t : globals) {
            out.add(Ddl.of(rowFunction(t)));
            out.add(Ddl.of(truncateFunction(t)));
            out.add(Ddl.of(trigger(t, "shardlift_fanout_lock", "BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE",
                    "FOR EACH STATEMENT", SCHEMA_Q + ".\"take_lock\"")));
            out.add(Ddl.of(trigger(t, "shardlift_fanout_row", "AFTER INSERT OR UPDATE OR DELETE", "FOR EACH ROW",
                    function("row", t))));
            out.add(Ddl.of(trigger(t, "shardlift_fanout_truncate", "AFTER TRUNCATE", "FOR EACH STATEMENT",
                    function("truncate", t))));
        }
        return out;
    }

    private static final String SCHEMA_Q = ident(SCHEMA);

    private static String lockOn(int other) {
        return SCHEMA_Q + "." + ident("lock@" + other);
    }

    /** Generated columns are computed on each copy from the others. */
    private static List<ColumnInfo> columns(TablePlan t) {
        return t.source().columns().stream().filter(c -> !c.isGenerated()).toList();
    }

    private static String function(String kind, TablePlan t) {
        return SCHEMA_Q + "." + ident(Names.withSuffix(kind + " " + t.id().schema() + "." + t.id().name(), ""));
    }

    /** Created once; a later run leaves an existing trigger alone (no lock on a table the application writes). */
    private static String trigger(TablePlan t, String name, String when, String level, String function) {
        return "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger WHERE tgrelid = " + literal(t.id().quoted())
                + "::regclass AND tgname = " + literal(name) + ") THEN CREATE TRIGGER " + ident(name) + " " + when + " ON "
                + t.id().quoted() + " " + level + " WHEN (" + NOT_FANOUT + ") EXECUTE FUNCTION " + function + "(); END IF; END $$";
    }

    private String labels() {
        List<String> l = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            l.add(literal("node " + k + " (" + nodes.get(k).label() + ")"));
        }
        return "ARRAY[" + String.join(", ", l) + "]";
    }

    /**
     * The statement trigger: the cluster-wide lock, once per transaction, before any row changes. A node that
     * cannot be reached fails the statement here, before anything was written anywhere.
     */
    private String lockFunction() {
        StringBuilder locks = new StringBuilder();
        for (int k = 0; k < n; k++) {
            locks.append("\n    at := ").append(k).append(";\n    PERFORM 1 FROM ")
                    .append(k == node ? LOCK_TABLE : lockOn(k)).append(" WHERE \"name\" = 'global' FOR UPDATE;");
        }
        String table = "TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME";
        return "CREATE OR REPLACE FUNCTION " + SCHEMA_Q + ".\"take_lock\"() RETURNS trigger LANGUAGE plpgsql" + DEFINER + " AS " + BODY + "\n"
                + "DECLARE\n  at int := -1;\n  saved text := current_setting('lock_timeout');\n  detail text;\n"
                + "  labels text[] := " + labels() + ";\n"
                + "BEGIN\n"
                + "  IF current_setting('shardlift.fanout_held', true) = 'on' THEN\n    RETURN NULL;\n  END IF;\n"
                // this session's own wait is bounded too: a wait across nodes is invisible to each node's deadlock check
                + "  PERFORM set_config('lock_timeout', " + literal(LOCK_TIMEOUT) + ", true);\n"
                + "  BEGIN" + locks + "\n"
                + "  EXCEPTION WHEN OTHERS THEN\n"
                + "    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;\n"
                + "    IF SQLSTATE = '55P03' THEN\n"
                + "      RAISE EXCEPTION 'global table %: % did not grant the cluster-wide write lock of global tables within "
                + LOCK_TIMEOUT + ": another transaction that writes a global table holds it (a long one, or two waiting on"
                + " each other across nodes)', " + table + ", labels[at + 1]\n"
                + "        USING ERRCODE = SQLSTATE, HINT = 'Nothing was written on any node. Retry; keep transactions that"
                + " write global tables short.';\n"
                + "    ELSIF SQLSTATE LIKE '08%' THEN\n"
                + "      RAISE EXCEPTION 'global table %: % cannot be reached (%): nothing was written on any node', " + table
                + ", labels[at + 1], SQLERRM || coalesce(': ' || detail, '')\n"
                + "        USING ERRCODE = SQLSTATE, HINT = 'A write to a global table changes the copy on every node, so it needs"
                + " every node up. Start ' || labels[at + 1] || ' again, then retry.';\n"
                + "    ELSE\n"
                + "      RAISE EXCEPTION 'global table %: taking the cluster-wide write lock on % failed: %', " + table
                + ", labels[at + 1], SQLERRM || coalesce(': ' || detail, '')\n"
                + "        USING ERRCODE = SQLSTATE, HINT = 'Nothing was written on any node.';\n"
                + "    END IF;\n"
                + "  END;\n"
                + "  PERFORM set_config('lock_timeout', saved, true);\n"
                // transaction-local: a rolled-back savepoint forgets it together with the locks it took
                + "  PERFORM set_config('shardlift.fanout_held', 'on', true);\n"
                + "  RETURN NULL;\n"
                + "END " + BODY;
    }

    private String rowFunction(TablePlan t) {
        List<String> cols = columns(t).stream().map(ColumnInfo::name).toList();
        String values = cols.stream().map(c -> "NEW." + ident(c)).collect(Collectors.joining(", "));
        String set = cols.stream().map(c -> ident(c) + " = NEW." + ident(c)).collect(Collectors.joining(", "));
        String where = t.primaryKey().columns().stream().map(c -> ident(c) + " = OLD." + ident(c))
                .collect(Collectors.joining(" AND "));
        StringBuilder ins = new StringBuilder();
        StringBuilder upd = new StringBuilder();
        StringBuilder del = new StringBuilder();
        for (int k = 0; k < n; k++) {
            if (k == node) {
                continue;
            }
            TableId copy = copyOn(t.id(), k);
            ins.append("\n    INSERT INTO ").append(copy.quoted()).append(" (").append(idents(cols)).append(") VALUES (")
                    .append(values).append(");");
            upd.append("\n    UPDATE ").append(copy.quoted()).append(" SET ").append(set).append(" WHERE ").append(where)
                    .append(";").append(checkOne(k));
            del.append("\n    DELETE FROM ").append(copy.quoted()).append(" WHERE ").append(where).append(";").append(checkOne(k));
        }
        return "CREATE OR REPLACE FUNCTION " + function("row", t) + "() RETURNS trigger LANGUAGE plpgsql" + DEFINER + " AS " + BODY + "\n"
                + "#variable_conflict use_column\n"
                + "DECLARE\n  shardlift_rows bigint;\n  shardlift_labels text[] := " + labels() + ";\n"
                + "BEGIN\n"
                + "  IF TG_OP = 'INSERT' THEN" + ins + "\n"
                + "  ELSIF TG_OP = 'UPDATE' THEN" + upd + "\n"
                + "  ELSE" + del + "\n"
                + "  END IF;\n"
                + "  RETURN NULL;\n"
                + "END " + BODY;
    }

    private String checkOne(int k) {
        return "\n    GET DIAGNOSTICS shardlift_rows = ROW_COUNT;\n    IF shardlift_rows <> 1 THEN\n"
                + "      RAISE EXCEPTION 'global table %.%: the copy on % holds % rows with the key of the changed row, 1"
                + " expected: the copies of this table differ', TG_TABLE_SCHEMA, TG_TABLE_NAME, shardlift_labels[" + (k + 1)
                + "], shardlift_rows\n"
                + "        USING ERRCODE = 'data_exception', HINT = 'Nothing was written on any node. `shardlift verify"
                + " --global-copies` lists the keys whose copies differ.';\n    END IF;";
    }

    /**
     * CASCADE, as the local TRUNCATE can only have succeeded without it when no table references this one; with it,
     * the other nodes' referencing tables go as the local ones went.
     */
    private String truncateFunction(TablePlan t) {
        List<String> copies = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            if (k != node) {
                copies.add(copyOn(t.id(), k).quoted());
            }
        }
        return "CREATE OR REPLACE FUNCTION " + function("truncate", t) + "() RETURNS trigger LANGUAGE plpgsql" + DEFINER + " AS " + BODY + "\n"
                + "BEGIN\n  TRUNCATE " + String.join(", ", copies) + " CASCADE;\n  RETURN NULL;\nEND " + BODY;
    }
}
