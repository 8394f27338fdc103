package io.shardlift.core.catalog;

import io.shardlift.core.TableId;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The source catalog for the tables being migrated, read in one repeatable-read transaction with an
 * empty search_path so that every type, default and expression comes back schema-qualified and can be
 * replayed verbatim on the nodes.
 *
 * <p>Its size (over 400 lines) is the catalog's: one query per kind of object (columns, keys, indexes, checks,
 * foreign keys, sequences, partitions, user types), each read in the same snapshot, which is why they stay in one
 * class holding that one transaction.
 */
public final class SourceCatalog {

    private final Map<TableId, TableInfo> tables;
    private final Map<String, List<TableId>> tablesBySchema;
    private final Map<TableId, TableId> partitionRoots;
    private final List<UserType> types;
    private final int serverVersionNum;

    private SourceCatalog(Map<TableId, TableInfo> tables, Map<String, List<TableId>> tablesBySchema,
                          Map<TableId, TableId> partitionRoots, List<UserType> types, int serverVersionNum) {
        this.tables = Map.copyOf(tables);
        this.tablesBySchema = Map.copyOf(tablesBySchema);
        this.partitionRoots = Map.copyOf(partitionRoots);
        this.types = List.copyOf(types);
        this.serverVersionNum = serverVersionNum;
    }

    /**
     * The partitioned table at the top of {@code partition}'s tree, when {@code partition} is a partition in one of the
     * schemas read: a partition is migrated as part of its root, never on its own.
     */
    public Optional<TableId> partitionRoot(TableId partition) {
        return Optional.ofNullable(partitionRoots.get(partition));
    }

    public Optional<TableInfo> table(TableId id) {
        return Optional.ofNullable(tables.get(id));
    }

    /** Ordinary and partitioned tables of {@code schema} (partitions themselves excluded), by name. */
    public List<TableId> tablesIn(String schema) {
        return tablesBySchema.getOrDefault(schema, List.of());
    }

    /**
     * User-defined types (enums, domains, composite and range types) the columns of the tables read use, directly or
     * through one another, dependencies first.
     */
    public List<UserType> types() {
        return types;
    }

    public int serverVersionNum() {
        return serverVersionNum;
    }

