package io.shardlift.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where embedded servers keep data directories and unpacked binaries: never java.io.tmpdir, so a test run
 * or a demo leaves nothing behind outside the directory it was given.
 */
public final class EmbeddedDir {

    /** System property naming the base directory; the build sets it to {@code target/embedded}, the demo to its work dir. */
    public static final String DIR_PROPERTY = "shardlift.embedded.dir";

    private EmbeddedDir() {
    }

    public static Path baseDir() {
        String configured = System.getProperty(DIR_PROPERTY);
        Path dir = Path.of(configured != null ? configured : "target/embedded").toAbsolutePath();
        try {
            return Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the embedded servers' directory " + dir, e);
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
