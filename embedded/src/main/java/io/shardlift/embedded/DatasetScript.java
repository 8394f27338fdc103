package io.shardlift.embedded;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;

/** Runs the SQL scripts of the datasets (classpath {@code datasets/}): the sensor schema here, the test kit's airline. */
public final class DatasetScript {

    private DatasetScript() {
    }

    /**
     * Runs {@code datasets/<name>} as one multi-statement execute (pgjdbc splits it, respecting quotes, comments
     * and dollar quoting), each {@code {{key}}} replaced by its value first. Under autocommit it runs in one
     * transaction, so a failed load leaves nothing behind.
     */
    public static void run(Connection c, String name, Map<String, String> values) throws SQLException {
        String sql = resource(name);
        for (Map.Entry<String, String> v : values.entrySet()) {
            sql = sql.replace("{{" + v.getKey() + "}}", v.getValue());
        }
        boolean auto = c.getAutoCommit();
        if (auto) {
            c.setAutoCommit(false);
        }
        boolean done = false;
        try (Statement st = c.createStatement()) {
            st.execute(sql);
            if (auto) {
                c.commit();
            }
            done = true;
        } catch (SQLException e) {
            throw new SQLException("dataset script datasets/" + name + " failed: " + e.getMessage(), e.getSQLState(), e);
        } finally {
            if (auto) {
                if (!done) {
                    c.rollback();
                }
                c.setAutoCommit(true);
            }
        }
    }

    private static String resource(String name) {
        String path = "datasets/" + name;
        try (InputStream in = DatasetScript.class.getClassLoader().getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("resource " + path + " is missing from the classpath (embedded or testkit jar)");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("could not read resource " + path, e);
        }
    }
}