    /**
     * Reads every table of {@code schemas}. The connection's autocommit and transaction state are
     * restored on return.
     */
    public static SourceCatalog read(Connection c, Collection<String> schemas) throws SQLException {
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            try (Statement st = c.createStatement()) {
                st.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
                st.execute("SET LOCAL search_path = ''");
            }
            return new Reader(c, List.copyOf(new LinkedHashSet<>(schemas))).read();
        } finally {
            c.rollback();
            c.setAutoCommit(autoCommit);
        }
    }

    /** One read of the catalog; holds the per-relation rows while they are assembled. */
    private static final class Reader {
        private final Connection c;
        private final List<String> schemas;
        private final Map<Long, TableId> ids = new LinkedHashMap<>();
        private final Map<Long, Character> relkinds = new HashMap<>();
        private final Map<Long, Character> replident = new HashMap<>();
        private final Map<Long, long[]> sizes = new HashMap<>();
        private final Map<Long, List<TableId>> partitions = new HashMap<>();
        private final Map<TableId, TableId> partitionRoots = new HashMap<>();
        private final Map<Long, List<ColumnInfo>> columns = new HashMap<>();
        private final Map<Long, List<KeyConstraint>> keys = new HashMap<>();
        private final Map<Long, List<IndexInfo>> indexes = new HashMap<>();
        private final Map<Long, List<ForeignKeyInfo>> fks = new HashMap<>();
        private final Map<Long, List<CheckInfo>> checks = new HashMap<>();
        private final Map<Long, List<SequenceInfo>> sequences = new HashMap<>();
        private final Set<Long> typeOids = new LinkedHashSet<>();
        private int version;

        Reader(Connection c, List<String> schemas) {
            this.c = c;
            this.schemas = schemas;
        }

        SourceCatalog read() throws SQLException {
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT current_setting('server_version_num')::int")) {
                rs.next();
                version = rs.getInt(1);
            }
            readTables();
            readPartitions();
            Long[] oids = ids.keySet().toArray(Long[]::new);
            if (oids.length > 0) {
                readColumns(oids);
                readConstraints(oids);
                readIndexes(oids);
                readSequences(oids);
            }
            List<UserType> userTypes = readUserTypes();

            Map<TableId, TableInfo> out = new LinkedHashMap<>();
            Map<String, List<TableId>> bySchema = new TreeMap<>();
            for (Map.Entry<Long, TableId> e : ids.entrySet()) {
                long oid = e.getKey();
                List<KeyConstraint> k = keys.getOrDefault(oid, List.of());
                Optional<KeyConstraint> pk = k.stream().filter(KeyConstraint::isPrimary).findFirst();
                List<KeyConstraint> uniques = new ArrayList<>(k.stream().filter(x -> !x.isPrimary()).toList());
                for (IndexInfo ix : indexes.getOrDefault(oid, List.of())) {
                    if (ix.unique()) {
                        uniques.add(new KeyConstraint(ix.name(), KeyConstraint.Kind.UNIQUE_INDEX, ix.columns(), false, false));
                    }
                }
                long[] size = sizes.get(oid);
                TableInfo info = new TableInfo(e.getValue(), relkinds.get(oid), replident.get(oid),
                        columns.getOrDefault(oid, List.of()), pk, uniques, indexes.getOrDefault(oid, List.of()),
                        fks.getOrDefault(oid, List.of()), checks.getOrDefault(oid, List.of()),
                        sequences.getOrDefault(oid, List.of()), size[0], size[1], partitions.getOrDefault(oid, List.of()));
                out.put(e.getValue(), info);
                bySchema.computeIfAbsent(e.getValue().schema(), s -> new ArrayList<>()).add(e.getValue());
            }
            bySchema.values().forEach(l -> l.sort(null));
            return new SourceCatalog(out, bySchema, partitionRoots, userTypes, version);
        }

        private void readTables() throws SQLException {
            String sql = """
                    SELECT c.oid, n.nspname, c.relname, c.relkind, c.relreplident,
                           greatest(c.reltuples, 0)::bigint, pg_total_relation_size(c.oid)
                      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = ANY (?) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
                       AND NOT c.relispartition
                     ORDER BY n.nspname, c.relname""";
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setArray(1, c.createArrayOf("text", schemas.toArray()));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        long oid = rs.getLong(1);
                        ids.put(oid, new TableId(rs.getString(2), rs.getString(3)));
                        relkinds.put(oid, rs.getString(4).charAt(0));
                        replident.put(oid, rs.getString(5).charAt(0));
                        sizes.put(oid, new long[] {rs.getLong(6), rs.getLong(7)});
                    }
                }
            }
        }

        /**
         * Every partition of the partitioned tables read (their sizes are their leaves'), and the root of every partition
         * in the schemas, so that a spec naming a partition is told which table to name instead.
         */
        private void readPartitions() throws SQLException {
            Long[] roots = ids.keySet().stream().filter(oid -> relkinds.get(oid) == 'p').toArray(Long[]::new);
            if (roots.length > 0) {
                for (Long root : roots) {
                    sizes.put(root, new long[2]); // an ANALYZEd parent has reltuples of its own: count the leaves only
                }
                String sql = """
                        SELECT r.oid, n.nspname, c.relname, pt.isleaf, greatest(c.reltuples, 0)::bigint,
                               pg_total_relation_size(pt.relid)
                          FROM unnest(?::oid[]) AS r(oid)
                          CROSS JOIN LATERAL pg_partition_tree(r.oid) pt
                          JOIN pg_class c ON c.oid = pt.relid
                          JOIN pg_namespace n ON n.oid = c.relnamespace
                         WHERE pt.level > 0
                         ORDER BY r.oid, pt.level, n.nspname, c.relname""";
                try (PreparedStatement ps = prepare(sql, roots); ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        long root = rs.getLong(1);
                        partitions.computeIfAbsent(root, k -> new ArrayList<>()).add(new TableId(rs.getString(2), rs.getString(3)));
                        if (rs.getBoolean(4)) {
                            long[] size = sizes.get(root);
                            size[0] += rs.getLong(5);
                            size[1] += rs.getLong(6);
                        }
                    }
                }
            }
            String sql = """
                    SELECT n.nspname, c.relname, rn.nspname, rc.relname
                      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                      JOIN pg_class rc ON rc.oid = pg_partition_root(c.oid)
                      JOIN pg_namespace rn ON rn.oid = rc.relnamespace
                     WHERE n.nspname = ANY (?) AND c.relispartition AND c.relkind IN ('r', 'p', 'f')""";
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setArray(1, c.createArrayOf("text", schemas.toArray()));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        partitionRoots.put(new TableId(rs.getString(1), rs.getString(2)), new TableId(rs.getString(3), rs.getString(4)));
                    }
                }
            }
        }

        private void readColumns(Long[] oids) throws SQLException {
            String sql = """
                    SELECT a.attrelid, a.attname, a.attnum, format_type(a.atttypid, a.atttypmod),
                           coalesce(bt.typname, t.typname), t.typtype, tn.nspname, a.attnotnull,
                           pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated,
                           CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
                                THEN quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END,
                           coalesce(co.collisdeterministic, true),
                           (SELECT e.extname FROM pg_depend dep JOIN pg_extension e ON e.oid = dep.refobjid
                             WHERE dep.classid = 'pg_type'::regclass AND dep.deptype = 'e'
                               AND dep.objid = CASE WHEN t.typelem <> 0 AND t.typcategory = 'A' THEN t.typelem ELSE t.oid END
                             LIMIT 1),
                           a.atttypid
                      FROM pg_attribute a
                      JOIN pg_type t ON t.oid = a.atttypid
                      JOIN pg_namespace tn ON tn.oid = t.typnamespace
                      LEFT JOIN pg_type bt ON bt.oid = t.typbasetype AND t.typtype = 'd'
                      LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
                      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                      LEFT JOIN pg_collation co ON co.oid = a.attcollation
                      LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
                     WHERE a.attrelid = ANY (?) AND a.attnum > 0 AND NOT a.attisdropped
                     ORDER BY a.attrelid, a.attnum""";
            try (PreparedStatement ps = prepare(sql, oids); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String identity = rs.getString(10);
                    String generated = rs.getString(11);
                    String expr = rs.getString(9);
                    boolean isGenerated = generated != null && !generated.isEmpty();
                    ColumnInfo col = new ColumnInfo(rs.getString(2), rs.getInt(3), rs.getString(4), rs.getString(5),
                            rs.getString(6).charAt(0), rs.getString(7), rs.getBoolean(8),
                            isGenerated ? Optional.empty() : Optional.ofNullable(expr),
                            identity == null || identity.isEmpty() ? '0' : identity.charAt(0),
                            isGenerated ? Optional.ofNullable(expr) : Optional.empty(),
                            Optional.ofNullable(rs.getString(12)), rs.getBoolean(13), Optional.ofNullable(rs.getString(14)));
                    columns.computeIfAbsent(rs.getLong(1), k -> new ArrayList<>()).add(col);
                    typeOids.add(rs.getLong(15));
                }
            }
        }

        private void readConstraints(Long[] oids) throws SQLException {
            String nullsNotDistinct = version >= 150000
                    ? "coalesce((SELECT i.indnullsnotdistinct FROM pg_index i WHERE i.indexrelid = con.conindid), false)"
                    : "false";
            String sql = """
                    SELECT con.conrelid, con.conname, con.contype,
                           ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
                                   JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
                                  ORDER BY k.ord),
                           ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
                                   JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
                                  ORDER BY k.ord),
                           rn.nspname, rc.relname, con.confupdtype, con.confdeltype, con.confmatchtype,
                           con.condeferrable, con.condeferred, pg_get_constraintdef(con.oid), con.connoinherit,
                           %s
                      FROM pg_constraint con
                      LEFT JOIN pg_class rc ON rc.oid = con.confrelid
                      LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
                     WHERE con.conrelid = ANY (?) AND con.contype IN ('p', 'u', 'f', 'c', 'x')
                     ORDER BY con.conrelid, con.contype, con.conname""".formatted(nullsNotDistinct);
            try (PreparedStatement ps = prepare(sql, oids); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long rel = rs.getLong(1);
                    String name = rs.getString(2);
                    char type = rs.getString(3).charAt(0);
                    List<String> cols = strings(rs.getArray(4));
                    switch (type) {
                        case 'p', 'u' -> keys.computeIfAbsent(rel, k -> new ArrayList<>()).add(new KeyConstraint(name,
                                type == 'p' ? KeyConstraint.Kind.PRIMARY_KEY : KeyConstraint.Kind.UNIQUE_CONSTRAINT,
                                cols, rs.getBoolean(11), rs.getBoolean(15)));
                        case 'f' -> fks.computeIfAbsent(rel, k -> new ArrayList<>()).add(new ForeignKeyInfo(name, cols,
                                new TableId(rs.getString(6), rs.getString(7)), strings(rs.getArray(5)),
                                action(rs.getString(8)), action(rs.getString(9)), "f".equals(rs.getString(10)),
                                rs.getBoolean(11), rs.getBoolean(12)));
                        default -> checks.computeIfAbsent(rel, k -> new ArrayList<>())
                                .add(new CheckInfo(name, rs.getString(13), type == 'x', rs.getBoolean(14)));
                    }
                }
            }
        }

        private void readIndexes(Long[] oids) throws SQLException {
            String sql = """
                    SELECT i.indrelid, ic.relname, pg_get_indexdef(i.indexrelid), i.indisunique,
                           format('%I.%I', n.nspname, c.relname),
                           ARRAY(SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
                                   JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                                  WHERE k.ord <= i.indnkeyatts ORDER BY k.ord),
                           (0 <> ALL (i.indkey::int2[])) AND i.indpred IS NULL AND i.indexprs IS NULL,
                           i.indnkeyatts
                      FROM pg_index i
                      JOIN pg_class ic ON ic.oid = i.indexrelid
                      JOIN pg_class c ON c.oid = i.indrelid
                      JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE i.indrelid = ANY (?)
                       AND NOT EXISTS (SELECT 1 FROM pg_constraint con
                                        WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid)
                     ORDER BY i.indrelid, ic.relname""";
            try (PreparedStatement ps = prepare(sql, oids); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String def = rs.getString(3);
                    String marker = " ON " + rs.getString(5) + " ";
                    int at = def.indexOf(marker);
                    if (at < 0) {
                        marker = " ON ONLY " + rs.getString(5) + " ";
                        at = def.indexOf(marker);
                    }
                    if (at < 0) {
                        throw new SQLException("unexpected index definition for " + rs.getString(2) + ": " + def);
                    }
                    List<String> cols = strings(rs.getArray(6));
                    boolean plain = rs.getBoolean(7) && cols.size() == rs.getInt(8);
                    indexes.computeIfAbsent(rs.getLong(1), k -> new ArrayList<>()).add(new IndexInfo(rs.getString(2),
                            def.substring(at + marker.length()), rs.getBoolean(4), plain ? cols : List.of(), plain));
                }
            }
        }

        private void readSequences(Long[] oids) throws SQLException {
            // serial and identity sequences (owned by the column) and sequences named in a column default
            String sql = """
                    WITH used AS (
                      SELECT d.refobjid AS rel, d.refobjsubid AS attnum, d.objid AS seq, d.deptype = 'i' AS identity
                        FROM pg_depend d
                       WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
                         AND d.refobjid = ANY (?) AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0
                      UNION
                      SELECT ad.adrelid, ad.adnum, d.refobjid, false
                        FROM pg_attrdef ad
                        JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid
                                        AND d.refclassid = 'pg_class'::regclass
                       WHERE ad.adrelid = ANY (?))
                    SELECT u.rel, a.attname, sn.nspname, s.relname, bool_or(u.identity),
                           format_type(q.seqtypid, NULL), q.seqstart, q.seqincrement, q.seqmin, q.seqmax, q.seqcycle,
                           -- unreadable without a privilege: left empty here, the preflight names the missing GRANT
                           CASE WHEN has_sequence_privilege(s.oid, 'SELECT') OR has_sequence_privilege(s.oid, 'USAGE')
                                THEN pg_sequence_last_value(s.oid) END
                      FROM used u
                      JOIN pg_class s ON s.oid = u.seq AND s.relkind = 'S'
                      JOIN pg_namespace sn ON sn.oid = s.relnamespace
                      JOIN pg_sequence q ON q.seqrelid = s.oid
                      JOIN pg_attribute a ON a.attrelid = u.rel AND a.attnum = u.attnum
                     GROUP BY u.rel, a.attname, sn.nspname, s.relname, s.oid, q.seqtypid, q.seqstart, q.seqincrement,
                              q.seqmin, q.seqmax, q.seqcycle
                     ORDER BY u.rel, a.attname""";
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                Array arr = c.createArrayOf("oid", oids);
                ps.setArray(1, arr);
                ps.setArray(2, arr);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        long last = rs.getLong(12);
                        Optional<Long> lastValue = rs.wasNull() ? Optional.empty() : Optional.of(last);
                        sequences.computeIfAbsent(rs.getLong(1), k -> new ArrayList<>()).add(new SequenceInfo(
                                new TableId(rs.getString(3), rs.getString(4)), rs.getString(2), rs.getBoolean(5),
                                rs.getString(6), rs.getLong(7), rs.getLong(8), rs.getLong(9), rs.getLong(10),
                                rs.getBoolean(11), lastValue));
                    }
                }
            }
        }

        /**
         * The user-defined types behind the columns, followed through array elements, domain base types, composite
         * attributes and range subtypes; built-in and extension types are left out (extensions are created whole).
         */
        private List<UserType> readUserTypes() throws SQLException {
            if (typeOids.isEmpty()) {
                return List.of();
            }
            String closure = """
                    WITH RECURSIVE used(oid, depth) AS (
                      SELECT unnest(?::oid[]), 0
                      UNION
                      SELECT d.dep, u.depth + 1
                        FROM used u JOIN pg_type t ON t.oid = u.oid
                        CROSS JOIN LATERAL (
                          SELECT t.typelem WHERE t.typelem <> 0 AND t.typcategory = 'A'
                          UNION ALL SELECT t.typbasetype WHERE t.typtype = 'd'
                          UNION ALL SELECT r.rngsubtype FROM pg_range r WHERE t.typtype = 'r' AND r.rngtypid = t.oid
                          UNION ALL SELECT a.atttypid FROM pg_attribute a
                                     WHERE t.typtype = 'c' AND a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
                        ) AS d(dep)
                       WHERE u.depth < 32)
                    SELECT t.oid, n.nspname, t.typname, t.typtype, max(u.depth)
                      FROM used u JOIN pg_type t ON t.oid = u.oid JOIN pg_namespace n ON n.oid = t.typnamespace
                     WHERE t.typtype IN ('e', 'd', 'c', 'r') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                       AND NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.classid = 'pg_type'::regclass
                                        AND dep.objid = t.oid AND dep.deptype = 'e')
                       AND (t.typtype <> 'c' OR (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c')
                     GROUP BY t.oid, n.nspname, t.typname, t.typtype
                     ORDER BY max(u.depth) DESC, n.nspname, t.typname""";
            // deepest first: whatever a type depends on was reached one step further from the columns
            List<UserType> out = new ArrayList<>();
            try (PreparedStatement ps = prepare(closure, typeOids.toArray(Long[]::new)); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long oid = rs.getLong(1);
                    String schema = rs.getString(2);
                    String name = rs.getString(3);
                    out.add(switch (rs.getString(4).charAt(0)) {
                        case 'e' -> new UserType.Enum(schema, name, single(
                                "SELECT array_agg(enumlabel ORDER BY enumsortorder)::text[] FROM pg_enum WHERE enumtypid = ?", oid));
                        case 'd' -> domain(oid, schema, name);
                        case 'c' -> composite(oid, schema, name);
                        default -> range(oid, schema, name);
                    });
                }
            }
            return out;
        }

        private List<String> single(String sql, long oid) throws SQLException {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setLong(1, oid);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return strings(rs.getArray(1));
                }
            }
        }

        private UserType domain(long oid, String schema, String name) throws SQLException {
            String sql = """
                    SELECT format_type(t.typbasetype, t.typtypmod), t.typnotnull, pg_get_expr(t.typdefaultbin, 0),
                           CASE WHEN t.typcollation <> 0 AND t.typcollation <> b.typcollation
                                THEN quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END
                      FROM pg_type t JOIN pg_type b ON b.oid = t.typbasetype
                      LEFT JOIN pg_collation co ON co.oid = t.typcollation
                      LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
                     WHERE t.oid = ?""";
            List<UserType.Domain.Check> checks = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                    + " WHERE contypid = ? AND contype = 'c' ORDER BY conname")) {
                ps.setLong(1, oid);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        checks.add(new UserType.Domain.Check(rs.getString(1), rs.getString(2)));
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setLong(1, oid);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return new UserType.Domain(schema, name, rs.getString(1), Optional.ofNullable(rs.getString(4)),
                            Optional.ofNullable(rs.getString(3)), rs.getBoolean(2), checks);
                }
            }
        }

        private UserType composite(long oid, String schema, String name) throws SQLException {
            String sql = """
                    SELECT a.attname, format_type(a.atttypid, a.atttypmod),
                           CASE WHEN a.attcollation <> 0 AND a.attcollation <> at.typcollation
                                THEN quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END
                      FROM pg_type t JOIN pg_attribute a ON a.attrelid = t.typrelid
                      JOIN pg_type at ON at.oid = a.atttypid
                      LEFT JOIN pg_collation co ON co.oid = a.attcollation
                      LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
                     WHERE t.oid = ? AND a.attnum > 0 AND NOT a.attisdropped
                     ORDER BY a.attnum""";
            List<UserType.Composite.Attribute> attributes = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setLong(1, oid);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        attributes.add(new UserType.Composite.Attribute(rs.getString(1), rs.getString(2), Optional.ofNullable(rs.getString(3))));
                    }
                }
            }
            return new UserType.Composite(schema, name, attributes);
        }

        private UserType range(long oid, String schema, String name) throws SQLException {
            String sql = """
                    SELECT format_type(r.rngsubtype, NULL),
                           CASE WHEN r.rngcollation <> 0 AND r.rngcollation <> s.typcollation
                                THEN quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END
                      FROM pg_range r JOIN pg_type s ON s.oid = r.rngsubtype
                      LEFT JOIN pg_collation co ON co.oid = r.rngcollation
                      LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
                     WHERE r.rngtypid = ?""";
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setLong(1, oid);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return new UserType.Range(schema, name, rs.getString(1), Optional.ofNullable(rs.getString(2)));
                }
            }
        }

        private PreparedStatement prepare(String sql, Long[] oids) throws SQLException {
            PreparedStatement ps = c.prepareStatement(sql);
            ps.setArray(1, c.createArrayOf("oid", oids));
            return ps;
        }

        private static List<String> strings(Array a) throws SQLException {
            if (a == null) {
                return List.of();
            }
            Object[] values = (Object[]) a.getArray();
            return Arrays.stream(values).map(String::valueOf).toList();
        }

        private static String action(String code) {
            return ForeignKeyInfo.action(code);
        }
    }
}
