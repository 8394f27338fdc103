package io.shardlift.embedded;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A data directory initdb made once per process, which each node's data directory is copied from: initdb is most of
 * a node's start (1-2 s on 2 cores, and a test run starts a few hundred nodes), a copy of its 40 MB a tenth of that.
 *
 * <p>Each copy gets a system identifier of its own, as an initdb would give it: shardlift tells servers apart by it
 * (a data directory belongs to one source and one cluster), so copies sharing the template's would look like one
 * server. The identifier is the first field of {@code global/pg_control}, which a CRC-32C over the fields before it
 * guards; the CRC's place is found in the template (the one offset whose CRC matches) rather than hard-coded per
 * PostgreSQL version. Anything unexpected falls back to initdb, so a node always starts.
 */
final class DataDirTemplate {

    private static final Logger LOG = LoggerFactory.getLogger(DataDirTemplate.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    /** {@code -Dshardlift.embedded.template=false}: every node runs initdb (to compare, or should a copy ever misbehave). */
    static final String PROPERTY = "shardlift.embedded.template";

    private static Path dir;
    private static int crcOffset = -1;
    private static boolean unusable;

    private DataDirTemplate() {
    }

    /** Fills {@code target} (empty) with a copy of the template; false (target left empty) to have initdb run instead. */
    static boolean copyTo(Path target) {
        Path template = template();
        if (template == null) {
            return false;
        }
        try {
            try (var walk = Files.walk(template)) {
                for (Path p : (Iterable<Path>) walk::iterator) {
                    Path to = target.resolve(template.relativize(p).toString());
                    if (p.equals(template)) {
                        continue;
                    }
                    Files.copy(p, to, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
            // PostgreSQL refuses a data directory others may read
            Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwx------"));
            newSystemIdentifier(target);
            return true;
        } catch (IOException | RuntimeException e) {
            LOG.warn("cannot copy the data directory template into {} ({}): initdb instead", target, e.toString());
            PgNode.deleteQuietly(target);
            try {
                Files.createDirectories(target);
            } catch (IOException again) {
                throw new java.io.UncheckedIOException(again);
            }
            return false;
        }
    }

    private static synchronized Path template() {
        if (unusable || "false".equals(System.getProperty(PROPERTY))) {
            return null;
        }
        if (dir != null && Files.exists(dir.resolve("global").resolve("pg_control"))) {
            return dir;
        }
        Path made = EmbeddedDir.baseDir().resolve("pg-template").resolve(ProcessHandle.current().pid() + "-" + System.nanoTime());
        long started = System.nanoTime();
        try {
            Files.createDirectories(made);
            // zonky's initdb (as root inside a user namespace, as for every node), then one clean start and stop so that
            // every copy starts without recovery
            EmbeddedPostgres.builder()
                    .setDataDirectory(made)
                    .setCleanDataDirectory(false)
                    .setOverrideWorkingDirectory(EmbeddedDir.binariesDir().toFile())
                    .setPGStartupWait(Duration.ofSeconds(60))
                    .setServerConfig("listen_addresses", "127.0.0.1")
                    .start().close();
            Files.deleteIfExists(made.resolve("postmaster.opts"));
            Files.deleteIfExists(made.resolve("postmaster.pid"));
            byte[] control = Files.readAllBytes(made.resolve("global").resolve("pg_control"));
            crcOffset = crcOffset(control);
            if (crcOffset < 8) {
                throw new IllegalStateException("no CRC found in pg_control");
            }
            dir = made;
            LOG.info("data directory template made in {} ms: nodes start from copies of it", (System.nanoTime() - started) / 1_000_000);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> PgNode.deleteQuietly(made), "pg-template-cleanup"));
            return dir;
        } catch (IOException | RuntimeException e) {
            LOG.warn("cannot make a data directory template ({}): every node runs initdb", e.toString());
            unusable = true;
            PgNode.deleteQuietly(made);
            return null;
        }
    }

    /** The offset of the CRC-32C that guards the bytes before it, little-endian as PostgreSQL writes it on x86 and ARM. */
    static int crcOffset(byte[] control) {
        ByteBuffer b = ByteBuffer.wrap(control).order(ByteOrder.LITTLE_ENDIAN);
        for (int off = 8; off + 4 <= Math.min(control.length, 1024); off += 4) {
            CRC32C crc = new CRC32C();
            crc.update(control, 0, off);
            if ((int) crc.getValue() == b.getInt(off)) {
                return off;
            }
        }
        return -1;
    }

    /**
     * A new system identifier in pg_control and in the long header of each WAL segment (which startup checks against
     * pg_control when it reads the checkpoint): {@code xlp_sysid}, at byte 24 of a segment.
     */
    private static void newSystemIdentifier(Path dataDir) throws IOException {
        Path pgControl = dataDir.resolve("global").resolve("pg_control");
        byte[] control = Files.readAllBytes(pgControl);
        ByteBuffer b = ByteBuffer.wrap(control).order(ByteOrder.LITTLE_ENDIAN);
        long old = b.getLong(0);
        // as initdb makes it: seconds since the epoch in the high half, the rest random
        long id = (System.currentTimeMillis() / 1000) << 32 | (RANDOM.nextInt() & 0xffffffffL);
        try (var segments = Files.list(dataDir.resolve("pg_wal"))) {
            for (Path segment : (Iterable<Path>) segments::iterator) {
                if (!segment.getFileName().toString().matches("[0-9A-F]{24}")) {
                    continue;
                }
                try (var ch = java.nio.channels.FileChannel.open(segment, java.nio.file.StandardOpenOption.READ,
                        java.nio.file.StandardOpenOption.WRITE)) {
                    ByteBuffer sysid = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
                    ch.read(sysid, 24);
                    if (sysid.getLong(0) == 0) {
                        continue; // made ahead, never written
                    }
                    if (sysid.getLong(0) != old) {
                        throw new IllegalStateException("WAL segment " + segment.getFileName() + " has no long page header"
                                + " with the template's system identifier");
                    }
                    ch.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, id), 24);
                }
            }
        }
        b.putLong(0, id);
        CRC32C crc = new CRC32C();
        crc.update(control, 0, crcOffset);
        b.putInt(crcOffset, (int) crc.getValue());
        Files.write(pgControl, control);
    }
}
