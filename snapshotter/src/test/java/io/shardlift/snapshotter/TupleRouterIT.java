package io.shardlift.snapshotter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlift.core.hash.KeyHasher;
import io.shardlift.core.hash.KeyType;
import io.shardlift.core.plan.TablePlan;
import io.shardlift.embedded.PgNode;
import java.io.ByteArrayOutputStream;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyOut;

/**
 * The copy's hot path against PostgreSQL's own choice: rows of a real hash-partitioned table, read back as the
 * binary COPY the snapshot reads, go to the node owning the partition PostgreSQL put each row in. Values come from
 * PostgreSQL's random() under a fixed setseed, so a run replays.
 */
class TupleRouterIT {

    static final int ROWS = 3_000;
    static PgNode node;

    @BeforeAll
    static void start() {
        node = PgNode.start("tuplerouter");
        node.createDatabase("route");
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            node.close();
        }
    }

    /** One key shape: the key columns' DDL and how to fill them, their types, partitions and nodes. */
    record Shape(String name, String keyDdl, String keyValues, List<KeyType> types, int partitions, int nodes) {
    }

    static final List<Shape> SHAPES = List.of(
            new Shape("big", "k bigint", "(random() * 9e18)::bigint - 4500000000000000000", List.of(KeyType.BIGINT), 8, 3),
            new Shape("txt", "k text", "md5(random()::text) || repeat('é', g % 4)", List.of(KeyType.TEXT), 6, 4),
            new Shape("two", "k int, k2 uuid", "(random() * 2e9)::bigint - 1000000000, md5(random()::text)::uuid",
                    List.of(KeyType.INTEGER, KeyType.UUID), 5, 2),
            new Shape("num", "k numeric", "round((random() * 1e6)::numeric, (g % 4))", List.of(KeyType.NUMERIC), 4, 4));

    @Test
    void everyRowGoesToTheNodeOfThePartitionPostgresqlChose() throws Exception {
        for (Shape s : SHAPES) {
            Map<Long, Integer> postgres = load(s);
            Map<Long, Integer> routed = new HashMap<>();
            IdSink[] sinks = IntStream.range(0, s.nodes()).mapToObj(n -> new IdSink(n, routed)).toArray(IdSink[]::new);
            TupleRouter router = router(s, sinks);
            for (byte[] msg : copyOut("SELECT id, " + keyColumns(s) + ", payload FROM " + s.name())) {
                router.accept(msg, 0, msg.length);
            }
            assertThat(router.complete()).as(s.name()).isTrue();
            assertThat(router.rows()).as(s.name()).isEqualTo(ROWS);
            assertThat(routed).as(s.name() + ": the node of each row's partition").isEqualTo(postgres);
        }
    }

    @Test
    void manyTuplesInOneMessageRouteAsOneTupleAMessageDoes() throws Exception {
        Shape s = SHAPES.get(0);
        Map<Long, Integer> postgres = load(s);
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (byte[] msg : copyOut("SELECT id, k, payload FROM " + s.name())) {
            all.write(msg);
        }
        Map<Long, Integer> routed = new HashMap<>();
        TupleRouter router = router(s, IntStream.range(0, s.nodes()).mapToObj(n -> new IdSink(n, routed)).toArray(IdSink[]::new));
        byte[] one = all.toByteArray();
        router.accept(one, 0, one.length);
        assertThat(router.complete()).isTrue();
        assertThat(routed).isEqualTo(postgres);
    }

    @Test
    void aReferenceTableGoesToEveryNodeStillWantingItAndANullKeyIsRefused() throws Exception {
        Shape s = SHAPES.get(0);
        load(s);
        Map<Long, Integer> node0 = new HashMap<>();
        Map<Long, Integer> node2 = new HashMap<>();
        // node 1 already holds this chunk: its sink is null and it gets nothing
        TupleSink[] sinks = {new IdSink(0, node0), null, new IdSink(2, node2)};
        TupleRouter reference = new TupleRouter(3, new int[0], null, 1, new int[] {0}, sinks);
        for (byte[] msg : copyOut("SELECT id, k, payload FROM " + s.name())) {
            reference.accept(msg, 0, msg.length);
        }
        assertThat(node0).hasSize(ROWS);
        assertThat(node2.keySet()).isEqualTo(node0.keySet());

        node.execute("route", "CREATE TABLE nullkey (id bigint, k bigint, payload text)",
                "INSERT INTO nullkey VALUES (1, 5, 'a'), (2, NULL, 'b')");
        TupleRouter router = router(s, IntStream.range(0, s.nodes()).mapToObj(n -> new IdSink(n, new HashMap<>()))
                .toArray(IdSink[]::new));
        assertThatThrownBy(() -> {
            for (byte[] msg : copyOut("SELECT id, k, payload FROM nullkey")) {
                router.accept(msg, 0, msg.length);
            }
        }).isInstanceOf(IllegalStateException.class).hasMessageContaining("NULL in the sharding key");
    }

    static TupleRouter router(Shape s, TupleSink[] sinks) {
        int[] keyFields = IntStream.rangeClosed(1, s.types().size()).toArray();
        int[] nodeOfPartition = IntStream.range(0, s.partitions()).map(p -> TablePlan.nodeOf(p, s.nodes())).toArray();
        return new TupleRouter(2 + s.types().size(), keyFields, new KeyHasher(s.types()), s.partitions(), nodeOfPartition, sinks);
    }

    static String keyColumns(Shape s) {
        return s.types().size() == 1 ? "k" : "k, k2";
    }

    /** Creates the shape's partitioned table (once) and returns, per row id, the node of the partition PostgreSQL chose. */
    static Map<Long, Integer> load(Shape s) throws SQLException {
        try (Connection c = node.connect("route"); Statement st = c.createStatement()) {
            st.execute("DROP TABLE IF EXISTS " + s.name());
            st.execute("CREATE TABLE " + s.name() + " (id bigint, " + s.keyDdl() + ", payload text) PARTITION BY HASH ("
                    + keyColumns(s) + ")");
            for (int p = 0; p < s.partitions(); p++) {
                st.execute("CREATE TABLE " + s.name() + "_" + p + " PARTITION OF " + s.name() + " FOR VALUES WITH (MODULUS "
                        + s.partitions() + ", REMAINDER " + p + ")");
            }
            st.execute("SELECT setseed(0.4242)");
            st.execute("INSERT INTO " + s.name() + " SELECT g, " + s.keyValues() + ", repeat('x', g % 50) FROM generate_series(1, "
                    + ROWS + ") g");
            Map<Long, Integer> out = new HashMap<>();
            try (ResultSet rs = st.executeQuery("SELECT id, tableoid::regclass::text FROM " + s.name())) {
                while (rs.next()) {
                    String part = rs.getString(2);
                    int p = Integer.parseInt(part.substring(part.lastIndexOf('_') + 1));
                    out.put(rs.getLong(1), TablePlan.nodeOf(p, s.nodes()));
                }
            }
            assertThat(out).hasSize(ROWS);
            return out;
        }
    }

    /** The CopyData messages of a binary COPY, as the snapshot receives them. */
    static List<byte[]> copyOut(String query) throws SQLException {
        List<byte[]> out = new ArrayList<>();
        try (Connection c = node.connect("route")) {
            CopyOut copy = c.unwrap(PGConnection.class).getCopyAPI().copyOut("COPY (" + query + ") TO STDOUT (FORMAT binary)");
            byte[] msg;
            while ((msg = copy.readFromCopy()) != null) {
                out.add(msg);
            }
        }
        return out;
    }

    /** Records, per row id (the tuple's first field, a bigint), the node whose sink got the row. */
    record IdSink(int node, Map<Long, Integer> seen) implements TupleSink {
        @Override
        public void write(byte[] buf, int off, int len) {
            long id = 0;
            for (int i = 0; i < 8; i++) {
                id = id << 8 | (buf[off + 2 + 4 + i] & 0xff); // field count (2 bytes), length (4), then the value
            }
            Integer before = seen.put(id, node);
            assertThat(before).as("row " + id + " routed twice").isNull();
        }
    }
}
