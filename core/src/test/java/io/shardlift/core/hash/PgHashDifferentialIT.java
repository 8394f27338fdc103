package io.shardlift.core.hash;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlift.embedded.PgNode;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Differential test: for every {@link KeyType} (and char(n), varchar(n) and composite keys with
 * NULLs) a real PostgreSQL server hash-partitions thousands of random and edge values, and the
 * partition it chose must be the one {@link KeyHasher} computes, from the Java value and from the
 * value's binary send format. Each key column's 64-bit hash is also compared with the server's own
 * hash support function.
 *
 * <p>Values come from a fixed seed, printed first; replay another run with {@code -Dhashdiff.seed=N}.
 */
class PgHashDifferentialIT {

    private static final String DB = "hashdiff";
    private static final long RANDOM_SEED = Long.getLong("hashdiff.seed", 0x5EED_2024L);
    private static final int ROWS = Integer.getInteger("hashdiff.rows", 4000);
    private static final int[] MODULI = {7, 16};
    private static final long SEED = PgHash.HASH_PARTITION_SEED;

    private static PgNode node;
    private static Connection conn;
    private static final Map<String, String> REPORT = new LinkedHashMap<>();

    @BeforeAll
    static void startServer() throws SQLException {
        System.out.println("PgHashDifferentialIT random seed " + RANDOM_SEED + " (replay with -Dhashdiff.seed=" + RANDOM_SEED
                + "), " + ROWS + " rows per key, moduli " + Arrays.toString(MODULI));
        node = PgNode.start("hashdiff");
        String templateEncoding;
        try (Connection c = node.connect("postgres"); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = 'template1'")) {
            rs.next();
            templateEncoding = rs.getString(1);
        }
        if ("UTF8".equals(templateEncoding)) {
            node.createDatabase(DB);
        } else {
            node.execute("postgres", "CREATE DATABASE " + DB + " WITH ENCODING 'UTF8' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'");
        }
        conn = node.connect(DB);
        try (Statement st = conn.createStatement();
                ResultSet rs = st.executeQuery("SELECT current_setting('server_encoding'), datcollate, datlocprovider::text, version()"
                        + " FROM pg_database WHERE datname = current_database()")) {
            rs.next();
            assertThat(rs.getString(1)).as("server_encoding").isEqualTo("UTF8");
            System.out.println("database " + DB + ": encoding " + rs.getString(1) + ", collation " + rs.getString(2)
                    + " (provider " + rs.getString(3) + "), " + rs.getString(4));
        }
    }

    @AfterAll
    static void stopServer() throws SQLException {
        System.out.println("PgHashDifferentialIT summary (random seed " + RANDOM_SEED + "):");
        REPORT.forEach((k, v) -> System.out.println(String.format("  %-34s %s", k, v)));
        if (conn != null) {
            conn.close();
        }
        if (node != null) {
            node.close();
        }
    }

    // ---- the cases ------------------------------------------------------------------------------

    /** A key column: its SQL type, how the router sees it, its send function and its value generator. */
    record Col(String sqlType, KeyType type, String send, Gen gen) {
    }

    /** One generated value: what the router gets, and the SQL text PostgreSQL parses (null = NULL). */
    record Value(Object java, String sql) {
        static final Value NULL = new Value(null, null);

        @Override
        public String toString() {
            return java == null ? "NULL" : java.getClass().getSimpleName() + "(" + abbreviate(sql) + ")";
        }
    }

    interface Gen {
        /** The edge values, all of which are inserted, before {@link #random}. */
        List<Value> edges();

        Value random(Random r);
    }

    record Case(String name, List<Col> cols, double nullRate) {
    }

