package io.shardlift.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Where the test kit keeps data directories and unpacked binaries. */
public final class TestKit {

    /** System property naming the base directory; Maven sets it to {@code target/testkit}. */
    public static final String DIR_PROPERTY = "shardlift.testkit.dir";

    private TestKit() {
    }

    public static Path baseDir() {
        String configured = System.getProperty(DIR_PROPERTY);
        Path dir = Path.of(configured != null ? configured : "target/testkit").toAbsolutePath();
        try {
            return Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create test kit directory " + dir, e);
        }
    }

    /** zonky unpacks the PostgreSQL binaries (and keeps its lock files) here rather than in java.io.tmpdir. */
    public static Path binariesDir() {
        try {
            return Files.createDirectories(baseDir().resolve("pg-binaries"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create binaries directory", e);
        }
    }
}
