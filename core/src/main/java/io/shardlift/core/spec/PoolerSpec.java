package io.shardlift.core.spec;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The {@code pooler:} section: the PgBouncer instances in front of the source whose aliases the cutover switches
 * from the source to the cluster. Absent from the spec: no pooler, the application sees the fence.
 *
 * @param pgbouncers   {@code pooler.pgbouncer[]}, one per instance, in file order
 * @param pauseTimeout {@code pooler.pause_timeout}: PAUSE must complete within this, else RESUME and refuse
 * @param targetNode   {@code pooler.target_node}: the cluster node the aliases point at after the switch (default 0)
 */
public record PoolerSpec(List<PgBouncerSpec> pgbouncers, Duration pauseTimeout, int targetNode) {

    public static final Duration DEFAULT_PAUSE_TIMEOUT = Duration.ofSeconds(2);

    /**
     * One PgBouncer instance.
     *
     * @param admin       {@code admin}: its admin console (dbname pgbouncer)
     * @param includeFile {@code include_file}: the file with the switched aliases' {@code [databases]} lines, which
     *                    pgbouncer.ini pulls in with {@code %include}; shardlift rewrites it
     * @param databases   {@code databases}: the aliases to switch, unique, at least one
     */
    public record PgBouncerSpec(ConnInfo admin, Path includeFile, List<String> databases) {
        public PgBouncerSpec {
            Objects.requireNonNull(admin, "admin");
            Objects.requireNonNull(includeFile, "includeFile");
            databases = List.copyOf(databases);
        }

        /** {@code host:port} of the admin console, naming the instance in messages. */
        public String label() {
            return (admin.host().contains(":") ? "[" + admin.host() + "]" : admin.host()) + ":" + admin.port();
        }
    }

    public PoolerSpec {
        pgbouncers = List.copyOf(pgbouncers);
        Objects.requireNonNull(pauseTimeout, "pauseTimeout");
    }
}
