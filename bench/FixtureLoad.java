import io.shardlift.embedded.SensorDataset;
import java.sql.Connection;
import java.sql.DriverManager;

/**
 * Loads the sensor fixture with the code the tests and the demo use (SensorDataset.createSchema + load(c, 10, 1000, events)),
 * for bench/verify-dataset.sh to compare with bench/sensors_load.sql. Single-file program:
 *   java -cp ops/target/shardlift.jar bench/FixtureLoad.java JDBC_URL EVENTS
 */
public class FixtureLoad {
    public static void main(String[] args) throws Exception {
        try (Connection c = DriverManager.getConnection(args[0])) {
            SensorDataset.createSchema(c);
            SensorDataset.load(c, SensorDataset.DEFAULT_DEVICE_TYPES, SensorDataset.DEFAULT_DEVICES, Long.parseLong(args[1]));
        }
    }
}
