package io.shardlift.ops;

import io.shardlift.testkit.PgBouncer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;

/**
 * A sensors migration with a real PgBouncer (transaction pooling, alias {@code app}, pool of 4) in front of its
 * source, and specs whose {@code pooler:} section points the cutover at it. Without PgBouncer on the machine the test
 * is skipped, except on CI, where that is a failure.
 */
final class PooledSensors implements AutoCloseable {

    final SensorsMigration env;
    final PgBouncer bouncer;

    private PooledSensors(SensorsMigration env, PgBouncer bouncer) {
        this.env = env;
        this.bouncer = bouncer;
    }

    /** @param queryWaitTimeout how long PgBouncer keeps a client waiting while paused ("0": as long as it stays paused) */
    static PooledSensors start(String name, String queryWaitTimeout) throws Exception {
        PgBouncer.unavailable().ifPresent(why -> {
            if ("true".equals(System.getenv("CI"))) {
                throw new IllegalStateException("CI=true but " + why);
            }
            Assumptions.abort(why);
        });
        SensorsMigration env = SensorsMigration.start(name, 5_000);
        try {
            return new PooledSensors(env, PgBouncer.start(name, List.of(PgBouncer.databaseLine("app", env.cluster.source(),
                    SensorsMigration.DB, "pool_size=4")), Map.of("query_wait_timeout", queryWaitTimeout)));
        } catch (Exception | Error e) {
            env.close();
            throw e;
        }
    }

    Path spec(Path dir) throws Exception {
        return withPooler(env.spec(dir));
    }

    Path spec(Path dir, int controlPort, String tokenEnv) throws Exception {
        return withPooler(env.spec(dir, controlPort, tokenEnv));
    }

    private Path withPooler(Path spec) throws Exception {
        Files.writeString(spec, Files.readString(spec) + "pooler:\n  pgbouncer:\n    - admin: \"" + bouncer.adminConnstr()
                + "\"\n      include_file: " + bouncer.includeFile() + "\n      databases: [app]\n  pause_timeout: 2s\n  target_node: 0\n");
        return spec;
    }

    /** Null-safe, for an {@code @AfterAll} whose {@code @BeforeAll} may have failed or aborted. */
    static void close(PooledSensors pooled) {
        if (pooled != null) {
            pooled.close();
        }
    }

    @Override
    public void close() {
        try {
            bouncer.close();
        } finally {
            env.close();
        }
    }
}