    static List<Case> cases() {
        List<Case> cases = new ArrayList<>();
        cases.add(single("int2", col("int2", KeyType.SMALLINT, "int2send", ints(Short.MIN_VALUE, Short.MAX_VALUE, v -> (short) v))));
        cases.add(single("int4", col("int4", KeyType.INTEGER, "int4send", ints(Integer.MIN_VALUE, Integer.MAX_VALUE, v -> (int) v))));
        cases.add(single("int8", col("int8", KeyType.BIGINT, "int8send", ints(Long.MIN_VALUE, Long.MAX_VALUE, v -> v))));
        cases.add(single("text", col("text", KeyType.TEXT, "textsend", strings(48, false))));
        cases.add(single("varchar", col("varchar", KeyType.VARCHAR, "varcharsend", strings(48, false))));
        cases.add(single("varchar(20)", col("varchar(20)", KeyType.VARCHAR, "varcharsend", bounded(20, false))));
        cases.add(single("char(12)", col("char(12)", KeyType.BPCHAR, "bpcharsend", bounded(12, true))));
        cases.add(single("bpchar", col("bpchar", KeyType.BPCHAR, "bpcharsend", strings(24, true))));
        cases.add(single("uuid", col("uuid", KeyType.UUID, "uuid_send", uuids())));
        cases.add(single("numeric", col("numeric", KeyType.NUMERIC, "numeric_send", numerics())));
        cases.add(single("date", col("date", KeyType.DATE, "date_send", dates())));
        cases.add(single("timestamp", col("timestamp", KeyType.TIMESTAMP, "timestamp_send", timestamps())));
        cases.add(single("timestamptz", col("timestamptz", KeyType.TIMESTAMPTZ, "timestamptz_send", timestamptzs())));
        cases.add(single("bool", col("bool", KeyType.BOOLEAN, "boolsend", bools())));
        cases.add(new Case("(int4, text)", List.of(
                col("int4", KeyType.INTEGER, "int4send", ints(Integer.MIN_VALUE, Integer.MAX_VALUE, v -> (int) v)),
                col("text", KeyType.TEXT, "textsend", strings(32, false))), 0.15));
        cases.add(new Case("(int8, uuid, date)", List.of(
                col("int8", KeyType.BIGINT, "int8send", ints(Long.MIN_VALUE, Long.MAX_VALUE, v -> v)),
                col("uuid", KeyType.UUID, "uuid_send", uuids()),
                col("date", KeyType.DATE, "date_send", dates())), 0.15));
        cases.add(new Case("(text, char(8), numeric)", List.of(
                col("text", KeyType.TEXT, "textsend", strings(32, false)),
                col("char(8)", KeyType.BPCHAR, "bpcharsend", bounded(8, true)),
                col("numeric", KeyType.NUMERIC, "numeric_send", numerics())), 0.15));
        cases.add(new Case("(bool, timestamptz, int2, varchar)", List.of(
                col("bool", KeyType.BOOLEAN, "boolsend", bools()),
                col("timestamptz", KeyType.TIMESTAMPTZ, "timestamptz_send", timestamptzs()),
                col("int2", KeyType.SMALLINT, "int2send", ints(Short.MIN_VALUE, Short.MAX_VALUE, v -> (short) v)),
                col("varchar(20)", KeyType.VARCHAR, "varcharsend", bounded(20, false))), 0.25));
        return cases;
    }

    private static Case single(String name, Col col) {
        return new Case(name, List.of(col), 0.002);
    }

    private static Col col(String sqlType, KeyType type, String send, Gen gen) {
        return new Col(sqlType, type, send, gen);
    }

    @TestFactory
    Stream<DynamicTest> postgresAndRouterPickTheSamePartition() {
        List<Case> cases = cases();
        return IntStream.range(0, cases.size())
                .mapToObj(i -> DynamicTest.dynamicTest(cases.get(i).name(), () -> check(cases.get(i), i)));
    }

    // ---- one case -------------------------------------------------------------------------------

