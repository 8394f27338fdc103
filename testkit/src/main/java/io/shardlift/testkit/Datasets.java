package io.shardlift.testkit;

import io.shardlift.embedded.DatasetScript;
import io.shardlift.embedded.SensorDataset;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.LocalDateTime;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The two datasets shardlift was born from, as reusable fixtures for integration tests and the
 * benchmark, plus the row-by-row comparison every migration test ends with.
 *
 * <ul>
 *   <li><b>Sensors</b> (shared/seeds/000, Citus walkthrough): {@link SensorDataset}, which the embedded
 *       demo loads too and which therefore lives in the embedded module; the methods here are its
 *       names in the test kit.
 *   <li><b>Airline</b> (shared/seeds/004, Shardman migration chapter): the {@code bookings}
 *       schema of the Postgres Pro demo database with its real keys, including
 *       {@code boarding_passes}' unique constraints on (flight_id, boarding_no) and
 *       (flight_id, seat_no), which do not contain ticket_no.
 * </ul>
 *
 * <p>Loading is server-side ({@code INSERT ... SELECT} over {@code generate_series}) and every
 * value is derived from hashes of row numbers, so a given size always produces the same rows, and
 * the same {@link #tableDigest digest}.
 *
 * <p>Loads run on the caller's connection. With autocommit on, each sensor chunk commits on its
 * own (5M events never sit in one transaction) and the airline load commits once; with autocommit
 * off, nothing is committed here and the caller owns the transaction.
 */
public final class Datasets {

    /** The seed's outlier query (its EXPLAIN without the EXPLAIN): one row per device. */
    public static final String OUTLIER_QUERY = SensorDataset.OUTLIER_QUERY;

    /** Device types the benchmark, demo and tests use unless they say otherwise. */
    public static final int DEFAULT_DEVICE_TYPES = SensorDataset.DEFAULT_DEVICE_TYPES;

    /** Devices the benchmark, demo and tests use unless they say otherwise. */
    public static final int DEFAULT_DEVICES = SensorDataset.DEFAULT_DEVICES;

    /** End of the 30 days the loaded events span by default ({@link SensorDataset#UNTIL}). */
    public static final LocalDateTime SENSORS_UNTIL = SensorDataset.UNTIL;

    /** Events per INSERT ... SELECT statement (one transaction each under autocommit). */
    public static final int SENSOR_CHUNK = SensorDataset.CHUNK;

    /** "Now" of the airline dataset: the real demo database's {@code bookings.now()}. */
    public static final String AIRLINE_NOW = "2017-08-15 18:00:00+03";

    private Datasets() {
    }

    // ---------------------------------------------------------------- sensors

    /** Creates the sensor schema of seed 000 in {@code public}: tables, index, procedures. */
    public static void createSensors(Connection c) throws SQLException {
        SensorDataset.createSchema(c);
    }

    /** {@link SensorDataset#load(Connection, int, int, long)}. */
    public static void loadSensors(Connection c, int deviceTypes, int devices, long events) throws SQLException {
        SensorDataset.load(c, deviceTypes, devices, events);
    }

    /** {@link SensorDataset#load(Connection, int, int, long, LocalDateTime)}. */
    public static void loadSensors(Connection c, int deviceTypes, int devices, long events, LocalDateTime until)
            throws SQLException {
        SensorDataset.load(c, deviceTypes, devices, events, until);
    }

    /** The outlier query restricted to one device ({@code WHERE device_id = <deviceId>}), as in the seed. */
    public static String outlierQueryFor(int deviceId) {
        return SensorDataset.outlierQueryFor(deviceId);
    }

    // ---------------------------------------------------------------- airline

    /** Creates schema {@code bookings} with the eight tables of the demo database and their real constraints. */
    public static void createAirline(Connection c) throws SQLException {
        DatasetScript.run(c, "airline_schema.sql", Map.of());
    }

    /**
     * Fills the airline schema (empty, as {@link #createAirline} leaves it). Scale 1: 10 aircraft,
     * 100 airports, 1,000 flights, 5,000 bookings, ~10,000 tickets, ~20,000 ticket_flights, ~15,000
     * boarding passes; flights, bookings and everything below them grow linearly with the scale.
     * Flight ids are explicit and the flights sequence is moved past them.
     */
    public static void loadAirline(Connection c, int scale) throws SQLException {
        if (scale < 1 || scale > 1000) {
            throw new IllegalArgumentException("loadAirline scale must be within 1..1000 but is " + scale);
        }
        DatasetScript.run(c, "airline_data.sql", Map.of("scale", Integer.toString(scale)));
    }

    // ---------------------------------------------------------------- comparison

    /** Row count and order-independent checksum of a table's rows. */
    public record TableDigest(long rowCount, String digest) {
    }

    /** One key that differs between two sides of a comparison. */
    public record RowDiff(Kind kind, List<String> key) {

        public enum Kind {
            /** Present on side a, absent on side b. */
            MISSING,
            /** Absent on side a, present on side b. */
            EXTRA,
            /** Present on both sides with different values. */
            DIFFERENT
        }
    }

    /**
     * Count and checksum of all rows of {@code qualifiedTable} ({@code "schema.table"} or
     * {@code "table"}, names taken literally, {@code "..."} parts allowed) over all its columns. The
     * checksum is a sum of row hashes, so it does not depend on row order, physical layout or
     * partitioning: a plain table and a partitioned parent (local or postgres_fdw partitions) with
     * the same rows give the same digest. Column order does not matter either (key columns first,
     * the others by name); values are rendered as text under fixed session settings (UTC, ISO
     * dates), so a type change that alters the text (numeric scale, float4 vs float8) shows.
     */
    public static TableDigest tableDigest(Connection c, String qualifiedTable, List<String> keyColumns)
            throws SQLException {
        return DatasetCompare.digest(c, qualifiedTable, keyColumns, null);
    }

    /**
     * As {@link #tableDigest(Connection, String, List)} over the key columns and {@code columns}
     * only: for a target that gained columns (e.g. a sharding key copied into a child table).
     */
    public static TableDigest tableDigest(Connection c, String qualifiedTable, List<String> keyColumns,
            List<String> columns) throws SQLException {
        return DatasetCompare.digest(c, qualifiedTable, keyColumns, Objects.requireNonNull(columns, "columns"));
    }

    /**
     * Up to {@code limit} keys that are missing on {@code b}, extra on {@code b} or different
     * between {@code a} and {@code b} for the same table, in key order. Both sides are streamed
     * ordered by key with a fetch size, so memory stays bounded whatever the table size. The
     * compared columns are those of the table on {@code a}; {@code b} may have more.
     */
    public static List<RowDiff> diffRows(Connection a, Connection b, String table, List<String> keyColumns, int limit)
            throws SQLException {
        return DatasetCompare.diff(a, table, b, table, keyColumns, limit);
    }

    /** As {@link #diffRows(Connection, Connection, String, List, int)} between two differently named tables. */
    public static List<RowDiff> diffRows(Connection a, String tableA, Connection b, String tableB,
            List<String> keyColumns, int limit) throws SQLException {
        return DatasetCompare.diff(a, tableA, b, tableB, keyColumns, limit);
    }
}
