package io.shardlift.embedded;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Seed 000's sensor database (shared/seeds/000, Citus walkthrough), which the demo migrates and the benchmark
 * and the tests load: {@code public.device_types}, {@code public.devices}, {@code public.events} as they stand
 * on the source BEFORE the seed's step 4, i.e. {@code events} is keyed by {@code event_id} alone and has the
 * foreign key {@code events_device_id_fkey} and the GIN index {@code events_payload_idx}.
 *
 * <p>Loading is server-side ({@code INSERT ... SELECT} over {@code generate_series}) and every value is derived
 * from hashes of row numbers, so a given size always produces the same rows. Loads run on the caller's
 * connection: with autocommit on, each chunk commits on its own (5M events never sit in one transaction); with
 * autocommit off, nothing is committed here and the caller owns the transaction.
 */
public final class SensorDataset {

    /** The seed's outlier query (its EXPLAIN without the EXPLAIN): one row per device. */
    public static final String OUTLIER_QUERY = outlierQuery(null);

    /** Device types the benchmark, demo and tests use unless they say otherwise. */
    public static final int DEFAULT_DEVICE_TYPES = 10;

    /** Devices the benchmark, demo and tests use unless they say otherwise. */
    public static final int DEFAULT_DEVICES = 1000;

    /**
     * End of the 30 days the loaded events span by default. Fixed, not now(), so a size always
     * gives the same rows on any day; the demo can pass its own end to
     * {@link #load(Connection, int, int, long, LocalDateTime)}.
     */
    public static final LocalDateTime UNTIL = LocalDateTime.of(2025, 1, 1, 0, 0);

    /** Events per INSERT ... SELECT statement (one transaction each under autocommit). */
    public static final int CHUNK = 250_000;

    /**
     * Readings have two decimals, like a real sensor's: the payload is ~63 bytes stored and the GIN
     * index sees 4,000 + 6,000 distinct values instead of two new ones per row, which makes it about
     * 5x cheaper to build.
     */
    private static final String EVENTS_CHUNK_SQL = """
            INSERT INTO public.events (event_id, device_id, payload, created_at)
            SELECT id,
                   1 + ((id - 1) % ?)::int,
                   jsonb_build_object(
                       'temperature', (4000 + (hashint8extended(id, 1) & 9007199254740991) % 4000) * 0.01,
                       'humidity',    (3000 + (hashint8extended(id, 2) & 9007199254740991) % 6000) * 0.01),
                   ?::timestamp + make_interval(secs => (g - 1) * ?::float8)
            FROM generate_series(?::bigint, ?::bigint) g, LATERAL (SELECT ?::bigint + g AS id) i""";

    /**
     * Loads at least this big (and bigger than the table) drop the events table's foreign keys and
     * non-unique indexes, and its primary key when the table is empty, and recreate them after.
     */
    private static final long REBUILD_THRESHOLD = 10_000;

    private SensorDataset() {
    }

    /** Creates the sensor schema of seed 000 in {@code public}: tables, index, procedures. */
    public static void createSchema(Connection c) throws SQLException {
        DatasetScript.run(c, "sensors_schema.sql", Map.of());
    }

    /**
     * Fills the sensor schema: {@code deviceTypes} types, {@code devices} devices (ids 1..devices),
     * and {@code events} events spread round-robin over the devices and evenly over the 30 days
     * before {@link #UNTIL}, ids continuing after the current maximum; then moves the
     * events sequence past the maximum id and analyzes the tables.
     */
    public static void load(Connection c, int deviceTypes, int devices, long events) throws SQLException {
        load(c, deviceTypes, devices, events, UNTIL);
    }

    /** As {@link #load(Connection, int, int, long)}, events spanning the 30 days before {@code until}. */
    public static void load(Connection c, int deviceTypes, int devices, long events, LocalDateTime until)
            throws SQLException {
        if (deviceTypes < 1 || devices < 1 || events < 0) {
            throw new IllegalArgumentException("SensorDataset.load needs deviceTypes >= 1, devices >= 1, events >= 0 but got "
                    + deviceTypes + ", " + devices + ", " + events);
        }
        Objects.requireNonNull(until, "until");
        Timestamp start = Timestamp.valueOf(until.minusDays(30));
        try (PreparedStatement types = c.prepareStatement("""
                INSERT INTO public.device_types (device_type_id, name)
                SELECT i, (ARRAY['thermometer', 'hygrometer', 'thermo-hygrometer', 'cold room probe',
                                 'freezer probe', 'warehouse gateway', 'truck logger', 'display case sensor',
                                 'dock door sensor', 'pallet tag'])[1 + (i - 1) % 10]
                          || CASE WHEN i > 10 THEN ' ' || ((i - 1) / 10 + 1) ELSE '' END
                FROM generate_series(1, ?) i
                ON CONFLICT (device_type_id) DO NOTHING""");
             PreparedStatement devs = c.prepareStatement("""
                INSERT INTO public.devices (device_id, device_type_id, name, created_at)
                SELECT i, t, 'sensor-' || lpad(i::text, 5, '0'),
                       ?::timestamp - make_interval(secs => 60 * 86400
                           - floor(29 * 86400 * (((hashint8extended(i, 4) >> 11) & 9007199254740991)::float8 / 9007199254740992)))
                FROM generate_series(1, ?) i,
                     LATERAL (SELECT 1 + (((hashint8extended(i, 3) >> 11) & 9007199254740991) % ?)::int AS t) tt
                ON CONFLICT (device_id) DO NOTHING""")) {
            types.setInt(1, deviceTypes);
            types.executeUpdate();
            devs.setTimestamp(1, Timestamp.valueOf(until));
            devs.setInt(2, devices);
            devs.setInt(3, deviceTypes);
            devs.executeUpdate();
        }
        long base = queryLong(c, "SELECT coalesce(max(event_id), 0) FROM public.events");
        long existing = base == 0 ? 0 : queryLong(c, "SELECT count(*) FROM public.events");
        // One FK check, four GIN entries and a btree insert per row cost more than the row itself;
        // a big load is about twice as fast without them and one validation and index build
        // afterwards. The primary key goes only when the table is empty.
        List<String> rebuild = events >= REBUILD_THRESHOLD && events > existing
                ? dropEventsChecksAndIndexes(c, existing == 0)
                : List.of();
        boolean loaded = false;
        try {
            double step = events == 0 ? 0 : 30.0 * 86400 / events;
            try (PreparedStatement ins = c.prepareStatement(EVENTS_CHUNK_SQL)) {
                for (long from = 1; from <= events; from += CHUNK) {
                    long to = Math.min(events, from + CHUNK - 1);
                    ins.setInt(1, devices);
                    ins.setTimestamp(2, start);
                    ins.setDouble(3, step);
                    ins.setLong(4, from);
                    ins.setLong(5, to);
                    ins.setLong(6, base);
                    ins.executeUpdate();
                }
            }
            loaded = true;
        } finally {
            try {
                recreate(c, rebuild);
            } catch (SQLException e) {
                if (loaded) {
                    throw e;
                }
                // the load failed already: report that, not the follow-up
            }
        }
        try (Statement st = c.createStatement()) {
            st.execute("""
                    SELECT setval(pg_get_serial_sequence('public.events', 'event_id'),
                                  greatest((SELECT max(event_id) FROM public.events), 1))""");
            st.execute("ANALYZE public.device_types, public.devices, public.events");
        }
    }

