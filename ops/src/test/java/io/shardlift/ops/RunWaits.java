package io.shardlift.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Waiting on a {@code shardlift run} process the test started, with a writer of its own: every wait fails at once when
 * the process ended or the writer failed, and after four minutes; {@link #note} marks a moment in the process's log.
 */
final class RunWaits {

    interface Check {
        boolean holds() throws Exception;
    }

    private RunWaits() {
    }

    static void awaitTrue(ShardliftProcess p, SchemaFixture.Writer w, String moment, Check condition) throws Exception {
        long deadline = System.nanoTime() + 240_000_000_000L;
        while (!condition.holds()) {
            check(p, w, moment, deadline);
            Thread.sleep(10);
        }
    }

    static void check(ShardliftProcess p, SchemaFixture.Writer w, String moment, long deadline) throws Exception {
        assertThat(p.isAlive()).as("shardlift ended before " + moment + ": " + p.describe()).isTrue();
        assertThat(w.failed.get()).as("the writer, waiting for " + moment).isNull();
        assertThat(System.nanoTime()).as("waiting for " + moment + ": " + p.describe()).isLessThan(deadline);
    }

    static void note(Path log, String what) throws Exception {
        Files.writeString(log, "\n==== " + java.time.LocalTime.now() + " " + what + " ====\n", StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
    }
}
