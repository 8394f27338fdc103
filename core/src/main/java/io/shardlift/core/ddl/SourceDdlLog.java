package io.shardlift.core.ddl;

import io.shardlift.core.Sql;
import io.shardlift.core.TableId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * shardlift's DDL capture on the source. Logical replication carries no DDL, so an event trigger
 * ({@code ddl_command_end} and {@code sql_drop}) computes, after every DDL statement, the shape of each migrated table
 * the statement touched (columns, keys, checks, indexes, the enum types its columns use, its partitions: see
 * {@link TableShape}) and, when it differs from the shape last recorded ({@code shardlift.ddl_shape}, not published),
 * inserts the old and the new shape into {@code shardlift.ddl_log}, which is in the publication. That row is written
 * in the DDL's own transaction, after the catalog change and before any later change of the table in WAL order, so it
 * is decoded at its place between the table's data changes: before it every change has the old shape, after it the
 * new one. The capture sends it to every Kafka partition of the table's topic, and the applier applies it as a barrier
 * (see the applier's {@code DdlBarrier}).
 *
 * <p>Shapes rather than statement text: a statement's text may hold several statements, literals (row data) and names
 * that differ on the nodes; the difference between two shapes is exact and is translated to the layout
 * ({@code LayoutChange}). The row names the table as the migration knows it (a renamed table is refused, not followed).
 * The trigger's functions run as their owner (SECURITY DEFINER), so an application user's DDL needs no rights on
 * shardlift's tables; creating an event trigger needs a superuser.
 */
public final class SourceDdlLog {

    public static final String SCHEMA = "shardlift";
    public static final TableId LOG_TABLE = new TableId(SCHEMA, "ddl_log");
    static final String SHAPE_TABLE = "\"shardlift\".\"ddl_shape\"";
    static final String LOG = "\"shardlift\".\"ddl_log\"";
    public static final String TRIGGER_END = "shardlift_ddl";
    public static final String TRIGGER_DROP = "shardlift_ddl_drop";
    public static final String TRIGGER_CREATE = "shardlift_ddl_create";
    static final String SCHEMAS_TABLE = "\"shardlift\".\"ddl_schemas\"";
    static final String CREATED_TABLE = "\"shardlift\".\"ddl_created\"";
    static final String CREATED_TAGS = "('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO')";
    public static final String TRIGGER_REWRITE = "shardlift_ddl_rewrite";
    static final String COPYING = "\"shardlift\".\"ddl_copying\"";
    /** On each node: the record of the schema changes carried there (the applier's {@code DdlBarrier}). */
    public static final String NODE_APPLIED = "\"shardlift\".\"ddl_applied\"";

    private SourceDdlLog() {
    }

    /** The shape of one table as a jsonb value; every name schema-qualified (empty search_path). */
    static final String SHAPE_FUNCTION = """
            CREATE OR REPLACE FUNCTION "shardlift"."ddl_table_shape"(rel oid) RETURNS jsonb LANGUAGE sql STABLE
              SET search_path = '' AS $f$
            SELECT jsonb_build_object(
              'name', rel::regclass::text,
              'relkind', (SELECT c.relkind::text FROM pg_class c WHERE c.oid = rel),
              'columns', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'name', a.attname, 'attnum', a.attnum, 'type', format_type(a.atttypid, a.atttypmod),
                   'typname', coalesce(bt.typname, t.typname), 'typtype', t.typtype::text, 'typschema', tn.nspname,
                   'notnull', a.attnotnull, 'expr', pg_get_expr(d.adbin, d.adrelid), 'identity', a.attidentity::text,
                   'generated', a.attgenerated::text,
                   -- a partitioned table has no storage and so no missing value: its leaves say how they got the column
                   'hasmissing', CASE WHEN (SELECT c.relkind FROM pg_class c WHERE c.oid = rel) = 'p'
                                      THEN coalesce((SELECT bool_and(pa.atthasmissing) FROM pg_partition_tree(rel) pt
                                                       JOIN pg_attribute pa ON pa.attrelid = pt.relid AND pa.attname = a.attname
                                                      WHERE pt.isleaf), true)
                                      ELSE a.atthasmissing END,
                   'collation', CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
                                     THEN quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END,
                   'deterministic', coalesce(co.collisdeterministic, true),
                   'extension', (SELECT e.extname FROM pg_depend dep JOIN pg_extension e ON e.oid = dep.refobjid
                                  WHERE dep.classid = 'pg_type'::regclass AND dep.deptype = 'e'
                                    AND dep.objid = CASE WHEN t.typelem <> 0 AND t.typcategory = 'A' THEN t.typelem ELSE t.oid END
                                  LIMIT 1)) ORDER BY a.attnum), '[]'::jsonb)
                   FROM pg_attribute a
                   JOIN pg_type t ON t.oid = a.atttypid
                   JOIN pg_namespace tn ON tn.oid = t.typnamespace
                   LEFT JOIN pg_type bt ON bt.oid = t.typbasetype AND t.typtype = 'd'
                   LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                   LEFT JOIN pg_collation co ON co.oid = a.attcollation
                   LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
                  WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped),
              'constraints', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'name', con.conname, 'type', con.contype::text,
                   'columns', to_jsonb(ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
                                      JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord)),
                   'def', pg_get_constraintdef(con.oid), 'noinherit', con.connoinherit,
                   'deferrable', con.condeferrable) ORDER BY con.contype, con.conname), '[]'::jsonb)
                   FROM pg_constraint con WHERE con.conrelid = rel AND con.contype IN ('p', 'u', 'c', 'x')),
              'foreignKeys', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'name', con.conname,
                   'columns', to_jsonb(ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
                                      JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord)),
                   'refschema', rn.nspname, 'reftable', rc.relname,
                   'refcolumns', to_jsonb(ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
                                      JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord)),
                   'onupdate', con.confupdtype::text, 'ondelete', con.confdeltype::text, 'match', con.confmatchtype::text,
                   'deferrable', con.condeferrable, 'deferred', con.condeferred) ORDER BY con.conname), '[]'::jsonb)
                   FROM pg_constraint con JOIN pg_class rc ON rc.oid = con.confrelid JOIN pg_namespace rn ON rn.oid = rc.relnamespace
                  WHERE con.conrelid = rel AND con.contype = 'f' AND con.conparentid = 0),
              'indexes', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'name', ic.relname, 'def', pg_get_indexdef(i.indexrelid), 'unique', i.indisunique,
                   'columns', to_jsonb(ARRAY(SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
                                      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                                     WHERE k.ord <= i.indnkeyatts ORDER BY k.ord)),
                   'plain', (0 <> ALL (i.indkey::int2[])) AND i.indpred IS NULL AND i.indexprs IS NULL
                            AND i.indnkeyatts = i.indnatts) ORDER BY ic.relname), '[]'::jsonb)
                   FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
                  WHERE i.indrelid = rel
                    AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid)),
              'enums', (SELECT coalesce(jsonb_agg(jsonb_build_object('schema', n.nspname, 'name', t.typname,
                   'labels', to_jsonb(ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)))
                   ORDER BY n.nspname, t.typname), '[]'::jsonb)
                   FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                  WHERE t.typtype = 'e' AND t.oid IN (
                    SELECT CASE WHEN at.typelem <> 0 AND at.typcategory = 'A' THEN at.typelem ELSE at.oid END
                      FROM pg_attribute a JOIN pg_type at ON at.oid = a.atttypid
                     WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped)),
              'partitions', (SELECT coalesce(jsonb_agg(p.relid::regclass::text ORDER BY p.relid::regclass::text), '[]'::jsonb)
                   FROM pg_partition_tree(rel) p WHERE p.relid <> rel),
              -- the sequences its columns own (serial, identity): a column added with one needs it on the nodes too
              'sequences', (SELECT coalesce(jsonb_agg(jsonb_build_object('schema', sn.nspname, 'name', s.relname,
                   'column', a.attname, 'identity', d.deptype = 'i', 'type', format_type(q.seqtypid, NULL),
                   'start', q.seqstart, 'increment', q.seqincrement, 'min', q.seqmin, 'max', q.seqmax, 'cycle', q.seqcycle)
                   ORDER BY a.attnum, s.relname), '[]'::jsonb)
                   FROM pg_depend d
                   JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
                   JOIN pg_namespace sn ON sn.oid = s.relnamespace
                   JOIN pg_sequence q ON q.seqrelid = s.oid
                   JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid AND NOT a.attisdropped
                  WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.refobjid = rel
                    AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0))
            $f$""";

    /**
     * The event trigger's function. A dropped index or constraint is gone from the catalog when {@code sql_drop} fires,
     * so its table cannot be looked up: every migrated table of its schema is looked at, and only those whose shape
     * changed are logged.
     */
    static final String TRIGGER_FUNCTION = """
            CREATE OR REPLACE FUNCTION "shardlift"."ddl_capture"() RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER
              SET search_path = '' AS $f$
            DECLARE
              r record;
              s record;
              rels oid[] := '{}';
              now_shape jsonb;
              -- a type change's USING is not in the catalog: the statement's text says whether one other than a plain
              -- cast of a column was given (access methods' USING aside), which the nodes could not reproduce
              type_using jsonb := CASE WHEN tg_event = 'ddl_command_end'
                AND (SELECT count(*) FROM regexp_matches(current_query(), '\\musing\\M(?!\\s+(btree|hash|gist|gin|spgist|brin|heap)\\M)', 'gi'))
                  > (SELECT count(*) FROM regexp_matches(current_query(),
                       '\\musing\\s+("[^"]+"|\\w+)\\s*::\\s*("[^"]+"|[\\w."]+)(\\s*\\([0-9 ,]*\\))?(\\s*\\[\\])?\\s*(?=[,;]|$)', 'gi'))
                THEN '{"typeUsing": true}'::jsonb ELSE '{}'::jsonb END;
            BEGIN
              IF tg_event = 'sql_drop' THEN
                FOR r IN SELECT * FROM pg_catalog.pg_event_trigger_dropped_objects() LOOP
                  IF r.object_type IN ('table', 'foreign table') AND r.objsubid = 0 THEN
                    FOR s IN SELECT * FROM "shardlift"."ddl_shape" WHERE relid = r.objid LOOP
                      INSERT INTO "shardlift"."ddl_log" (table_schema, table_name, tag, old_shape, new_shape)
                      VALUES (s.table_schema, s.table_name, tg_tag, s.shape, NULL);
                      DELETE FROM "shardlift"."ddl_shape" WHERE relid = r.objid;
                    END LOOP;
                  ELSIF r.object_type IN ('table column') THEN
                    rels := rels || r.objid;
                  ELSIF r.object_type IN ('index', 'table constraint', 'type') THEN
                    rels := rels || ARRAY(SELECT relid FROM "shardlift"."ddl_shape" WHERE table_schema = r.schema_name);
                  END IF;
                END LOOP;
              ELSE
                FOR r IN SELECT * FROM pg_catalog.pg_event_trigger_ddl_commands() LOOP
                  IF r.object_type IN ('table', 'foreign table', 'table column', 'table constraint') THEN
                    rels := rels || r.objid;
                  ELSIF r.object_type = 'index' THEN
                    rels := rels || ARRAY(SELECT i.indrelid FROM pg_catalog.pg_index i WHERE i.indexrelid = r.objid);
                  ELSIF r.object_type = 'type' THEN
                    rels := rels || ARRAY(SELECT a.attrelid FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
                                           WHERE (t.oid = r.objid OR t.typelem = r.objid) AND NOT a.attisdropped);
                  END IF;
                END LOOP;
              END IF;
              FOR s IN SELECT * FROM "shardlift"."ddl_shape" WHERE relid = ANY (rels) ORDER BY relid LOOP
                now_shape := "shardlift"."ddl_table_shape"(s.relid);
                IF now_shape IS DISTINCT FROM s.shape THEN
                  INSERT INTO "shardlift"."ddl_log" (table_schema, table_name, tag, old_shape, new_shape)
                  VALUES (s.table_schema, s.table_name, tg_tag, s.shape, now_shape || type_using);
                  UPDATE "shardlift"."ddl_shape" SET shape = now_shape WHERE relid = s.relid;
                END IF;
              END LOOP;
            END $f$""";

    /**
     * The event trigger's function for tables created in a schema the spec migrates whole ({@code all: true}):
     * {@code shardlift.ddl_schemas} lists those schemas. Such a table is not carried (not laid out, copied or streamed:
     * the migration's plan, topics and publication are fixed when it starts), so it must not be left behind silently:
     * its creation goes to the log in commit order (the capture names it), and {@code shardlift.ddl_created} keeps its
     * oid, so the cutover refuses while it exists under whatever name ({@link #notCarried}). A new partition of a
     * migrated table is its table's change, not a new table.
     */
    static final String CREATED_FUNCTION = """
            CREATE OR REPLACE FUNCTION "shardlift"."ddl_created"() RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER
              SET search_path = '' AS $f$
            DECLARE
              r record;
            BEGIN
              FOR r IN SELECT DISTINCT c.oid, n.nspname, c.relname FROM pg_catalog.pg_event_trigger_ddl_commands() d
                         JOIN pg_catalog.pg_class c ON c.oid = d.objid
                         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                        WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = 0
                          AND c.relkind IN ('r', 'p') AND NOT c.relispartition
                          AND n.nspname IN (SELECT schema_name FROM "shardlift"."ddl_schemas")
                          AND NOT EXISTS (SELECT 1 FROM "shardlift"."ddl_shape" s WHERE s.relid = c.oid)
                          AND NOT EXISTS (SELECT 1 FROM "shardlift"."ddl_created" x WHERE x.relid = c.oid) LOOP
                INSERT INTO "shardlift"."ddl_created" (relid, table_schema, table_name, tag) VALUES (r.oid, r.nspname, r.relname, tg_tag);
                INSERT INTO "shardlift"."ddl_log" (table_schema, table_name, tag, old_shape, new_shape)
                VALUES (r.nspname, r.relname, tg_tag, NULL, "shardlift"."ddl_table_shape"(r.oid));
              END LOOP;
            END $f$""";

    /** A table created on the source during the migration in a schema migrated whole, which the migration does not carry. */
    public record Created(TableId table, String tag, boolean hasPrimaryKey) {

        /** What the operator reads, for a table whose schema makes unlisted tables global (the default). */
        public String message() {
            return message("as a global table");
        }

        /**
         * What the operator reads: what was seen, what it means for the cutover, what to do.
         *
         * @param takenOnAs how the take-on lays it out, e.g. {@code as a global table}
         */
        public String message(String takenOnAs) {
            return tag + " " + table + " during the migration (a new table in schema " + table.schema() + ", which the spec"
                    + " migrates with all: true) is not carried to the cluster yet: its rows are not migrated and the cutover is"
                    + " refused while it is not. The other tables go on streaming. "
                    + (hasPrimaryKey ? "`shardlift run` takes it on " + takenOnAs + " once the copy is done (laid out on every"
                    + " node, copied under a snapshot of its own, then streamed; the stream pauses for the seconds that takes)"
                    : "It has no primary key, so its changes cannot be streamed: give it one (ALTER TABLE " + table.quoted()
                    + " ADD PRIMARY KEY (...)) and `shardlift run` takes it on " + takenOnAs)
                    + ", or drop it on the source";
        }
    }

    /**
     * Each table's shape before the first change the source logged: the shape the nodes have for a table none of whose
     * changes was carried yet (the applier's restart, a copy resumed after a schema change). The log belongs to this stream
     * only once its slot exists (the slot's creation starts it afresh): before that it is an abandoned attempt's, whose
     * shapes are not this copy's (a new user's restart). Empty when there is no log.
     */
    public static java.util.Map<TableId, String> firstLoggedShapes(Connection source, String slot) throws SQLException {
        java.util.Map<TableId, String> out = new java.util.HashMap<>();
        try (PreparedStatement ps = source.prepareStatement("SELECT to_regclass('\"shardlift\".\"ddl_log\"') IS NOT NULL"
                + " AND EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = ?)")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    return out;
                }
            }
        }
        try (PreparedStatement ps = source.prepareStatement("SELECT DISTINCT ON (table_schema, table_name) table_schema, table_name,"
                + " old_shape::text FROM \"shardlift\".\"ddl_log\" ORDER BY table_schema, table_name, id");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                if (rs.getString(3) != null) {
                    out.put(new TableId(rs.getString(1), rs.getString(2)), rs.getString(3));
                }
            }
        }
        return out;
    }

    /**
     * The tables created during the migration in a schema migrated whole that still exist on the source, under their
     * current names; empty when the DDL capture is not installed.
     */
    public static java.util.List<Created> notCarried(Connection c) throws SQLException {
        return created(c, false);
    }

    /**
     * The tables created during the migration in a schema migrated whole that still exist on the source in such a
     * schema, under their current names, {@code carried} or not: a restart of {@code run} takes those with a primary key on (it plans from
     * the catalog, adds them to the publication and copies them under a snapshot of their own), which records their
     * shape, so they are carried from then on.
     */
    public static java.util.List<Created> created(Connection c, boolean alsoCarried) throws SQLException {
        java.util.List<Created> out = new java.util.ArrayList<>();
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT n.nspname, cl.relname, x.tag, EXISTS (SELECT 1 FROM pg_constraint k"
                     + " WHERE k.conrelid = cl.oid AND k.contype = 'p') FROM " + CREATED_TABLE + " x"
                     + " JOIN pg_class cl ON cl.oid = x.relid JOIN pg_namespace n ON n.oid = cl.relnamespace"
                     + " WHERE cl.relkind IN ('r', 'p') AND n.nspname IN (SELECT schema_name FROM " + SCHEMAS_TABLE + ")"
                     + (alsoCarried ? "" : " AND NOT EXISTS (SELECT 1 FROM " + SHAPE_TABLE + " s WHERE s.relid = x.relid)")
                     + " ORDER BY n.nspname, cl.relname")) {
            while (rs.next()) {
                out.add(new Created(new TableId(rs.getString(1), rs.getString(2)), rs.getString(3), rs.getBoolean(4)));
            }
        } catch (SQLException e) {
            if (!"42P01".equals(e.getSQLState())) {
                throw e;
            }
        }
        return out;
    }

    /**
     * As {@link #install(Connection, List, boolean)}, and records {@code wholeSchemas} (those listed with {@code all:
     * true}), in which a table created during the migration is logged as not carried ({@link #CREATED_FUNCTION}).
     */
    public static void install(Connection c, List<TableId> tables, boolean fresh, List<String> wholeSchemas) throws SQLException {
        install(c, tables, fresh);
        try (Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS " + SCHEMAS_TABLE + " (\"schema_name\" text PRIMARY KEY)");
            st.execute("CREATE TABLE IF NOT EXISTS " + CREATED_TABLE + " (\"relid\" oid PRIMARY KEY, \"table_schema\" text NOT NULL,"
                    + " \"table_name\" text NOT NULL, \"tag\" text NOT NULL, \"created_at\" timestamptz NOT NULL DEFAULT now())");
            st.execute(CREATED_FUNCTION);
            st.execute(CREATE_TRIGGER_SQL);
            st.execute("DELETE FROM " + SCHEMAS_TABLE);
            if (fresh) {
                st.execute("DELETE FROM " + CREATED_TABLE);
            }
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + SCHEMAS_TABLE + " VALUES (?)")) {
            for (String s : wholeSchemas) {
                ps.setString(1, s);
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /**
     * Refuses a rewrite of a table whose copy is not done. The copy reads under the slot's exported snapshot, and a
     * rewrite (ALTER COLUMN TYPE, a stored generated column, a volatile default) is not MVCC-safe: the rewritten table
     * looks empty to a snapshot taken before it, so the copy would silently miss every row. The table's copy removes its
     * row of {@code ddl_copying} when it is done; from then on a rewrite is carried like any other change.
     */
    static final String GUARD_FUNCTION = """
            CREATE OR REPLACE FUNCTION "shardlift"."ddl_guard_copy"() RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER
              SET search_path = '' AS $f$
            DECLARE
              t record;
            BEGIN
              FOR t IN SELECT c.table_schema, c.table_name FROM "shardlift"."ddl_copying" c
                        WHERE c.relid = pg_catalog.pg_event_trigger_table_rewrite_oid()
                           -- a partitioned table is rewritten leaf by leaf
                           OR c.relid IN (SELECT a.relid FROM pg_catalog.pg_partition_ancestors(pg_catalog.pg_event_trigger_table_rewrite_oid()) a)
              LOOP
                RAISE EXCEPTION '% would rewrite %.%, which shardlift is still copying to the cluster', tg_tag,
                    quote_ident(t.table_schema), quote_ident(t.table_name)
                  USING ERRCODE = 'object_in_use',
                        DETAIL = 'The copy reads the table as it was when the migration began; a rewritten table looks empty to it, so its rows would be missed.',
                        HINT = 'Run the statement again once the copy of this table is done (shardlift status shows the copy); it is then carried to every node.';
              END LOOP;
            END $f$""";

    /**
     * Creates the log, the shapes and the event triggers, and records the current shape of {@code tables}. With
     * {@code fresh} (no slot yet: a new migration) the shapes an earlier attempt left are replaced; otherwise they are
     * kept, since they are what the stream has carried so far. Idempotent.
     */
    public static void install(Connection c, List<TableId> tables, boolean fresh) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("CREATE SCHEMA IF NOT EXISTS \"shardlift\"");
            st.execute("CREATE TABLE IF NOT EXISTS " + LOG + " (\"id\" bigserial PRIMARY KEY, \"table_schema\" text NOT NULL,"
                    + " \"table_name\" text NOT NULL, \"tag\" text NOT NULL, \"old_shape\" jsonb, \"new_shape\" jsonb,"
                    + " \"logged_at\" timestamptz NOT NULL DEFAULT now())");
            st.execute("CREATE TABLE IF NOT EXISTS " + SHAPE_TABLE + " (\"relid\" oid PRIMARY KEY, \"table_schema\" text NOT NULL,"
                    + " \"table_name\" text NOT NULL, \"shape\" jsonb NOT NULL)");
            st.execute(SHAPE_FUNCTION);
            st.execute(TRIGGER_FUNCTION);
            st.execute(CAPTURE_TRIGGERS_SQL);
            st.execute("CREATE TABLE IF NOT EXISTS " + COPYING + " (\"relid\" oid PRIMARY KEY, \"table_schema\" text NOT NULL,"
                    + " \"table_name\" text NOT NULL)");
            st.execute(GUARD_FUNCTION);
            st.execute(REWRITE_TRIGGER_SQL);
            if (fresh) {
                st.execute("DELETE FROM " + SHAPE_TABLE);
                st.execute("DELETE FROM " + LOG);
            }
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + SHAPE_TABLE + " (relid, table_schema, table_name, shape)"
                + " SELECT r, ?, ?, \"shardlift\".\"ddl_table_shape\"(r) FROM (SELECT ?::regclass::oid AS r) x"
                + " ON CONFLICT (relid) DO NOTHING")) {
            for (TableId t : tables) {
                ps.setString(1, t.schema());
                ps.setString(2, t.name());
                ps.setString(3, t.quoted());
                ps.addBatch();
            }
            ps.executeBatch();
        }
        // every table until its copy says it is done (a restart's copy says so at once for the tables it has)
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + COPYING + " (relid, table_schema, table_name)"
                + " SELECT ?::regclass::oid, ?, ? ON CONFLICT (relid) DO NOTHING")) {
            for (TableId t : tables) {
                ps.setString(1, t.quoted());
                ps.setString(2, t.schema());
                ps.setString(3, t.name());
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    private static final String CAPTURE_TRIGGERS_SQL = "DROP EVENT TRIGGER IF EXISTS " + Sql.ident(TRIGGER_END) + ";\n"
            + "DROP EVENT TRIGGER IF EXISTS " + Sql.ident(TRIGGER_DROP) + ";\n"
            + "CREATE EVENT TRIGGER " + Sql.ident(TRIGGER_END) + " ON ddl_command_end EXECUTE FUNCTION \"shardlift\".\"ddl_capture\"();\n"
            + "CREATE EVENT TRIGGER " + Sql.ident(TRIGGER_DROP) + " ON sql_drop EXECUTE FUNCTION \"shardlift\".\"ddl_capture\"()";
    private static final String REWRITE_TRIGGER_SQL = "DROP EVENT TRIGGER IF EXISTS " + Sql.ident(TRIGGER_REWRITE) + ";\n"
            + "CREATE EVENT TRIGGER " + Sql.ident(TRIGGER_REWRITE) + " ON table_rewrite EXECUTE FUNCTION \"shardlift\".\"ddl_guard_copy\"()";
    private static final String CREATE_TRIGGER_SQL = "DROP EVENT TRIGGER IF EXISTS " + Sql.ident(TRIGGER_CREATE) + ";\n"
            + "CREATE EVENT TRIGGER " + Sql.ident(TRIGGER_CREATE) + " ON ddl_command_end WHEN TAG IN " + CREATED_TAGS
            + " EXECUTE FUNCTION \"shardlift\".\"ddl_created\"()";

    /**
     * Brings the DDL capture back when a rollback makes the source the database again (the cutover removed its event
     * triggers and their functions, {@link #removeSql()}): without it a schema change after the rollback would not be
     * logged, and the forward stream, started again, would stop at the table's first change in the new shape. Only what
     * {@link #removeSql()} removed comes back, in one round trip (it runs inside the rollback's freeze): the log is still
     * in the publication, the shapes recorded are those the stream carried (the rollback's verify found the nodes alike)
     * and stay, and every copy is long done, so the rewrite guard's list is emptied. In the caller's transaction.
     */
    public static void reinstall(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(TRIGGER_FUNCTION + ";\n" + CREATED_FUNCTION + ";\n" + GUARD_FUNCTION + ";\n" + CAPTURE_TRIGGERS_SQL + ";\n"
                    + CREATE_TRIGGER_SQL + ";\n" + REWRITE_TRIGGER_SQL + ";\nDELETE FROM " + COPYING);
        }
    }

    /** {@code table}'s copy is done: a rewrite of it is carried from now on. */
    public static void copied(Connection c, TableId table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + COPYING + " WHERE table_schema = ? AND table_name = ?")) {
            ps.setString(1, table.schema());
            ps.setString(2, table.name());
            ps.executeUpdate();
        }
    }

    /**
     * The statements that remove the event triggers and their function (the log stays, in the publication, until the
     * publication is dropped); idempotent, to run in the caller's transaction.
     */
    public static String removeSql() {
        return "DROP EVENT TRIGGER IF EXISTS " + Sql.ident(TRIGGER_END) + ";\n"
                + "DROP EVENT TRIGGER IF EXISTS " + Sql.ident(TRIGGER_DROP) + ";\n"
                + "DROP EVENT TRIGGER IF EXISTS " + Sql.ident(TRIGGER_CREATE) + ";\n"
                + "DROP EVENT TRIGGER IF EXISTS " + Sql.ident(TRIGGER_REWRITE) + ";\n"
                + "DROP FUNCTION IF EXISTS \"shardlift\".\"ddl_capture\"();\n"
                + "DROP FUNCTION IF EXISTS \"shardlift\".\"ddl_created\"();\n"
                + "DROP FUNCTION IF EXISTS \"shardlift\".\"ddl_guard_copy\"();\n";
    }

    /**
     * The statements that remove everything the DDL capture put on the source: {@link #removeSql()}, then the log (after
     * the publication is dropped, which it is part of), the shapes, the copy guard's list, the created tables' records
     * and the shape function. Idempotent.
     */
    public static String dropAllSql() {
        return removeSql()
                + "DROP FUNCTION IF EXISTS \"shardlift\".\"ddl_table_shape\"(oid);\n"
                + "DROP TABLE IF EXISTS " + LOG + ", " + SHAPE_TABLE + ", " + COPYING + ", " + SCHEMAS_TABLE + ", " + CREATED_TABLE + ";\n";
    }

    /** Whether anything of the DDL capture is on the source (a table or an event trigger of it). */
    public static boolean installed(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL OR to_regclass(?) IS NOT NULL"
                + " OR EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname IN (?, ?, ?, ?))")) {
            ps.setString(1, LOG);
            ps.setString(2, SHAPE_TABLE);
            ps.setString(3, TRIGGER_END);
            ps.setString(4, TRIGGER_DROP);
            ps.setString(5, TRIGGER_REWRITE);
            ps.setString(6, TRIGGER_CREATE);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /**
     * What keeps the DDL capture from being installed, read-only, for {@code plan} and the preflight: creating an event
     * trigger needs a superuser.
     */
    public static List<String> problems(Connection c) throws SQLException {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT rolsuper, current_user FROM pg_roles WHERE rolname = current_user")) {
            if (rs.next() && !rs.getBoolean(1)) {
                return List.of("replication.ddl is 'replicate' but the user " + rs.getString(2) + " is not a superuser, which"
                        + " CREATE EVENT TRIGGER needs (shardlift records each DDL statement on a migrated table with an event"
                        + " trigger) — connect as a superuser, or set replication.ddl: stop (a schema change then stops the stream)");
            }
        }
        return List.of();
    }
}