    /**
     * Drops the foreign keys and non-unique indexes of public.events, and its primary key if
     * {@code primaryKey} and nothing references it; returns the DDL that recreates them, in order.
     */
    private static List<String> dropEventsChecksAndIndexes(Connection c, boolean primaryKey) throws SQLException {
        List<String> drop = new ArrayList<>();
        List<String> create = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT 'ALTER TABLE public.events DROP CONSTRAINT ' || quote_ident(conname),
                       'ALTER TABLE public.events ADD CONSTRAINT ' || quote_ident(conname) || ' ' || pg_get_constraintdef(oid),
                       CASE contype WHEN 'p' THEN 0 ELSE 1 END
                FROM pg_constraint
                WHERE conrelid = 'public.events'::regclass
                  AND (contype = 'f'
                       OR (contype = 'p' AND ? AND NOT EXISTS (
                               SELECT 1 FROM pg_constraint r WHERE r.confrelid = 'public.events'::regclass)))
                UNION ALL
                SELECT 'DROP INDEX ' || indexrelid::regclass::text, pg_get_indexdef(indexrelid), 2
                FROM pg_index WHERE indrelid = 'public.events'::regclass AND NOT indisunique AND NOT indisprimary
                ORDER BY 3""")) {
            ps.setBoolean(1, primaryKey);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    drop.add(0, rs.getString(1));
                    create.add(rs.getString(2));
                }
            }
        }
        try (Statement st = c.createStatement()) {
            for (String sql : drop) {
                st.execute(sql);
            }
        }
        return create;
    }

    private static void recreate(Connection c, List<String> ddl) throws SQLException {
        if (ddl.isEmpty()) {
            return;
        }
        boolean auto = c.getAutoCommit();
        if (auto) {
            c.setAutoCommit(false);
        }
        boolean done = false;
        try (Statement st = c.createStatement()) {
            // LOCAL only works inside a transaction: hence the explicit one under autocommit
            st.execute("SET LOCAL maintenance_work_mem = '256MB'");
            for (String sql : ddl) {
                st.execute(sql);
            }
            if (auto) {
                c.commit();
            }
            done = true;
        } finally {
            if (auto) {
                if (!done) {
                    c.rollback();
                }
                c.setAutoCommit(true);
            }
        }
    }

    /** The outlier query restricted to one device ({@code WHERE device_id = <deviceId>}), as in the seed. */
    public static String outlierQueryFor(int deviceId) {
        return outlierQuery(deviceId);
    }

    private static String outlierQuery(Integer deviceId) {
        return "SELECT device_id, COUNT((CASE WHEN (payload ->> 'humidity')::decimal < 60 THEN 1 ELSE NULL END)) AS LowHumidity,\n"
                + "COUNT((CASE WHEN (payload ->> 'humidity')::decimal > 70 THEN 1 ELSE NULL END)) AS HighHumidity,\n"
                + "COUNT((CASE WHEN (payload ->> 'temperature')::decimal < 55 THEN 1 ELSE NULL END)) AS LowTemperature,\n"
                + "COUNT((CASE WHEN (payload ->> 'temperature')::decimal > 60 THEN 1 ELSE NULL END)) AS HighTemperature,\n"
                + "COUNT((CASE WHEN (payload ->> 'humidity')::decimal BETWEEN 60 AND 70 THEN 1 ELSE NULL END)) AS RegularHumidity,\n"
                + "COUNT((CASE WHEN (payload ->> 'temperature')::decimal BETWEEN 55 AND 60 THEN 1 ELSE NULL END)) AS RegularTemperature\n"
                + "FROM events\n"
                + (deviceId == null ? "" : "WHERE device_id = " + deviceId + "\n")
                + "GROUP BY device_id";
    }

    private static long queryLong(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
