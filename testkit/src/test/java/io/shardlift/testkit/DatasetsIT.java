package io.shardlift.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlift.embedded.PgNode;
import io.shardlift.testkit.Datasets.RowDiff;
import io.shardlift.testkit.Datasets.RowDiff.Kind;
import io.shardlift.testkit.Datasets.TableDigest;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Both datasets on a real node, and the comparison helpers every migration test relies on.
 */
class DatasetsIT {

    private static final String DB = "demo";
    private static final long EVENTS = 100_000;

    private static PgNode node;

    @BeforeAll
    static void loadBothDatasets() throws Exception {
        node = PgNode.start("datasets");
        node.createDatabase(DB);
        try (Connection c = node.connect(DB)) {
            Datasets.createSensors(c);
            long t0 = System.nanoTime();
            Datasets.loadSensors(c, Datasets.DEFAULT_DEVICE_TYPES, Datasets.DEFAULT_DEVICES, EVENTS);
            long sensorsMs = (System.nanoTime() - t0) / 1_000_000;

            Datasets.createAirline(c);
            t0 = System.nanoTime();
            Datasets.loadAirline(c, 1);
            long airlineMs = (System.nanoTime() - t0) / 1_000_000;
            System.out.printf("DatasetsIT: loaded %,d sensor events (1,000 devices) in %,d ms; airline scale 1 in %,d ms%n",
                    EVENTS, sensorsMs, airlineMs);
        }
    }

    @AfterAll
    static void stopNode() {
        if (node != null) {
            node.close();
        }
    }