    private static void check(Case c, int caseNo) throws SQLException {
        long started = System.nanoTime();
        // a Random per case, so a case replays the same way whichever cases run before it
        Random r = new Random(RANDOM_SEED * 31 + caseNo);
        List<Col> cols = c.cols();
        int n = cols.size();
        Value[][] rows = generate(c, r);
        KeyHasher hasher = new KeyHasher(cols.stream().map(Col::type).toList());

        String base = "t" + caseNo;
        createTables(base, cols);
        insert(base + "_m" + MODULI[0], rows, n);
        for (int m = 1; m < MODULI.length; m++) {
            execute("INSERT INTO " + base + "_m" + MODULI[m] + " SELECT * FROM " + base + "_m" + MODULI[0]);
        }

        List<String> mismatches = new ArrayList<>();
        long routed = 0;
        long exactHashes = 0;
        byte[][] bufs = new byte[n][];
        int[] offs = new int[n];
        int[] lens = new int[n];
        Object[] key = new Object[n];
        for (int mi = 0; mi < MODULI.length; mi++) {
            int modulus = MODULI[mi];
            boolean compareHashes = mi == 0;
            String table = base + "_m" + modulus;
            StringBuilder sql = new StringBuilder("SELECT id, tableoid::regclass::text");
            for (int i = 0; i < n; i++) {
                sql.append(", ").append(cols.get(i).send()).append("(k").append(i).append(')');
            }
            if (compareHashes) {
                for (int i = 0; i < n; i++) {
                    sql.append(", ").append(serverHash(cols.get(i).type(), "k" + i));
                }
            }
            sql.append(" FROM ").append(table);
            try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery(sql.toString())) {
                while (rs.next()) {
                    int id = rs.getInt(1);
                    String partition = rs.getString(2);
                    int pgRemainder = Integer.parseInt(partition.substring(partition.lastIndexOf("_p") + 2));
                    Value[] row = rows[id];
                    for (int i = 0; i < n; i++) {
                        key[i] = row[i].java();
                        bufs[i] = rs.getBytes(3 + i);
                        lens[i] = bufs[i] == null ? -1 : bufs[i].length;
                    }
                    int fromObjects = hasher.remainder(key, modulus);
                    int fromBinary = hasher.remainderBinary(bufs, offs, lens, modulus);
                    routed++;
                    if (fromObjects != pgRemainder || fromBinary != pgRemainder) {
                        mismatches.add("id " + id + " key " + Arrays.toString(row) + " mod " + modulus + ": postgres chose "
                                + pgRemainder + ", router " + fromObjects + " (objects) / " + fromBinary + " (binary)");
                    }
                    if (compareHashes) {
                        for (int i = 0; i < n; i++) {
                            long pgHash = rs.getLong(3 + n + i);
                            if (rs.wasNull()) {
                                continue;
                            }
                            exactHashes++;
                            long objectHash = PgHash.hashValue(cols.get(i).type(), key[i], SEED);
                            long binaryHash = PgHash.hashBinary(cols.get(i).type(), bufs[i], 0, lens[i], SEED);
                            if (objectHash != pgHash || binaryHash != pgHash) {
                                mismatches.add("id " + id + " column k" + i + " " + row[i] + ": postgres hash " + pgHash
                                        + ", router " + objectHash + " (object) / " + binaryHash + " (binary)");
                            }
                        }
                    }
                }
            }
        }
        long ms = (System.nanoTime() - started) / 1_000_000;
        String line = String.format("%6d rows x %d moduli = %6d routings, %6d column hashes, %d mismatches (%d ms)",
                rows.length, MODULI.length, routed, exactHashes, mismatches.size(), ms);
        REPORT.put(c.name(), line);
        System.out.println(String.format("  %-34s %s", c.name(), line));
        assertThat(routed).as("rows read back").isEqualTo((long) rows.length * MODULI.length);
        assertThat(mismatches.size())
                .as(() -> mismatches.size() + " mismatches for " + c.name() + " (random seed " + RANDOM_SEED + "), first ones:\n"
                        + String.join("\n", mismatches.subList(0, Math.min(20, mismatches.size()))))
                .isZero();
    }

    private static Value[][] generate(Case c, Random r) {
        List<Col> cols = c.cols();
        int n = cols.size();
        List<Value[]> rows = new ArrayList<>();
        if (n == 1) {
            for (Value v : cols.get(0).gen().edges()) {
                rows.add(new Value[] {v});
            }
            rows.add(new Value[] {Value.NULL});
        } else {
            Value[] allNull = new Value[n];
            Arrays.fill(allNull, Value.NULL);
            rows.add(allNull);
        }
        while (rows.size() < ROWS) {
            Value[] row = new Value[n];
            for (int i = 0; i < n; i++) {
                Gen g = cols.get(i).gen();
                if (r.nextDouble() < c.nullRate()) {
                    row[i] = Value.NULL;
                } else if (n > 1 && r.nextInt(5) == 0) {
                    List<Value> edges = g.edges();
                    row[i] = edges.get(r.nextInt(edges.size()));
                } else {
                    row[i] = g.random(r);
                }
            }
            rows.add(row);
        }
        return rows.toArray(new Value[0][]);
    }

    private static void createTables(String base, List<Col> cols) throws SQLException {
        StringBuilder ddl = new StringBuilder();
        String columns = "id int";
        String keys = "";
        for (int i = 0; i < cols.size(); i++) {
            columns += ", k" + i + " " + cols.get(i).sqlType();
            keys += (i == 0 ? "" : ", ") + "k" + i;
        }
        for (int m : MODULI) {
            String parent = base + "_m" + m;
            ddl.append("CREATE TABLE ").append(parent).append(" (").append(columns).append(") PARTITION BY HASH (").append(keys)
                    .append(");\n");
            for (int rem = 0; rem < m; rem++) {
                ddl.append("CREATE TABLE ").append(parent).append("_p").append(rem).append(" PARTITION OF ").append(parent)
                        .append(" FOR VALUES WITH (MODULUS ").append(m).append(", REMAINDER ").append(rem).append(");\n");
            }
        }
        execute(ddl.toString());
    }

    /** One statement per table: the values travel as text arrays and PostgreSQL's input functions parse them. */
    private static void insert(String table, Value[][] rows, int n) throws SQLException {
        StringBuilder sql = new StringBuilder("INSERT INTO ").append(table).append(" SELECT u.id");
        for (int i = 0; i < n; i++) {
            sql.append(", u.k").append(i).append("::").append(columnType(table, i));
        }
        sql.append(" FROM unnest(?::int[]");
        for (int i = 0; i < n; i++) {
            sql.append(", ?::text[]");
        }
        sql.append(") AS u(id");
        for (int i = 0; i < n; i++) {
            sql.append(", k").append(i);
        }
        sql.append(')');
        Integer[] ids = new Integer[rows.length];
        String[][] texts = new String[n][rows.length];
        for (int id = 0; id < rows.length; id++) {
            ids[id] = id;
            for (int i = 0; i < n; i++) {
                texts[i][id] = rows[id][i].sql();
            }
        }
        try (PreparedStatement ps = conn.prepareStatement(sql.toString())) {
            ps.setArray(1, conn.createArrayOf("int4", ids));
            for (int i = 0; i < n; i++) {
                Array a = conn.createArrayOf("text", texts[i]);
                ps.setArray(2 + i, a);
            }
            assertThat(ps.executeUpdate()).isEqualTo(rows.length);
        }
    }

    /** The declared type of column k{i}, so the text is cast with the column's typmod (char(12) pads, varchar(20) checks). */
    private static String columnType(String table, int i) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(
                "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = ?::regclass AND attname = ?")) {
            ps.setString(1, table);
            ps.setString(2, "k" + i);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    /** The server's own hash support function for the type (pg_amproc, support 2), or NULL where SQL cannot call it. */
    private static String serverHash(KeyType type, String col) {
        String s = Long.toString(SEED);
        return switch (type) {
            case SMALLINT -> "hashint2extended(" + col + ", " + s + ")";
            case INTEGER -> "hashint4extended(" + col + ", " + s + ")";
            case BIGINT -> "hashint8extended(" + col + ", " + s + ")";
            case TEXT, VARCHAR -> "hashtextextended(" + col + ", " + s + ")";
            case BPCHAR -> "hashbpcharextended(" + col + ", " + s + ")";
            case UUID -> "uuid_hash_extended(" + col + ", " + s + ")";
            case NUMERIC -> "hash_numeric_extended(" + col + ", " + s + ")";
            // date_ops calls hashint4extended on the day number; SQL only reaches it through date - date, finite dates only
            case DATE -> "CASE WHEN isfinite(" + col + ") THEN hashint4extended(" + col + " - date '2000-01-01', " + s + ") END";
            case TIMESTAMP -> "timestamp_hash_extended(" + col + ", " + s + ")";
            case TIMESTAMPTZ -> "timestamp_hash_extended(" + col + " AT TIME ZONE 'UTC', " + s + ")";
            case BOOLEAN -> "hashcharextended(" + col + "::int::\"char\", " + s + ")";
        };
    }

    private static void execute(String sql) throws SQLException {
        try (Statement st = conn.createStatement()) {
            st.execute(sql);
        }
    }

    // ---- PostgreSQL behaviour the router has to refuse rather than hash ----------------------------

    /**
     * With a nondeterministic collation PostgreSQL hashes the collation's sort key, not the bytes: 'abc' and
     * 'ABC' land in the same partition. The partition key's collation may even differ from the column's.
     * The router hashes bytes, so such keys must be refused when the table is planned.
     */
    @Test
    void nondeterministicCollationIsNotHashedByBytes() throws SQLException {
        try (Statement st = conn.createStatement()) {
            ResultSet icu = st.executeQuery("SELECT count(*) FROM pg_collation WHERE collprovider = 'i'");
            icu.next();
            if (icu.getLong(1) == 0) {
                System.out.println("server has no ICU collations; nondeterministic collation check skipped");
                return;
            }
            st.execute("CREATE COLLATION IF NOT EXISTS ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)");
            st.execute("CREATE TABLE nd (id int, k text COLLATE \"C\") PARTITION BY HASH (k COLLATE ci)");
            for (int rem = 0; rem < 16; rem++) {
                st.execute("CREATE TABLE nd_p" + rem + " PARTITION OF nd FOR VALUES WITH (MODULUS 16, REMAINDER " + rem + ")");
            }
            st.execute("INSERT INTO nd SELECT g, CASE WHEN g % 2 = 0 THEN 'key' || g / 2 ELSE upper('key' || g / 2) END"
                    + " FROM generate_series(0, 199) g");
            ResultSet rs = st.executeQuery("SELECT k, tableoid::regclass::text FROM nd ORDER BY id");
            KeyHasher bytes = KeyHasher.of(KeyType.TEXT);
            int sameAsPostgres = 0;
            int rows = 0;
            Map<String, String> partitionOfLowerKey = new LinkedHashMap<>();
            while (rs.next()) {
                String k = rs.getString(1);
                String part = rs.getString(2);
                int pgRemainder = Integer.parseInt(part.substring(part.lastIndexOf("_p") + 2));
                rows++;
                if (bytes.remainder(new Object[] {k}, 16) == pgRemainder) {
                    sameAsPostgres++;
                }
                String previous = partitionOfLowerKey.putIfAbsent(k.toLowerCase(), part);
                if (previous != null) {
                    assertThat(part).as("'%s' and its lower-case twin share a partition", k).isEqualTo(previous);
                }
            }
            REPORT.put("text COLLATE ci (nondeterministic)",
                    String.format("%6d rows: router byte hash agrees with postgres for only %d -> must be refused", rows, sameAsPostgres));
            assertThat(sameAsPostgres).isLessThan(rows / 2);
        }
    }

    // ---- value generators ---------------------------------------------------------------------

    interface LongToJava {
        Object apply(long v);
    }

    private static Gen ints(long min, long max, LongToJava box) {
        return new Gen() {
            @Override
            public List<Value> edges() {
                List<Value> e = new ArrayList<>();
                for (long v : new long[] {min, min + 1, max, max - 1, 0, 1, -1, 2, -2, 42, 255, 256, 65535, 65536,
                        Integer.MAX_VALUE, Integer.MIN_VALUE, 1L << 32, -(1L << 32), (1L << 32) + 1, -(1L << 32) - 1}) {
                    if (v >= min && v <= max) {
                        e.add(new Value(box.apply(v), Long.toString(v)));
                    }
                }
                return e;
            }

            @Override
            public Value random(Random r) {
                long v;
                switch (r.nextInt(3)) {
                    case 0 -> v = r.nextInt(2001) - 1000;
                    case 1 -> v = r.nextLong();
                    default -> v = r.nextLong() >> r.nextInt(64);
                }
                if (max - min != -1) {
                    // not the full int8 range: fold into [min, max]
                    v = min + Math.floorMod(v - min, max - min + 1);
                }
                // the router also gets other integral Java types, as a CDC converter might hand it
                Object java = switch (r.nextInt(8)) {
                    case 0 -> BigInteger.valueOf(v);
                    case 1 -> BigDecimal.valueOf(v);
                    case 2 -> v;
                    default -> box.apply(v);
                };
                return new Value(java, Long.toString(v));
            }
        };
    }

    /** Code point pools: ASCII, Latin-1, Greek/Cyrillic, combining marks, CJK, 4-byte emoji and math letters. */
    private static final int[][] POOLS = {
        {0x20, 0x7E}, {0xA0, 0xFF}, {0x370, 0x4FF}, {0x300, 0x36F}, {0x4E00, 0x9FFF}, {0x1F300, 0x1FAFF}, {0x1D400, 0x1D7FF},
    };

    private static String randomString(Random r, int maxChars, boolean trailingBlanks) {
        int len = r.nextInt(maxChars + 1);
        StringBuilder sb = new StringBuilder();
        int[] pool = POOLS[r.nextInt(r.nextBoolean() ? 1 : POOLS.length)];
        while (sb.length() < len) {
            if (r.nextInt(6) == 0) {
                pool = POOLS[r.nextInt(POOLS.length)];
            }
            int cp = pool[0] + r.nextInt(pool[1] - pool[0] + 1);
            if (Character.charCount(cp) + sb.length() > len) {
                break;
            }
            sb.appendCodePoint(cp);
        }
        if (trailingBlanks && sb.length() < maxChars && r.nextBoolean()) {
            sb.append(" ".repeat(r.nextInt(maxChars - sb.length() + 1)));
        }
        return sb.toString();
    }

    private static final List<String> STRING_EDGES = List.of(
            "", " ", "  ", "a", "A", "abc", "abc ", " abc", "NULL", "null", "\\", "\"", "'", "{}", "{a,b}", ",",
            "tab\there", "line\nbreak", "cr\rlf", "ü", "€", "𝄞", "👍🏽", "e\u0301", "\u00e9", "a\u0308\u0301", "日本語",
            "Ωμέγα", "кириллица", "\uFEFFbom", "\u00A0nbsp\u00A0", "😀😀😀😀", "abcdefghijkl", "abcdefghijklm",
            "x".repeat(11), "y".repeat(12), "z".repeat(13), "0123456789".repeat(3));

    /** Unbounded strings: the edges, long (TOASTed) values and random unicode. */
    private static Gen strings(int maxChars, boolean trailingBlanks) {
        return new Gen() {
            @Override
            public List<Value> edges() {
                List<Value> e = new ArrayList<>();
                for (String s : STRING_EDGES) {
                    e.add(new Value(s, s));
                }
                for (String s : List.of("long ".repeat(400), "x".repeat(20_000), "ü€𝄞".repeat(3000), "trailing" + " ".repeat(100))) {
                    e.add(new Value(s, s));
                }
                return e;
            }

            @Override
            public Value random(Random r) {
                String s = randomString(r, maxChars, trailingBlanks);
                return new Value(s, s);
            }
        };
    }

    /** Strings that fit a varchar(n) / char(n) column; for char(n) the router may get the value with or without its padding. */
    private static Gen bounded(int n, boolean bpchar) {
        return new Gen() {
            @Override
            public List<Value> edges() {
                List<Value> e = new ArrayList<>();
                for (String s : STRING_EDGES) {
                    if (s.codePointCount(0, s.length()) <= n) {
                        e.add(new Value(s, s));
                    }
                }
                e.add(new Value(" ".repeat(n), " ".repeat(n)));
                e.add(new Value("w".repeat(n), "w".repeat(n)));
                e.add(new Value("𝄞".repeat(n), "𝄞".repeat(n)));
                if (bpchar) {
                    // PostgreSQL pads char(n) to n and drops blanks beyond n; the router sees the padded form here
                    e.add(new Value("ab" + " ".repeat(n - 2), "ab"));
                    e.add(new Value("ab", "ab" + " ".repeat(n + 5)));
                }
                return e;
            }

            @Override
            public Value random(Random r) {
                String s = randomString(r, n, bpchar);
                if (s.codePointCount(0, s.length()) > n) {
                    s = s.substring(0, s.offsetByCodePoints(0, n));
                }
                return new Value(s, s);
            }
        };
    }

    private static Gen uuids() {
        return new Gen() {
            @Override
            public List<Value> edges() {
                List<Value> e = new ArrayList<>();
                for (java.util.UUID u : List.of(new java.util.UUID(0, 0), new java.util.UUID(-1, -1), new java.util.UUID(0, 1),
                        new java.util.UUID(Long.MIN_VALUE, 0), java.util.UUID.fromString("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"))) {
                    e.add(new Value(u, u.toString()));
                }
                e.add(new Value("{A0EEBC99-9C0B4EF8-BB6D-6BB9BD380A11}", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));
                e.add(new Value("a0eebc999c0b4ef8bb6d6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));
                return e;
            }

            @Override
            public Value random(Random r) {
                java.util.UUID u = new java.util.UUID(r.nextLong(), r.nextLong());
                String text = r.nextBoolean() ? u.toString() : u.toString().toUpperCase();
                return new Value(r.nextInt(4) == 0 ? text : u, u.toString());
            }
        };
    }

    private static Gen numerics() {
        return new Gen() {
            @Override
            public List<Value> edges() {
                List<Value> e = new ArrayList<>();
                for (String s : List.of("0", "-0", "0.000", "1", "-1", "1.5", "1.500", "-1.5", "0.1", "0.0001", "0.00001",
                        "9999", "10000", "10001", "99999999", "100000000", "1e-300", "-1e-300", "1e300", "1e-1000", "1e1000",
                        "123456789012345678901234567890.123456789012345678901234567890", "-0.000000000000000000001",
                        "3.14159265358979323846264338327950288419716939937510", "1000000000000000000000000000000.0000")) {
                    e.add(new Value(new BigDecimal(s), s));
                }
                e.add(new Value("NaN", "NaN"));
                e.add(new Value("Infinity", "Infinity"));
                e.add(new Value("-Infinity", "-Infinity"));
                e.add(new Value("-inf", "-inf"));
                e.add(new Value(Long.MAX_VALUE, Long.toString(Long.MAX_VALUE)));
                e.add(new Value(Long.MIN_VALUE, Long.toString(Long.MIN_VALUE)));
                e.add(new Value(42, "42"));
                return e;
            }

            @Override
            public Value random(Random r) {
                int digits = 1 + r.nextInt(r.nextBoolean() ? 8 : 60);
                StringBuilder sb = new StringBuilder();
                for (int i = 0; i < digits; i++) {
                    sb.append((char) ('0' + r.nextInt(10)));
                }
                BigDecimal d = new BigDecimal(new BigInteger(sb.toString()), r.nextInt(50) - 10);
                if (r.nextInt(4) == 0) {
                    d = d.setScale(Math.max(d.scale(), 0) + r.nextInt(8)); // trailing zeros, like 1.500
                }
                if (r.nextBoolean()) {
                    d = d.negate();
                }
                String text = r.nextBoolean() ? d.toString() : d.toPlainString();
                Object java = d;
                int form = r.nextInt(6);
                if (form == 0) {
                    java = text;
                } else if (form == 1 && d.scale() <= 0 && d.precision() - d.scale() <= 18) {
                    java = d.longValueExact();
                }
                return new Value(java, text);
            }
        };
    }

    private static final LocalDate DATE_MIN = LocalDate.of(-4713, 11, 24);
    private static final LocalDate DATE_MAX = LocalDate.of(5874897, 12, 31);
    private static final LocalDateTime TS_MIN = LocalDateTime.of(-4713, 11, 24, 0, 0);
    private static final LocalDateTime TS_MAX = LocalDateTime.of(294276, 12, 31, 23, 59, 59, 999_999_000);
    private static final LocalDateTime PG_EPOCH = LocalDateTime.of(2000, 1, 1, 0, 0);

    private static String dateText(LocalDate d) {
        int y = d.getYear();
        return String.format("%04d-%02d-%02d%s", y > 0 ? y : 1 - y, d.getMonthValue(), d.getDayOfMonth(), y > 0 ? "" : " BC");
    }

    private static String timestampText(LocalDateTime t, String zone) {
        int y = t.getYear();
        return String.format("%04d-%02d-%02d %02d:%02d:%02d.%06d%s%s", y > 0 ? y : 1 - y, t.getMonthValue(), t.getDayOfMonth(),
                t.getHour(), t.getMinute(), t.getSecond(), t.getNano() / 1000, zone, y > 0 ? "" : " BC");
    }

    private static Gen dates() {
        return new Gen() {
            @Override
            public List<Value> edges() {
                List<Value> e = new ArrayList<>();
                for (LocalDate d : List.of(DATE_MIN, DATE_MIN.plusDays(1), DATE_MAX, DATE_MAX.minusDays(1), PG_EPOCH.toLocalDate(),
                        LocalDate.of(1999, 12, 31), LocalDate.of(1970, 1, 1), LocalDate.of(1, 1, 1), LocalDate.of(0, 12, 31),
                        LocalDate.of(2024, 2, 29), LocalDate.of(9999, 12, 31), LocalDate.of(10000, 1, 1))) {
                    e.add(new Value(d, dateText(d)));
                }
                e.add(new Value("infinity", "infinity"));
                e.add(new Value("-infinity", "-infinity"));
                e.add(new Value(LocalDate.MAX, "infinity"));
                e.add(new Value(LocalDate.MIN, "-infinity"));
                return e;
            }

            @Override
            public Value random(Random r) {
                LocalDate d = r.nextBoolean()
                        ? LocalDate.ofEpochDay(DATE_MIN.toEpochDay() + (long) (r.nextDouble() * (DATE_MAX.toEpochDay() - DATE_MIN.toEpochDay())))
                        : LocalDate.of(1900, 1, 1).plusDays(r.nextInt(73_000));
                return new Value(d, dateText(d));
            }
        };
    }

    private static LocalDateTime randomTimestamp(Random r) {
        if (r.nextBoolean()) {
            // the whole range is wider than a long: go from the PostgreSQL epoch, in double
            double min = ChronoUnit.MICROS.between(PG_EPOCH, TS_MIN);
            double max = ChronoUnit.MICROS.between(PG_EPOCH, TS_MAX);
            long micros = (long) (min + r.nextDouble() * (max - min) * 0.9999999);
            return PG_EPOCH.plus(micros, ChronoUnit.MICROS);
        }
        return LocalDateTime.of(1900, 1, 1, 0, 0).plus((long) (r.nextDouble() * 200 * 365.25 * 86_400_000_000L), ChronoUnit.MICROS);
    }

    private static final List<LocalDateTime> TIMESTAMP_EDGES = List.of(TS_MIN, TS_MIN.plusNanos(1000), TS_MAX, PG_EPOCH,
            PG_EPOCH.minusNanos(1000), LocalDateTime.of(1970, 1, 1, 0, 0), LocalDateTime.of(0, 12, 31, 23, 59, 59, 999_999_000),
            LocalDateTime.of(2024, 2, 29, 12, 34, 56, 789_012_000), LocalDateTime.of(2038, 1, 19, 3, 14, 8));

    private static Gen timestamps() {
        return new Gen() {
            @Override
            public List<Value> edges() {
                List<Value> e = new ArrayList<>();
                for (LocalDateTime t : TIMESTAMP_EDGES) {
                    e.add(new Value(t, timestampText(t, "")));
                }
                e.add(new Value("infinity", "infinity"));
                e.add(new Value(LocalDateTime.MIN, "-infinity"));
                e.add(new Value(LocalDateTime.MAX, "infinity"));
                return e;
            }

            @Override
            public Value random(Random r) {
                LocalDateTime t = randomTimestamp(r);
                return new Value(t, timestampText(t, ""));
            }
        };
    }

    private static final List<ZoneOffset> OFFSETS = List.of(ZoneOffset.UTC, ZoneOffset.ofHoursMinutes(5, 30), ZoneOffset.ofHours(-8),
            ZoneOffset.ofHours(14), ZoneOffset.ofHoursMinutesSeconds(-3, -25, -12));

    private static Gen timestamptzs() {
        return new Gen() {
            @Override
            public List<Value> edges() {
                List<Value> e = new ArrayList<>();
                for (LocalDateTime t : TIMESTAMP_EDGES) {
                    e.add(new Value(t.atOffset(ZoneOffset.UTC), timestampText(t, "+00")));
                    e.add(new Value(t.toInstant(ZoneOffset.UTC), timestampText(t, "+00")));
                }
                e.add(new Value(OffsetDateTime.MAX, "infinity"));
                e.add(new Value(OffsetDateTime.MIN, "-infinity"));
                e.add(new Value("-infinity", "-infinity"));
                return e;
            }

            @Override
            public Value random(Random r) {
                LocalDateTime utc = randomTimestamp(r);
                String text = timestampText(utc, "+00");
                Instant instant = utc.toInstant(ZoneOffset.UTC);
                // the same instant at another offset: the router must hash the instant, not the wall clock
                Object java = r.nextBoolean() ? instant
                        : instant.atOffset(OFFSETS.get(r.nextInt(OFFSETS.size())));
                return new Value(java, text);
            }
        };
    }

    private static Gen bools() {
        return new Gen() {
            @Override
            public List<Value> edges() {
                return List.of(new Value(true, "true"), new Value(false, "false"));
            }

            @Override
            public Value random(Random r) {
                boolean b = r.nextBoolean();
                return new Value(b, Boolean.toString(b));
            }
        };
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 40) + "...(" + s.length() + " chars)";
    }
}
