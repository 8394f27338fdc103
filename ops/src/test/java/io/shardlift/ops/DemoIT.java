package io.shardlift.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlift.embedded.EmbeddedDir;
import io.shardlift.embedded.PgBouncer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * {@code shardlift demo}, small: the product's own embedded PostgreSQL servers, sensor dataset and in-process broker
 * (module embedded, no test kit), migrated online, cut over through the control plane and verified row by row. Where
 * PgBouncer can run, the demo's application goes through one and must see no error across the switch.
 */
class DemoIT {

    @Test
    void demoMigratesTheSensorDatabaseOnItsOwnEmbeddedServersAndFindsNoDifference() throws Exception {
        // the demo points the embedded servers at its work dir for the rest of the JVM: give the other ITs theirs back
        String before = System.getProperty(EmbeddedDir.DIR_PROPERTY);
        Path workDir = EmbeddedDir.baseDir().resolve("demo-it");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code;
        try {
            code = Main.run(new PrintWriter(out), new PrintWriter(err), "demo", "--nodes", "2", "--partitions", "4",
                    "--events", "20000", "--writers", "1", "--work-dir", workDir.toString());
        } finally {
            if (before == null) {
                System.clearProperty(EmbeddedDir.DIR_PROPERTY);
            } else {
                System.setProperty(EmbeddedDir.DIR_PROPERTY, before);
            }
        }
        assertThat(code).as("exit code; out:%n%s%nerr:%n%s", out, err).isZero();
        assertThat(out.toString())
                .contains("seed 000's sensor database on the source: 10 device types, 1000 devices, 20,000 events")
                .contains("verify:                source and cluster equal, row by row")
                .containsPattern("acknowledged writes:   [0-9,]+, every one on the cluster");
        if (PgBouncer.unavailable().isEmpty()) {
            assertThat(out.toString()).as(out.toString())
                    .contains("== PgBouncer on 127.0.0.1:")
                    .containsPattern("app through PgBouncer: [0-9,]+ writes, [0-9,]+ outlier reads; client errors: 0\\n")
                    .contains("client-visible pause:  ");
        } else {
            assertThat(out.toString()).contains("== no PgBouncer (" + PgBouncer.unavailable().get() + ")");
        }
        // the servers and the broker's data are gone with the demo
        assertThat(workDir.resolve("data")).doesNotExist();
        try (var left = Files.list(workDir.resolve("pg"))) {
            assertThat(left).isEmpty();
        }
    }
}
