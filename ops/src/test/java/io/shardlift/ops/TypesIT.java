package io.shardlift.ops;

import io.shardlift.core.ledger.Markers;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardlift.ops.workflow.Planning;
import io.shardlift.ops.workflow.Migration;
import io.shardlift.core.catalog.ColumnTypes;
import io.shardlift.core.plan.PlanException;
import io.shardlift.core.spec.SpecLoader;
import io.shardlift.embedded.EmbeddedKafkaBroker;
import io.shardlift.embedded.PgCluster;
import io.shardlift.embedded.PgNode;
import io.shardlift.testkit.SpecWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every base type of pg_catalog a table column can have, read from pg_type, with its array: either carried
 * exactly, through the copy and the change stream alike, or refused by {@code plan} naming the column. Values
 * are edge values (NULLs, NULLs inside arrays, empty, multi-dimensional arrays and lower bounds, NaN and
 * infinities, extremes, time zones, unicode); rows are compared whole, as text and as the type's binary form
 * ({@code typsend}), after the copy, after streamed INSERTs, after an UPDATE of another column and after an
 * UPDATE of the columns themselves. A second table has stored generated columns and identity columns.
 */
class TypesIT {

    static final String DB = "types";
    static final int TOPIC_PARTITIONS = 2;

    /** Edge values per type, as PostgreSQL input text; NULL is added to every type. */
    static final Map<String, List<String>> VALUES = Map.ofEntries(
            Map.entry("bool", List.of("t", "f")),
            Map.entry("timetz", List.of("10:00:00.123456+05:30", "24:00:00-15:59", "00:00+00", "23:59:59.999999+15:59")),
            Map.entry("oid", List.of("4294967295", "0", "2147483648")),
            Map.entry("bytea", List.of("\\x", "\\x00ff10", "\\xdeadbeef")),
            Map.entry("char", List.of("a", "Z", " ")),
            Map.entry("name", List.of("x", "héllo ☃ 𝄞", "n".repeat(63), "")),
            Map.entry("int8", List.of("-9223372036854775808", "9223372036854775807", "0")),
            Map.entry("int2", List.of("-32768", "32767", "0")),
            Map.entry("int4", List.of("-2147483648", "2147483647", "0")),
            Map.entry("text", List.of("", "héllo ☃ \"q\" \\ {x} 𝄞", "NULL", " x ")),
            Map.entry("tid", List.of("(0,1)", "(4294967295,65535)")),
            Map.entry("xid", List.of("0", "4294967295", "3")),
            Map.entry("cid", List.of("0", "4294967295")),
            Map.entry("json", List.of("{\"a\": 1,  \"b\":[1,2]}", "\"x\"", "null", "[]", "{\"u\": \"☃\\u0000\"}")),
            Map.entry("xid8", List.of("0", "18446744073709551615")),
            Map.entry("point", List.of("(1.5,2)", "(NaN,Infinity)", "(-0,1e-300)", "(1.7976931348623157e308,-Infinity)", "(0.1,-2.5e-7)")),
            Map.entry("lseg", List.of("[(1,2),(3,4)]", "[(0.1,-0),(NaN,1e300)]")),
            Map.entry("path", List.of("[(1,2),(3,4)]", "((0,0),(1,1),(2,0))", "[(0.1,0.2)]")),
            Map.entry("box", List.of("(3,4),(1,2)", "(0.1,0.2),(-0.3,-1e300)")),
            Map.entry("polygon", List.of("((0,0),(1,1),(2,0))", "((0.1,0.2))")),
            Map.entry("line", List.of("{1,-1,0}", "{0.1,2,-1e300}")),
            Map.entry("float4", List.of("NaN", "Infinity", "-Infinity", "-0", "3.4028235e38", "1e-45", "0.1")),
            Map.entry("float8", List.of("NaN", "Infinity", "-Infinity", "-0", "1.7976931348623157e308", "5e-324", "0.1")),
            Map.entry("circle", List.of("<(1,2),3>", "<(0.1,-0),1e-300>")),
            Map.entry("macaddr8", List.of("08:00:2b:01:02:03:04:05", "ff:ff:ff:ff:ff:ff:ff:ff")),
            Map.entry("money", List.of("-92233720368547758.08", "92233720368547758.07", "0", "1.5")),
            Map.entry("macaddr", List.of("08:00:2b:01:02:03", "ff:ff:ff:ff:ff:ff")),
            Map.entry("inet", List.of("192.168.1.5/24", "::1", "10.0.0.1", "2001:db8::1/64")),
            Map.entry("cidr", List.of("10.0.0.0/8", "2001:db8::/32")),
            Map.entry("bpchar", List.of("ab", " x ", "héllo")),
            Map.entry("varchar", List.of("", "héllo ☃ 𝄞", "NULL")),
            Map.entry("date", List.of("infinity", "-infinity", "4713-01-01 BC", "5874897-12-31", "2024-02-29", "0044-03-15 BC")),
            Map.entry("time", List.of("00:00", "23:59:59.999999", "24:00:00", "12:34:56.5")),
            // Debezium's microseconds since 1970 end in 294247 (README, types): the last timestamp it carries
            Map.entry("timestamp", List.of("infinity", "-infinity", "4713-01-01 00:00:00 BC", "294247-01-10 04:00:25.199999",
                    "2024-02-29 12:34:56.789012", "2024-02-29 12:34:56")),
            Map.entry("timestamptz", List.of("infinity", "-infinity", "4713-01-01 00:00:00+00 BC", "294276-12-31 23:59:59.999999+00",
                    "2024-02-29 12:34:56.789012+05:30", "2024-07-01 00:00 America/New_York", "1970-01-01 00:00:00.000001Z")),
            Map.entry("interval", List.of("1 year 2 mons -3 days 04:05:06.789012", "-178000000 years", "0", "-0.000001 seconds",
                    "178000000 years 2147483647 days")),
            Map.entry("bit", List.of("0", "1")),
            Map.entry("varbit", List.of("", "1", "0101010101010101010101", "00000000")),
            Map.entry("numeric", List.of("NaN", "Infinity", "-Infinity", "0", "1.50", "-0.000001",
                    "123456789012345678901234567890.123456789012345678901234567890", "1e-100", "-1e100")),
            Map.entry("refcursor", List.of("cur", "")),
            Map.entry("uuid", List.of("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "00000000-0000-0000-0000-000000000000")),
            Map.entry("pg_lsn", List.of("0/0", "FFFFFFFF/FFFFFFFF", "16/B374D848")),
            Map.entry("tsvector", List.of("a fat cat:1A,2 sat", "", "'héllo ☃':3")),
            Map.entry("tsquery", List.of("fat & (rat | cat)", "!a <-> b", "'x':* & y:A")),
            Map.entry("jsonb", List.of("{\"b\": [1, 2], \"s\": \"x\\\"y\", \"u\": \"☃\"}", "null", "1.50", "[]")),
            Map.entry("jsonpath", List.of("$.a[*] ? (@ > 1)", "strict $.x")),
            Map.entry("txid_snapshot", List.of("10:20:10,14,15", "1:1:")),
            Map.entry("pg_snapshot", List.of("10:20:10,14,15", "1:1:")));

    /** One column of the wide table. */
    record Col(String name, String type, String typname, String send, boolean array) {
    }

    static PgCluster cluster;
    static EmbeddedKafkaBroker kafka;
    static Path dir;
    static Migration migration;
    static final List<Col> COLS = new ArrayList<>();
    static final Map<String, String> REFUSED_COLUMNS = new LinkedHashMap<>(); // column -> typname
    static int rows;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory(Path.of("target"), "types-it");
        cluster = PgCluster.start("types", 2, DB);
        kafka = EmbeddedKafkaBroker.start();
        try (Connection c = cluster.source().connect(DB); Statement st = c.createStatement()) {
            readTypes(st);
            createTables(st);
            for (int id = 1; id <= rows; id++) {
                st.execute(insert(id, id - 1));
            }
            st.execute("INSERT INTO public.gen (a, b, note) SELECT i, i * 2, 'n' || i FROM generate_series(1, 50) i");
        }
    }

    @AfterAll
    static void stop() {
        if (migration != null) {
            migration.close();
        }
        if (kafka != null) {
            kafka.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    /** Base types of pg_catalog (their arrays follow them), split into those carried and those refused. */
    static void readTypes(Statement st) throws SQLException {
        String sql = """
                SELECT t.typname, format_type(t.oid, NULL), t.typsend::regproc::text || '(%s::' || format_type(sp.proargtypes[0], NULL) || ')',
                       format_type(a.oid, NULL), a.typsend::regproc::text || '(%s)'
                  FROM pg_type t LEFT JOIN pg_type a ON a.oid = t.typarray
                  LEFT JOIN pg_proc sp ON sp.oid = t.typsend
                 WHERE t.typnamespace = 'pg_catalog'::regnamespace AND t.typtype = 'b' AND t.typisdefined
                   AND t.typname NOT LIKE '\\_%'
                 ORDER BY t.typname""";
        List<String> missing = new ArrayList<>();
        try (ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                String typname = rs.getString(1);
                boolean hasArray = rs.getString(4) != null;
                if (ColumnTypes.refusal(typname, false).isPresent()) {
                    REFUSED_COLUMNS.put("r_" + typname, typname);
                } else if (VALUES.containsKey(typname)) {
                    COLS.add(new Col("c_" + typname, rs.getString(2), typname, rs.getString(3), false));
                } else {
                    missing.add(typname);
                }
                if (hasArray && ColumnTypes.refusal(typname, true).isPresent()) {
                    REFUSED_COLUMNS.put("ra_" + typname, "_" + typname);
                } else if (hasArray && VALUES.containsKey(typname)) {
                    COLS.add(new Col("a_" + typname, rs.getString(4), typname, rs.getString(5), true));
                } else if (hasArray) {
                    missing.add(typname + "[]");
                }
            }
        }
        assertThat(missing).as("types of pg_catalog this test has no edge values for: add them to VALUES, or refuse "
                + "them in ColumnTypes").isEmpty();
        rows = VALUES.values().stream().mapToInt(List::size).max().orElseThrow() + 1;
    }

    static void createTables(Statement st) throws SQLException {
        st.execute("CREATE TABLE public.types (id int PRIMARY KEY, touch int NOT NULL DEFAULT 0, "
                + COLS.stream().map(c -> c.name + " " + c.type).collect(Collectors.joining(", ")) + ")");
        st.execute("CREATE TABLE public.refused (id int PRIMARY KEY, " + REFUSED_COLUMNS.entrySet().stream()
                .map(e -> e.getKey() + " pg_catalog." + (e.getValue().startsWith("_") ? e.getValue().substring(1) + "[]" : e.getValue()))
                .collect(Collectors.joining(", ")) + ")");
        st.execute("""
                CREATE TABLE public.gen (
                  id bigint GENERATED ALWAYS AS IDENTITY,
                  a int NOT NULL,
                  b int,
                  total bigint GENERATED ALWAYS AS (a::bigint + coalesce(b, 0)) STORED,
                  note text,
                  label text GENERATED ALWAYS AS (upper(note) || '#' || a) STORED,
                  seq int GENERATED BY DEFAULT AS IDENTITY (START WITH 100),
                  PRIMARY KEY (id))""");
    }

    /** The {@code k}-th edge value of a type as an SQL expression (NULL past the end of its list). */
    static String scalar(Col c, int k) {
        List<String> v = VALUES.get(c.typname);
        int i = Math.floorMod(k, v.size() + 1);
        String elem = c.array ? c.type.substring(0, c.type.length() - 2) : c.type;
        return i == v.size() ? "NULL::" + elem : literal(v.get(i)) + "::" + elem;
    }

    /** Arrays: NULL, empty, NULLs inside, two dimensions, lower bounds, every value. */
    static String array(Col c, int k) {
        String t = c.type;
        String v0 = scalar(c, k);
        String v1 = scalar(c, k + 1);
        return switch (Math.floorMod(k, 7)) {
            case 0 -> "NULL::" + t;
            case 1 -> "'{}'::" + t;
            case 2 -> "ARRAY[" + v0 + ", NULL, " + v1 + "]";
            case 3 -> "ARRAY[ARRAY[" + v0 + ", " + v1 + "], ARRAY[" + v1 + ", NULL]]";
            case 4 -> "('[0:1]=' || ARRAY[" + v0 + ", " + v1 + "]::text)::" + t;
            case 5 -> "('[-1:0][2:3]=' || ARRAY[ARRAY[" + v0 + ", " + v1 + "], ARRAY[" + v1 + ", " + v0 + "]]::text)::" + t;
            default -> "ARRAY[" + java.util.stream.IntStream.range(0, VALUES.get(c.typname).size() + 1)
                    .mapToObj(i -> scalar(c, i)).collect(Collectors.joining(", ")) + "]";
        };
    }

    static String value(Col c, int k) {
        return c.array ? array(c, k) : scalar(c, k);
    }

    static String literal(String s) {
        return "'" + s.replace("'", "''") + "'";
    }

    static String insert(int id, int k) {
        return "INSERT INTO public.types (id, " + COLS.stream().map(Col::name).collect(Collectors.joining(", ")) + ") VALUES ("
                + id + ", " + COLS.stream().map(c -> value(c, k)).collect(Collectors.joining(", ")) + ")";
    }

    static Path spec(String tables) throws Exception {
        return SpecWriter.from(cluster, DB).jobs(2).tables(tables).kafka(kafka.bootstrapServers(), TOPIC_PARTITIONS)
                .write(dir.resolve("migrate-" + System.nanoTime() + ".yml"));
    }

    static final String TABLES = "        - {name: types, type: global}\n"
            + "        - {name: gen, type: sharded, distributedby: id, partitions: 4}\n";

    @Test
    void everyBuiltinTypeIsCarriedExactlyOrRefusedInPlan() throws Exception {
        // plan refuses each refused type by column, with the reason, and before anything is written
        assertThatThrownBy(() -> Planning.plan(new SpecLoader().load(spec("        - {name: refused, type: global}\n"))))
                .isInstanceOfSatisfying(PlanException.class, e -> {
                    for (var col : REFUSED_COLUMNS.entrySet()) {
                        String base = col.getValue().replaceFirst("^_", "");
                        assertThat(e.problems()).as(col.getKey()).anySatisfy(p -> assertThat(p)
                                .contains("public.refused: column " + col.getKey() + " has type")
                                .contains(ColumnTypes.refusal(base, col.getValue().startsWith("_")).orElseThrow()));
                    }
                });
        System.out.println("carried: " + COLS.stream().map(Col::type).collect(Collectors.joining(", ")));
        System.out.println("refused: " + String.join(", ", REFUSED_COLUMNS.values()));

        Migration m = migrate();
        // after the copy
        assertTypesEqual("after the copy");

        try (Connection c = cluster.source().connect(DB); Statement st = c.createStatement()) {
            // streamed INSERTs: the same edge values again, and shifted
            for (int id = 1; id <= rows; id++) {
                st.execute(insert(1000 + id, id - 1));
                st.execute(insert(2000 + id, id + 3));
            }
            // an UPDATE of another column carries every column of the row
            st.execute("UPDATE public.types SET touch = touch + 1");
            awaitApplied(m, "types-1");
            assertTypesEqual("after streamed inserts and an update of another column");

            // an UPDATE of the columns themselves: each row takes the values of another row
            String cols = COLS.stream().map(Col::name).collect(Collectors.joining(", "));
            st.execute("UPDATE public.types t SET (" + cols + ") = (SELECT " + cols + " FROM public.types s WHERE s.id = "
                    + "CASE WHEN t.id % 1000 = " + rows + " THEN t.id - " + (rows - 1) + " ELSE t.id + 1 END)");
            // and one column at a time, to a value of another kind (NULL <-> value, array shapes)
            for (Col col : COLS) {
                st.execute("UPDATE public.types SET " + col.name + " = " + value(col, 3) + " WHERE id = 1");
                st.execute("UPDATE public.types SET " + col.name + " = " + value(col, 5) + " WHERE id = 1001");
            }
            awaitApplied(m, "types-2");
            assertTypesEqual("after updates of the columns themselves");
        }
    }

    @Test
    void storedGeneratedAndIdentityColumnsMigrateOnlineUnderUpdates() throws Exception {
        Migration m = migrate();
        assertGenEqual("after the copy");
        try (Connection c = cluster.source().connect(DB); Statement st = c.createStatement()) {
            for (int round = 0; round < 5; round++) {
                st.execute("UPDATE public.gen SET b = b + 1 WHERE id % 3 = " + (round % 3));
                st.execute("UPDATE public.gen SET note = note || 'x' WHERE id % 5 = " + round);
                st.execute("INSERT INTO public.gen (a, b, note) SELECT i, NULL, 'stream ☃ ' || i FROM generate_series(1, 10) i");
                st.execute("INSERT INTO public.gen (a, b, note, seq) VALUES (7, 7, 'explicit seq', " + (5000 + round) + ")");
                st.execute("DELETE FROM public.gen WHERE id % 17 = " + round);
            }
            st.execute("UPDATE public.gen SET a = a + 1000");
        }
        awaitApplied(m, "gen-1");
        assertThat(m.failure()).isEmpty();
        assertGenEqual("after streamed inserts, updates and deletes");
        try (Connection c = cluster.nodes().get(0).connect(DB); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT attname, attgenerated FROM pg_attribute WHERE attrelid = 'public.gen'::regclass"
                     + " AND attname IN ('total', 'label') ORDER BY 1")) {
            List<String> generated = new ArrayList<>();
            while (rs.next()) {
                generated.add(rs.getString(1) + ":" + rs.getString(2));
            }
            assertThat(generated).as("generated columns on the nodes").containsExactly("label:s", "total:s");
        }
    }

    /** One migration of both tables, started by whichever test comes first, caught up before it returns. */
    static synchronized Migration migrate() throws Exception {
        if (migration == null) {
            migration = Migration.start(Planning.plan(new SpecLoader().load(spec(TABLES))),
                    new Migration.Options(2, 10_000, dir.resolve("data"), Optional.of("types-it")), new SimpleMeterRegistry());
            long deadline = System.nanoTime() + 300_000_000_000L;
            while (!migration.caughtUp()) {
                assertThat(migration.failure()).as(migration.statusLine()).isEmpty();
                assertThat(System.nanoTime()).as(migration.statusLine()).isLessThan(deadline);
                Thread.sleep(200);
            }
        }
        return migration;
    }

    /** A marker through the stream, applied on every partition; fails as soon as the migration does. */
    static void awaitApplied(Migration m, String marker) throws Exception {
        try (Connection c = cluster.source().connect(DB); Statement st = c.createStatement()) {
            Markers.emit(c, marker);
        }
        long deadline = System.nanoTime() + 180_000_000_000L;
        while (true) {
            assertThat(m.failure()).as(m.statusLine()).isEmpty();
            try (Connection c = cluster.nodes().get(0).connect(DB)) {
                if (Markers.count(c, marker) >= TOPIC_PARTITIONS * 2L) {
                    return;
                }
            }
            assertThat(System.nanoTime()).as("marker " + marker + ": " + m.statusLine()).isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    /** Every row, every column, as text and as the type's binary form, on the source and on every node. */
    static void assertTypesEqual(String when) throws SQLException {
        StringBuilder sql = new StringBuilder("SELECT id, touch");
        for (Col c : COLS) {
            sql.append(", ").append(c.name).append("::text, encode(").append(c.send == null ? "NULL::bytea" : c.send.formatted(c.name)).append(", 'hex')");
        }
        sql.append(" FROM public.types ORDER BY id");
        List<List<String>> source = rowsOf(cluster.source(), sql.toString());
        assertThat(source).hasSizeGreaterThanOrEqualTo(rows);
        for (PgNode n : cluster.nodes()) {
            List<List<String>> node = rowsOf(n, sql.toString());
            List<String> diffs = new ArrayList<>();
            for (int r = 0; r < Math.max(source.size(), node.size()); r++) {
                List<String> s = r < source.size() ? source.get(r) : null;
                List<String> d = r < node.size() ? node.get(r) : null;
                if (s == null || d == null || !s.get(0).equals(d.get(0))) {
                    diffs.add("row " + r + ": source id " + (s == null ? "-" : s.get(0)) + ", node id " + (d == null ? "-" : d.get(0)));
                    continue;
                }
                for (int i = 1; i < s.size(); i++) {
                    if (!java.util.Objects.equals(s.get(i), d.get(i))) {
                        String col = i == 1 ? "touch" : COLS.get((i - 2) / 2).name + ((i - 2) % 2 == 0 ? " (text)" : " (binary)");
                        diffs.add("id " + s.get(0) + " " + col + ": source " + s.get(i) + " node " + d.get(i));
                    }
                }
            }
            assertThat(diffs).as(when + ", " + n.name()).isEmpty();
        }
    }

    static void assertGenEqual(String when) throws SQLException {
        String sql = "SELECT id, a, b, total, note, label, seq FROM public.gen ORDER BY id";
        List<List<String>> source = rowsOf(cluster.source(), sql);
        assertThat(source).isNotEmpty();
        // a sharded table: each node sees every partition through the parent
        for (PgNode n : cluster.nodes()) {
            assertThat(rowsOf(n, sql)).as(when + ", " + n.name()).containsExactlyElementsOf(source);
        }
    }

    static List<List<String>> rowsOf(PgNode n, String sql) throws SQLException {
        List<List<String>> out = new ArrayList<>();
        try (Connection c = n.connect(DB); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            int cols = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                List<String> row = new ArrayList<>(cols);
                for (int i = 1; i <= cols; i++) {
                    row.add(rs.getString(i));
                }
                out.add(row);
            }
        }
        return out;
    }
}