    @Test
    void sensorsHaveTheSeedsShapeAndAreConsistent() throws Exception {
        try (Connection c = node.connect(DB)) {
            assertThat(count(c, "SELECT count(*) FROM public.device_types")).isEqualTo(10);
            assertThat(count(c, "SELECT count(*) FROM public.devices")).isEqualTo(1000);
            assertThat(count(c, "SELECT count(*) FROM public.events")).isEqualTo(EVENTS);
            assertThat(count(c, "SELECT count(*) FROM public.events e "
                    + "WHERE NOT EXISTS (SELECT 1 FROM public.devices d WHERE d.device_id = e.device_id)")).isZero();
            assertThat(count(c, "SELECT count(*) FROM public.devices d "
                    + "WHERE NOT EXISTS (SELECT 1 FROM public.device_types t WHERE t.device_type_id = d.device_type_id)"))
                    .isZero();
            // every device reports, every type is used
            assertThat(count(c, "SELECT count(DISTINCT device_id) FROM public.events")).isEqualTo(1000);
            assertThat(count(c, "SELECT count(DISTINCT device_type_id) FROM public.devices")).isEqualTo(10);

            // the source form: PK on event_id alone, the named FK, the GIN index
            assertThat(strings(c, "SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint "
                    + "WHERE conrelid = 'public.events'::regclass ORDER BY conname")).containsExactly(
                    "events_device_id_fkey FOREIGN KEY (device_id) REFERENCES devices(device_id)",
                    "events_pkey PRIMARY KEY (event_id)");
            assertThat(strings(c, "SELECT indexdef FROM pg_indexes WHERE indexname = 'events_payload_idx'"))
                    .containsExactly("CREATE INDEX events_payload_idx ON public.events USING gin (payload)");

            // payload: both readings in range, realistic size; created_at within the 30 days
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("""
                    SELECT min((payload->>'temperature')::float8), max((payload->>'temperature')::float8),
                           min((payload->>'humidity')::float8), max((payload->>'humidity')::float8),
                           avg(pg_column_size(payload)), avg(length(payload::text)),
                           min(created_at), max(created_at),
                           count(*) FILTER (WHERE payload ?& ARRAY['temperature', 'humidity'])
                    FROM public.events""")) {
                rs.next();
                assertThat(rs.getDouble(1)).isGreaterThanOrEqualTo(40);
                assertThat(rs.getDouble(2)).isLessThan(80);
                assertThat(rs.getDouble(3)).isGreaterThanOrEqualTo(30);
                assertThat(rs.getDouble(4)).isLessThan(90);
                System.out.printf("DatasetsIT: payload avg %.1f bytes stored, %.1f chars as text%n",
                        rs.getDouble(5), rs.getDouble(6));
                assertThat(rs.getDouble(5)).isBetween(55.0, 85.0);
                assertThat(rs.getTimestamp(7).toLocalDateTime()).isEqualTo(Datasets.SENSORS_UNTIL.minusDays(30));
                assertThat(rs.getTimestamp(8).toLocalDateTime()).isBefore(Datasets.SENSORS_UNTIL);
                assertThat(rs.getLong(9)).isEqualTo(EVENTS);
            }

            // the sequence is past the loaded ids: the seed's procedure appends
            long before = count(c, "SELECT max(event_id) FROM public.events");
            assertThat(before).isEqualTo(EVENTS);
            try (Statement st = c.createStatement()) {
                st.execute("CALL public.generate_reading(42)");
            }
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                    "SELECT event_id, device_id, (payload->>'temperature')::float8, (payload->>'humidity')::float8 "
                            + "FROM public.events ORDER BY event_id DESC LIMIT 1")) {
                rs.next();
                assertThat(rs.getLong(1)).isEqualTo(EVENTS + 1);
                assertThat(rs.getInt(2)).isEqualTo(42);
                assertThat(rs.getDouble(3)).isBetween(40.0, 80.0);
                assertThat(rs.getDouble(4)).isBetween(30.0, 90.0);
            }
            try (Statement st = c.createStatement()) {
                st.execute("DELETE FROM public.events WHERE event_id > " + EVENTS);
            }

            // the outlier query: one row per device, or one for device 42
            assertThat(count(c, "SELECT count(*) FROM (" + Datasets.OUTLIER_QUERY + ") q")).isEqualTo(1000);
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(Datasets.outlierQueryFor(42))) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt("device_id")).isEqualTo(42);
                long classified = rs.getLong("LowHumidity") + rs.getLong("HighHumidity") + rs.getLong("RegularHumidity");
                assertThat(classified).isEqualTo(EVENTS / 1000);
                assertThat(rs.next()).isFalse();
            }
            assertThat(strings(c, "EXPLAIN " + Datasets.OUTLIER_QUERY)).isNotEmpty();
        }
    }

    private static final List<List<String>> TABLES_AND_KEYS = List.of(
            List.of("public.device_types", "device_type_id"),
            List.of("public.devices", "device_id"),
            List.of("public.events", "event_id"),
            List.of("bookings.aircrafts", "aircraft_code"),
            List.of("bookings.seats", "aircraft_code", "seat_no"),
            List.of("bookings.airports", "airport_code"),
            List.of("bookings.flights", "flight_id"),
            List.of("bookings.bookings", "book_ref"),
            List.of("bookings.tickets", "ticket_no"),
            List.of("bookings.ticket_flights", "ticket_no", "flight_id"),
            List.of("bookings.boarding_passes", "ticket_no", "flight_id"));

    @Test
    void loadsAreDeterministic() throws Exception {
        List<List<TableDigest>> runs = new ArrayList<>();
        for (String db : List.of("det1", "det2")) {
            node.createDatabase(db);
            try (Connection c = node.connect(db)) {
                Datasets.createSensors(c);
                Datasets.loadSensors(c, 3, 50, 5_000);
                Datasets.createAirline(c);
                Datasets.loadAirline(c, 1);
                List<TableDigest> digests = new ArrayList<>();
                for (List<String> t : TABLES_AND_KEYS) {
                    digests.add(Datasets.tableDigest(c, t.get(0), t.subList(1, t.size())));
                }
                runs.add(digests);
            }
        }
        assertThat(runs.get(0)).isEqualTo(runs.get(1));
        assertThat(runs.get(0).get(2).rowCount()).isEqualTo(5_000);
    }

    @Test
    void airlineIsReferentiallyValidAndRespectsTheRealConstraints() throws Exception {
        try (Connection c = node.connect(DB)) {
            assertThat(count(c, "SELECT count(*) FROM bookings.aircrafts")).isEqualTo(10);
            assertThat(count(c, "SELECT count(*) FROM bookings.airports")).isEqualTo(100);
            assertThat(count(c, "SELECT count(*) FROM bookings.flights")).isEqualTo(1000);
            assertThat(count(c, "SELECT count(*) FROM bookings.bookings")).isEqualTo(5000);
            long tickets = count(c, "SELECT count(*) FROM bookings.tickets");
            long ticketFlights = count(c, "SELECT count(*) FROM bookings.ticket_flights");
            long passes = count(c, "SELECT count(*) FROM bookings.boarding_passes");
            long seats = count(c, "SELECT count(*) FROM bookings.seats");
            System.out.printf("DatasetsIT: airline scale 1: %d seats, %d tickets, %d ticket_flights, %d boarding_passes%n",
                    seats, tickets, ticketFlights, passes);
            assertThat(tickets).isBetween(9_000L, 11_000L);
            assertThat(ticketFlights).isBetween(18_000L, 22_000L);
            assertThat(passes).isBetween(12_000L, 18_000L);

            // the constraints a sharded target has to rework are there, with the demo's names
            assertThat(strings(c, "SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint "
                    + "WHERE conrelid = 'bookings.boarding_passes'::regclass ORDER BY conname")).containsExactly(
                    "boarding_passes_flight_id_boarding_no_key UNIQUE (flight_id, boarding_no)",
                    "boarding_passes_flight_id_seat_no_key UNIQUE (flight_id, seat_no)",
                    "boarding_passes_pkey PRIMARY KEY (ticket_no, flight_id)",
                    "boarding_passes_ticket_no_flight_id_fkey FOREIGN KEY (ticket_no, flight_id) "
                            + "REFERENCES bookings.ticket_flights(ticket_no, flight_id)");
            assertThat(count(c, "SELECT count(*) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
                    + "WHERE n.nspname = 'bookings' AND c.contype = 'f'")).isEqualTo(8);

            // formats
            assertThat(count(c, "SELECT count(*) FROM bookings.tickets WHERE ticket_no !~ '^000543[0-9]{7}$'")).isZero();
            assertThat(count(c, "SELECT count(*) FROM bookings.bookings WHERE book_ref !~ '^[0-9A-F]{6}$'")).isZero();
            assertThat(count(c, "SELECT count(*) FROM bookings.flights WHERE flight_no !~ '^PG[0-9]{4}$'")).isZero();

            // consistency beyond the foreign keys
            assertThat(count(c, "SELECT count(*) FROM bookings.bookings b "
                    + "WHERE NOT EXISTS (SELECT 1 FROM bookings.tickets t WHERE t.book_ref = b.book_ref)")).isZero();
            assertThat(count(c, "SELECT count(*) FROM bookings.tickets t "
                    + "WHERE NOT EXISTS (SELECT 1 FROM bookings.ticket_flights tf WHERE tf.ticket_no = t.ticket_no)")).isZero();
            assertThat(count(c, """
                    SELECT count(*) FROM bookings.bookings b
                    JOIN (SELECT t.book_ref, sum(tf.amount) AS total FROM bookings.tickets t
                          JOIN bookings.ticket_flights tf ON tf.ticket_no = t.ticket_no
                          GROUP BY t.book_ref) s ON s.book_ref = b.book_ref
                    WHERE b.total_amount <> s.total""")).isZero();
            // a boarding pass seats its passenger on a seat of the flight's aircraft, in the ticket's class,
            // and only on flights that departed
            assertThat(count(c, """
                    SELECT count(*) FROM bookings.boarding_passes bp
                    JOIN bookings.ticket_flights tf USING (ticket_no, flight_id)
                    JOIN bookings.flights f USING (flight_id)
                    LEFT JOIN bookings.seats s ON s.aircraft_code = f.aircraft_code AND s.seat_no = bp.seat_no
                    WHERE s.seat_no IS NULL OR s.fare_conditions <> tf.fare_conditions
                       OR f.status NOT IN ('Departed', 'Arrived')""")).isZero();
            assertThat(count(c, "SELECT count(*) FROM bookings.flights WHERE departure_airport = arrival_airport")).isZero();
            assertThat(count(c, "SELECT count(*) FROM bookings.bookings b WHERE book_date > '" + Datasets.AIRLINE_NOW + "'"))
                    .isZero();
            assertThat(strings(c, "SELECT DISTINCT status FROM bookings.flights ORDER BY 1"))
                    .contains("Arrived", "Cancelled", "Departed", "Scheduled");
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                    "SELECT nextval(pg_get_serial_sequence('bookings.flights', 'flight_id'))")) {
                rs.next();
                assertThat(rs.getLong(1)).isGreaterThan(1000);
            }
        }
    }

    @Test
    void digestIgnoresLayoutAndSeesOneUpdate() throws Exception {
        try (Connection c = node.connect(DB)) {
            List<String> key = List.of("event_id");
            execute(c, "CREATE TABLE public.events_ctas AS SELECT * FROM public.events",
                    "CREATE TABLE public.events_reordered AS SELECT payload, created_at, device_id, event_id FROM public.events",
                    "CREATE TABLE public.events_hash (LIKE public.events) PARTITION BY HASH (device_id)",
                    "CREATE TABLE public.events_hash_0 PARTITION OF public.events_hash FOR VALUES WITH (MODULUS 4, REMAINDER 0)",
                    "CREATE TABLE public.events_hash_1 PARTITION OF public.events_hash FOR VALUES WITH (MODULUS 4, REMAINDER 1)",
                    "CREATE TABLE public.events_hash_2 PARTITION OF public.events_hash FOR VALUES WITH (MODULUS 4, REMAINDER 2)",
                    "CREATE TABLE public.events_hash_3 PARTITION OF public.events_hash FOR VALUES WITH (MODULUS 4, REMAINDER 3)",
                    "INSERT INTO public.events_hash SELECT * FROM public.events");
            TableDigest original = Datasets.tableDigest(c, "public.events", key);
            assertThat(original.rowCount()).isEqualTo(EVENTS);
            assertThat(Datasets.tableDigest(c, "public.events_ctas", key)).isEqualTo(original);
            assertThat(Datasets.tableDigest(c, "public.events_reordered", key)).isEqualTo(original);
            assertThat(Datasets.tableDigest(c, "public.events_hash", key)).isEqualTo(original);
            assertThat(Datasets.tableDigest(c, "\"public\".\"events_hash\"", key)).isEqualTo(original);

            execute(c, "UPDATE public.events_ctas SET payload = jsonb_set(payload, '{humidity}', '50') WHERE event_id = 777");
            TableDigest updated = Datasets.tableDigest(c, "public.events_ctas", key);
            assertThat(updated.rowCount()).isEqualTo(EVENTS);
            assertThat(updated.digest()).isNotEqualTo(original.digest());
            // restricted to unchanged columns, the digest matches again
            assertThat(Datasets.tableDigest(c, "public.events_ctas", key, List.of("device_id", "created_at")))
                    .isEqualTo(Datasets.tableDigest(c, "public.events", key, List.of("created_at", "device_id")));

            // rendering does not depend on the session: timestamptz and float8 under other settings
            List<String> flightKey = List.of("flight_id");
            List<String> airportKey = List.of("airport_code");
            TableDigest flights = Datasets.tableDigest(c, "bookings.flights", flightKey);
            TableDigest airports = Datasets.tableDigest(c, "bookings.airports", airportKey);
            execute(c, "SET TimeZone = 'Asia/Tokyo'", "SET extra_float_digits = 0");
            assertThat(Datasets.tableDigest(c, "bookings.flights", flightKey)).isEqualTo(flights);
            assertThat(Datasets.tableDigest(c, "bookings.airports", airportKey)).isEqualTo(airports);
            assertThat(strings(c, "SHOW TimeZone")).containsExactly("Asia/Tokyo");
            execute(c, "RESET TimeZone", "RESET extra_float_digits");

            assertThatThrownBy(() -> Datasets.tableDigest(c, "public.no_such_table", key))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"public\".\"no_such_table\"");
            assertThatThrownBy(() -> Datasets.tableDigest(c, "public.events", List.of("no_such_column")))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no_such_column");
        }
    }

    @Test
    void diffRowsFindsExactlyTheDeletedInsertedAndUpdatedKeys() throws Exception {
        try (Connection a = node.connect(DB); Connection b = node.connect(DB)) {
            execute(a, "CREATE TABLE public.events_diff AS SELECT * FROM public.events",
                    "DELETE FROM public.events_diff WHERE event_id = 10",
                    "UPDATE public.events_diff SET created_at = created_at + interval '1 second' WHERE event_id = 500",
                    "INSERT INTO public.events_diff VALUES (999999, 1, '{\"temperature\": 50}', '2024-12-31')");
            List<String> key = List.of("event_id");
            long t0 = System.nanoTime();
            List<RowDiff> diffs = Datasets.diffRows(a, "public.events", b, "public.events_diff", key, 100);
            System.out.printf("DatasetsIT: diffRows over 2 x %,d events in %,d ms%n", EVENTS, (System.nanoTime() - t0) / 1_000_000);
            assertThat(diffs).containsExactly(
                    new RowDiff(Kind.MISSING, List.of("10")),
                    new RowDiff(Kind.DIFFERENT, List.of("500")),
                    new RowDiff(Kind.EXTRA, List.of("999999")));
            // limit, and one connection for both sides
            assertThat(Datasets.diffRows(a, "public.events", a, "public.events_diff", key, 2)).containsExactly(
                    new RowDiff(Kind.MISSING, List.of("10")),
                    new RowDiff(Kind.DIFFERENT, List.of("500")));
            assertThat(Datasets.diffRows(a, "public.events", b, "public.events", key, 100)).isEmpty();
            // the caller's session is left as it was
            assertThat(a.getAutoCommit()).isTrue();
            assertThat(strings(a, "SHOW DateStyle")).containsExactly("ISO, MDY");
        }

        // the same table in two databases, composite text + integer key
        node.execute("postgres", "CREATE DATABASE demo_copy TEMPLATE demo");
        try (Connection a = node.connect(DB); Connection b = node.connect("demo_copy")) {
            String deleted;
            String updated;
            String inserted;
            try (Statement st = b.createStatement(); ResultSet rs = st.executeQuery("""
                    SELECT (SELECT ticket_no || '|' || flight_id FROM bookings.ticket_flights tf
                            WHERE NOT EXISTS (SELECT 1 FROM bookings.boarding_passes bp
                                              WHERE bp.ticket_no = tf.ticket_no AND bp.flight_id = tf.flight_id)
                            ORDER BY ticket_no, flight_id LIMIT 1),
                           (SELECT ticket_no || '|' || flight_id FROM bookings.ticket_flights
                            ORDER BY ticket_no DESC, flight_id LIMIT 1),
                           (SELECT t.ticket_no || '|' || (SELECT max(f.flight_id) FROM bookings.flights f
                                   WHERE NOT EXISTS (SELECT 1 FROM bookings.ticket_flights tf
                                                     WHERE tf.ticket_no = t.ticket_no AND tf.flight_id = f.flight_id))
                            FROM (SELECT max(ticket_no) AS ticket_no FROM bookings.tickets) t)""")) {
                rs.next();
                deleted = rs.getString(1);
                updated = rs.getString(2);
                inserted = rs.getString(3);
            }
            String[] d = deleted.split("\\|");
            String[] u = updated.split("\\|");
            String[] i = inserted.split("\\|");
            execute(b, "DELETE FROM bookings.ticket_flights WHERE ticket_no = '" + d[0] + "' AND flight_id = " + d[1],
                    "UPDATE bookings.ticket_flights SET amount = amount + 1 WHERE ticket_no = '" + u[0]
                            + "' AND flight_id = " + u[1],
                    "INSERT INTO bookings.ticket_flights VALUES ('" + i[0] + "', " + i[1] + ", 'Economy', 1000)");
            List<RowDiff> diffs = Datasets.diffRows(a, b, "bookings.ticket_flights", List.of("ticket_no", "flight_id"), 10);
            List<RowDiff> expected = new ArrayList<>(List.of(
                    new RowDiff(Kind.MISSING, List.of(d)),
                    new RowDiff(Kind.DIFFERENT, List.of(u)),
                    new RowDiff(Kind.EXTRA, List.of(i))));
            assertThat(diffs).containsExactlyInAnyOrderElementsOf(expected);
            assertThat(Datasets.tableDigest(a, "bookings.tickets", List.of("ticket_no")))
                    .isEqualTo(Datasets.tableDigest(b, "bookings.tickets", List.of("ticket_no")));
            assertThat(Datasets.tableDigest(a, "bookings.ticket_flights", List.of("ticket_no", "flight_id")))
                    .isNotEqualTo(Datasets.tableDigest(b, "bookings.ticket_flights", List.of("ticket_no", "flight_id")));
        }
    }


    private static void execute(Connection c, String... statements) throws SQLException {
        try (Statement st = c.createStatement()) {
            for (String sql : statements) {
                st.execute(sql);
            }
        }
    }

    private static long count(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static List<String> strings(Connection c, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }
}
