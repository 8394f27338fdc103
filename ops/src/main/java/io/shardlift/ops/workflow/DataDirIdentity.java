package io.shardlift.ops.workflow;

import io.shardlift.core.SourceException;
import io.shardlift.core.TargetException;
import io.shardlift.core.spec.ConnInfo;
import io.shardlift.core.spec.MigrationSpec;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;

/**
 * Which migration an embedded broker's data directory belongs to: the source (system identifier, database, slot)
 * and the cluster (node 0's system identifier and database), in the file {@code identity} of the directory.
 * Another migration's directory holds its change stream and Debezium offsets; reopened by this one it would be at
 * best useless and at worst, before the stream was bound to its migration, applied into the wrong cluster. So a
 * directory of another migration is refused before anything is written, and the message says what to do.
 *
 * @param sourceSystem system identifier of the source server (pg_control_system)
 * @param nodeSystem   system identifier of node 0's server
 */
record DataDirIdentity(String sourceSystem, String sourceDatabase, String slot, String sourceLabel,
                       String nodeSystem, String nodeDatabase, String nodeLabel) {

    static final String FILE = "identity";
    /** Written once the migration has cut over: its stream is no longer needed, and the next migration may take the directory. */
    static final String FINISHED = "finished";

    /** The keys that decide whether two identities are one migration (the labels are for people). */
    private static final List<String> KEYS = List.of("source.system_identifier", "source.database", "source.slot",
            "cluster.node0.system_identifier", "cluster.node0.database");

    /**
     * Checks that {@code dataDir} is this migration's, or new, and records this migration in it if it is not yet.
     * Reads the source and node 0 (one query each) and writes nothing anywhere when it refuses.
     *
     * @throws DataDirException if the directory belongs to another migration
     */
    static void claim(Path dataDir, MigrationSpec spec) {
        DataDirIdentity mine = of(spec);
        Path file = dataDir.resolve(FILE);
        if (Files.exists(file)) {
            DataDirIdentity theirs = read(file);
            if (!theirs.sameMigration(mine) && Files.exists(dataDir.resolve(FINISHED))) {
                // that migration cut over: nothing reads its stream again, and this one binds its own positions anyway
                deleteTree(dataDir.resolve("kafka"));
                deleteTree(dataDir.resolve(FINISHED));
                org.slf4j.LoggerFactory.getLogger(DataDirIdentity.class).info("the data directory {} held the stream of {}, which has"
                        + " cut over; its broker data are removed and this migration takes the directory", dataDir, theirs.describe());
                mine.write(file);
                return;
            }
            if (!theirs.sameMigration(mine)) {
                throw new DataDirException("the data directory " + dataDir.toAbsolutePath().normalize() + " belongs to another"
                        + " migration: " + theirs.describe() + "; this one is " + mine.describe() + ". Its broker holds that"
                        + " migration's change stream. If that migration is finished or abandoned, remove the directory;"
                        + " otherwise pass another --data-dir");
            }
            return;
        }
        mine.write(file);
    }

    /** Records that the directory's migration has cut over (idempotent); see {@link #FINISHED}. */
    static void markFinished(Path dataDir, String cutoverId) {
        Path f = dataDir.resolve(FINISHED);
        if (Files.exists(f) || !Files.exists(dataDir.resolve(FILE))) {
            return;
        }
        try {
            Files.writeString(f, "cut over: " + cutoverId + "\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + f + ": " + e.getMessage(), e);
        }
    }

    private static void deleteTree(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try (java.util.stream.Stream<Path> all = Files.walk(p)) {
            for (Path x : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(x);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + p + ": " + e.getMessage(), e);
        }
    }

    static DataDirIdentity of(MigrationSpec spec) {
        ConnInfo source = spec.source();
        ConnInfo node0 = spec.nodes().get(0);
        String sourceSystem;
        try {
            sourceSystem = systemIdentifier(source);
        } catch (SQLException e) {
            throw new SourceException("source " + source.label() + ": " + e.getMessage(), e);
        }
        String nodeSystem;
        try {
            nodeSystem = systemIdentifier(node0);
        } catch (SQLException e) {
            throw new TargetException("node 0 (" + node0.label() + "): " + e.getMessage(), e);
        }
        return new DataDirIdentity(sourceSystem, source.dbname(), spec.replication().slot(), source.label(),
                nodeSystem, node0.dbname(), node0.label());
    }

    private static String systemIdentifier(ConnInfo c) throws SQLException {
        try (Connection cx = c.connect(); Statement st = cx.createStatement();
             ResultSet rs = st.executeQuery("SELECT system_identifier::text FROM pg_control_system()")) {
            rs.next();
            return rs.getString(1);
        }
    }

    boolean sameMigration(DataDirIdentity o) {
        return sourceSystem.equals(o.sourceSystem) && sourceDatabase.equals(o.sourceDatabase) && slot.equals(o.slot)
                && nodeSystem.equals(o.nodeSystem) && nodeDatabase.equals(o.nodeDatabase);
    }

    String describe() {
        return "source " + sourceLabel + " (system " + sourceSystem + ", database " + sourceDatabase + ", slot " + slot
                + ") into the cluster of node 0 " + nodeLabel + " (system " + nodeSystem + ", database " + nodeDatabase + ")";
    }

    private Properties toProperties() {
        Properties p = new Properties();
        p.setProperty(KEYS.get(0), sourceSystem);
        p.setProperty(KEYS.get(1), sourceDatabase);
        p.setProperty(KEYS.get(2), slot);
        p.setProperty(KEYS.get(3), nodeSystem);
        p.setProperty(KEYS.get(4), nodeDatabase);
        p.setProperty("source.label", sourceLabel);
        p.setProperty("cluster.node0.label", nodeLabel);
        return p;
    }

    private void write(Path file) {
        try {
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling(FILE + ".tmp");
            try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                toProperties().store(w, "shardlift: the migration whose embedded Kafka broker keeps its data in this directory");
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private static DataDirIdentity read(Path file) {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        List<String> missing = KEYS.stream().filter(k -> p.getProperty(k) == null).toList();
        if (!missing.isEmpty()) {
            throw new DataDirException(file + " lacks " + missing + ", so it cannot tell which migration the directory belongs"
                    + " to — remove the directory if its migration is finished or abandoned, or pass another --data-dir");
        }
        return new DataDirIdentity(p.getProperty(KEYS.get(0)), p.getProperty(KEYS.get(1)), p.getProperty(KEYS.get(2)),
                p.getProperty("source.label", "?"), p.getProperty(KEYS.get(3)), p.getProperty(KEYS.get(4)),
                p.getProperty("cluster.node0.label", "?"));
    }
}
