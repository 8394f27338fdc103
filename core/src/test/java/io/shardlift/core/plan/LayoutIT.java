package io.shardlift.core.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlift.core.route.Router;
import io.shardlift.core.TableId;
import io.shardlift.core.route.TableRoute;
import io.shardlift.core.TargetException;
import io.shardlift.core.catalog.SourceCatalog;
import io.shardlift.core.plan.LayoutApplier.NodeResult;
import io.shardlift.core.plan.LayoutApplier.Stage;
import io.shardlift.core.spec.MigrationSpec;
import io.shardlift.testkit.Datasets;
import io.shardlift.embedded.PgCluster;
import io.shardlift.embedded.PgNode;
import io.shardlift.testkit.SpecWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The layout of DESIGN.md built for real on a source and four nodes, for the two seed schemas: rows
 * inserted through any node's parent land in the partition and on the node the router names, and a
 * query that names the key touches one partition.
 */
class LayoutIT {

    static PgCluster cluster;

    @BeforeAll
    static void start() throws SQLException {
        cluster = PgCluster.start("layout", 4, "sensors");
        cluster.source().createDatabase("airline");
        cluster.nodes().forEach(n -> n.createDatabase("airline"));
        try (Connection c = cluster.source().connect("sensors")) {
            Datasets.createSensors(c);
            Datasets.loadSensors(c, 10, 100, 2_000);
        }
        try (Connection c = cluster.source().connect("airline")) {
            Datasets.createAirline(c);
        }
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** A spec from {@code db} on the source to {@code db} on every node, the sensor tables unless the test sets others. */
    static SpecWriter spec(String db) {
        List<String> nodes = new ArrayList<>();
        for (int i = 0; i < cluster.nodes().size(); i++) {
            PgNode n = cluster.nodes().get(i);
            // both connection-string forms the spec accepts
            nodes.add(i % 2 == 0 ? n.connstr(db) : n.url(db));
        }
        return SpecWriter.from(cluster.source().connstr(db)).nodes(nodes);
    }

    static MigrationSpec sensorsSpec() {
        return Specs.parse(spec("sensors").jobs(2).batch(2000).kafka("embedded").yaml());
    }

    static ClusterPlan plan(MigrationSpec spec) throws SQLException {
        try (Connection c = cluster.source().connect(spec.source().dbname())) {
            return SchemaPlanner.plan(spec, SourceCatalog.read(c, spec.schemas().stream().map(s -> s.name()).toList()));
        }
    }

    @Test
    void sensorSchemaRoutesRowsWherePostgresPutsThemAndPrunesToOnePartition() throws Exception {
        ClusterPlan plan = plan(sensorsSpec());
        assertThat(plan.tables()).extracting(t -> t.id().name()).containsExactly("device_types", "devices", "events");
        assertThat(plan.warnings()).anyMatch(w -> w.contains("events_pkey") && w.contains("(event_id, device_id)"));

        List<NodeResult> first = LayoutApplier.apply(plan, EnumSet.of(Stage.TABLES, Stage.INDEXES));
        assertThat(first).allMatch(r -> !r.alreadyLaidOut());
        String before = layoutSnapshot(cluster.nodes().get(1), "sensors");
        // run twice = same result
        // a live source moves its sequences between two runs: still the same layout
        cluster.source().execute("sensors", "SELECT setval('public.events_event_id_seq', nextval('public.events_event_id_seq') + 1000)");
        List<NodeResult> second = LayoutApplier.apply(plan(sensorsSpec()), EnumSet.of(Stage.TABLES, Stage.INDEXES));
        assertThat(second).allMatch(NodeResult::alreadyLaidOut);
        assertThat(layoutSnapshot(cluster.nodes().get(1), "sensors")).isEqualTo(before);

        Router router = Router.of(plan);
        TableRoute devices = router.table(new TableId("public", "devices"));
        TableRoute events = router.table(new TableId("public", "events"));

        // reference table: every node has its own full copy, which a write through any node reaches
        cluster.nodes().get(2).execute("sensors", "INSERT INTO public.device_types VALUES (1, 'thermometer'), (2, 'hygrometer')");
        for (PgNode n : cluster.nodes()) {
            try (Connection c = n.connect("sensors"); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT count(*) FROM public.device_types")) {
                rs.next();
                assertThat(rs.getLong(1)).as(n.name()).isEqualTo(2);
            }
        }
        // insert through EVERY node's parent table; each row must land where the router says
        int devicesInserted = 0;
        for (int k = 0; k < cluster.nodes().size(); k++) {
            try (Connection c = cluster.nodes().get(k).connect("sensors");
                 PreparedStatement ps = c.prepareStatement("INSERT INTO public.devices (device_id, device_type_id, name) VALUES (?, 1, ?)");
                 PreparedStatement ev = c.prepareStatement("INSERT INTO public.events (device_id, payload) VALUES (?, '{\"temperature\": 50}')")) {
                for (int id = k * 250 - 500; id < k * 250 - 250; id++) { // negatives too
                    ps.setInt(1, id);
                    ps.setString(2, "device " + id);
                    ps.addBatch();
                    ev.setInt(1, id);
                    ev.addBatch();
                    devicesInserted++;
                }
                ps.executeBatch();
                ev.executeBatch();
            }
        }
        assertPlacement(devices, "public.devices", "device_id", devicesInserted);
        assertPlacement(events, "public.events", "device_id", devicesInserted);

        // the same rows are visible from any node
        for (PgNode n : cluster.nodes()) {
            assertThat(count(n, "sensors", "SELECT count(*) FROM public.events")).isEqualTo(devicesInserted);
        }

        // sequences interleave: node k hands out ids congruent to k modulo N, never the same id twice
        List<Long> ids = new ArrayList<>();
        for (PgNode n : cluster.nodes()) {
            ids.add(count(n, "sensors", "SELECT nextval('public.events_event_id_seq')"));
        }
        assertThat(ids).doesNotHaveDuplicates();
        assertThat(ids.stream().map(v -> Math.floorMod(v - ids.get(0), 4)).collect(Collectors.toSet())).hasSize(4);

        // query plans: with device_id = 42, one partition; without, all eight
        String pruned = explain(cluster.nodes().get(0), "sensors", Datasets.outlierQueryFor(42));
        String all = explain(cluster.nodes().get(0), "sensors", Datasets.OUTLIER_QUERY);
        Set<String> prunedParts = partitionsIn(pruned, "events");
        assertThat(prunedParts).containsExactly("events_" + events.partitionOf(new Object[] {42}));
        assertThat(partitionsIn(all, "events")).as(all).hasSize(8);
        System.out.println("EXPLAIN with device_id = 42 on node 0:\n" + pruned + "\nEXPLAIN without the key:\n" + all);

        // foreign keys at cutover: added NOT VALID, then validated, on every node's local partitions
        LayoutApplier.apply(plan, EnumSet.of(Stage.FOREIGN_KEYS, Stage.VALIDATE_FOREIGN_KEYS));
        LayoutApplier.apply(plan, EnumSet.of(Stage.FOREIGN_KEYS, Stage.VALIDATE_FOREIGN_KEYS));
        for (int k = 0; k < 4; k++) {
            long fks = count(cluster.nodes().get(k), "sensors",
                    "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND convalidated AND conrelid::regclass::text LIKE 'events_%'");
            assertThat(fks).isEqualTo(2); // two local partitions of events per node, each referencing devices_i
        }
    }

    @Test
    void airlineSchemaShardedByTicketNo() throws Exception {
        String yaml = spec("airline").schemas("""
                    - name: bookings
                      tables:
                        - {name: airports, type: global, priority: 3}
                        - {name: aircrafts, type: global, priority: 3}
                        - {name: seats, type: global, priority: 3}
                        - {name: bookings, type: global, priority: 3}
                        - {name: flights, type: global, priority: 3}
                        - {name: tickets, type: sharded, distributedby: ticket_no, partitions: 4, priority: 2}
                        - {name: ticket_flights, type: sharded, distributedby: ticket_no, colocatewith: tickets, priority: 2}
                        - {name: boarding_passes, type: sharded, distributedby: ticket_no, colocatewith: tickets, widen_unique: true, priority: 1}
                """).yaml();
        ClusterPlan plan = plan(Specs.parse(yaml));
        assertThat(plan.warnings()).anyMatch(w -> w.contains("boarding_passes_flight_id_seat_no_key")
                && w.contains("(flight_id, seat_no, ticket_no)") && w.contains("no longer enforced unique across the cluster"));
        LayoutApplier.apply(plan, EnumSet.of(Stage.TABLES, Stage.INDEXES));
        assertThat(LayoutApplier.apply(plan, EnumSet.of(Stage.TABLES, Stage.INDEXES))).allMatch(NodeResult::alreadyLaidOut);

        for (PgNode n : cluster.nodes()) {
            // each copy filled on its own, as the snapshot copy does
            n.execute("airline", GlobalFanout.MARK_SESSION,
                    "INSERT INTO bookings.bookings VALUES ('B00001', now(), 100.00)",
                    "INSERT INTO bookings.aircrafts VALUES ('773', 'Boeing 777-300', 11100)",
                    "INSERT INTO bookings.airports VALUES ('DME', 'Domodedovo', 'Moscow', 37.9, 55.4, 'Europe/Moscow'),"
                            + " ('LED', 'Pulkovo', 'St. Petersburg', 30.2, 59.8, 'Europe/Moscow')",
                    "INSERT INTO bookings.flights (flight_id, flight_no, scheduled_departure, scheduled_arrival, departure_airport,"
                            + " arrival_airport, status, aircraft_code) VALUES (1, 'PG0001', now(), now() + interval '1 hour', 'DME', 'LED', 'Scheduled', '773')");
        }
        int inserted = 0;
        for (int k = 0; k < 4; k++) {
            try (Connection c = cluster.nodes().get(k).connect("airline");
                 PreparedStatement t = c.prepareStatement("INSERT INTO bookings.tickets VALUES (?, 'B00001', ?, 'PASSENGER', NULL)");
                 PreparedStatement tf = c.prepareStatement("INSERT INTO bookings.ticket_flights VALUES (?, 1, 'Economy', 10.00)");
                 PreparedStatement bp = c.prepareStatement("INSERT INTO bookings.boarding_passes VALUES (?, 1, ?, ?)")) {
                for (int i = 0; i < 100; i++) {
                    String ticket = String.format("%013d", 5_432_000_000L + k * 1000L + i);
                    t.setString(1, ticket);
                    t.setString(2, "ID" + k + "-" + i);
                    t.addBatch();
                    tf.setString(1, ticket);
                    tf.addBatch();
                    bp.setString(1, ticket);
                    bp.setInt(2, inserted + 1);
                    bp.setString(3, (inserted % 30 + 1) + "A");
                    bp.addBatch();
                    inserted++;
                }
                t.executeBatch();
                tf.executeBatch();
                bp.executeBatch();
            }
        }
        Router router = Router.of(plan);
        for (String table : List.of("tickets", "ticket_flights", "boarding_passes")) {
            assertPlacementText(router.table(new TableId("bookings", table)), "bookings." + table, inserted);
        }
        // colocated: a ticket's rows in all three tables sit in the same partition number on the same node
        String colocated = "SELECT count(*) FROM bookings.tickets t JOIN bookings.ticket_flights f USING (ticket_no)"
                + " JOIN bookings.boarding_passes b USING (ticket_no, flight_id)"
                + " WHERE right(t.tableoid::regclass::text, 2) <> right(b.tableoid::regclass::text, 2)";
        assertThat(count(cluster.nodes().get(2), "airline", colocated)).isZero();

        LayoutApplier.apply(plan, EnumSet.of(Stage.FOREIGN_KEYS, Stage.VALIDATE_FOREIGN_KEYS));
        long fks = count(cluster.nodes().get(3), "airline", "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND convalidated");
        // node 3 holds partition 3 of tickets (-> bookings), ticket_flights (-> tickets_3, -> flights),
        // boarding_passes (-> ticket_flights_3), plus the global FKs seats -> aircrafts and flights -> airports x2, aircrafts
        assertThat(fks).isEqualTo(4 + 4);
    }

    @Test
    void aNodeLaidOutForAnotherPlanIsRefusedBeforeAnythingIsWritten() throws Exception {
        PgNode node = cluster.nodes().get(0);
        node.createDatabase("drift");
        for (PgNode n : cluster.nodes()) {
            n.createDatabase("drift");
        }
        cluster.source().createDatabase("drift");
        try (Connection c = cluster.source().connect("drift")) {
            Datasets.createSensors(c);
        }
        MigrationSpec eight = Specs.parse(spec("drift").yaml());
        LayoutApplier.apply(plan(eight), EnumSet.of(Stage.TABLES));
        MigrationSpec sixteen = Specs.parse(spec("drift").tables(SpecWriter.sensorTables(16)).yaml());
        assertThatThrownBy(() -> LayoutApplier.apply(plan(sixteen), EnumSet.of(Stage.TABLES)))
                .isInstanceOf(TargetException.class)
                .hasMessageContaining("was laid out by shardlift for a different plan")
                .hasMessageContaining("node 0 (");
        // nothing of the 16-partition layout was written
        assertThat(count(node, "drift", "SELECT count(*) FROM pg_class WHERE relname = 'devices_15'")).isZero();
    }

    // ------------------------------------------------------------------ helpers

    /** Every row sits in the partition the router names, and that partition is a local table on node p mod N. */
    private void assertPlacement(TableRoute route, String table, String key, int expectedRows) throws SQLException {
        int checked = 0;
        for (int k = 0; k < cluster.nodes().size(); k++) {
            try (Connection c = cluster.nodes().get(k).connect("sensors"); Statement st = c.createStatement()) {
                for (int p : route.plan().partitionsOn(k, cluster.nodes().size())) {
                    try (ResultSet rs = st.executeQuery("SELECT " + key + " FROM ONLY " + route.partitionTable(p).quoted())) {
                        while (rs.next()) {
                            assertThat(route.partitionOf(new Object[] {rs.getInt(1)})).as(table + " key " + rs.getInt(1)).isEqualTo(p);
                            assertThat(route.nodeOfPartition(p)).isEqualTo(k);
                            checked++;
                        }
                    }
                }
            }
        }
        assertThat(checked).as("rows of " + table + " found in local partitions").isEqualTo(expectedRows);
    }

    private void assertPlacementText(TableRoute route, String table, int expectedRows) throws SQLException {
        int checked = 0;
        for (int k = 0; k < cluster.nodes().size(); k++) {
            try (Connection c = cluster.nodes().get(k).connect("airline"); Statement st = c.createStatement()) {
                for (int p : route.plan().partitionsOn(k, cluster.nodes().size())) {
                    try (ResultSet rs = st.executeQuery("SELECT ticket_no FROM ONLY " + route.partitionTable(p).quoted())) {
                        while (rs.next()) {
                            assertThat(route.partitionOf(new Object[] {rs.getString(1)})).as(table + " " + rs.getString(1)).isEqualTo(p);
                            checked++;
                        }
                    }
                }
            }
        }
        assertThat(checked).as("rows of " + table).isEqualTo(expectedRows);
    }

    static long count(PgNode node, String db, String sql) throws SQLException {
        try (Connection c = node.connect(db); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static String explain(PgNode node, String db, String query) throws SQLException {
        try (Connection c = node.connect(db); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("EXPLAIN " + query)) {
            StringBuilder sb = new StringBuilder();
            while (rs.next()) {
                sb.append(rs.getString(1)).append('\n');
            }
            return sb.toString();
        }
    }

    static Set<String> partitionsIn(String plan, String table) {
        Matcher m = Pattern.compile("\\bon (?:[\\w\"]+\\.)?\"?(" + table + "_\\d+)\\b").matcher(plan);
        Set<String> out = new java.util.TreeSet<>();
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    /** Catalog snapshot of the layout objects, to show a second apply changes nothing. */
    static String layoutSnapshot(PgNode node, String db) throws SQLException {
        try (Connection c = node.connect(db); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT string_agg(relname || ':' || relkind::text, ',' ORDER BY relname) FROM pg_class c"
                        + " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE nspname IN ('public', 'shardlift')")) {
            rs.next();
            return rs.getString(1) + "|" + count(node, db, "SELECT count(*) FROM pg_constraint c JOIN pg_namespace n"
                    + " ON n.oid = c.connamespace WHERE nspname = 'public'");
        }
    }
}
