package io.shardlift.core.spec;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;

/** Spec texts for the tests, and a loader that sees no real environment and no real password file. */
final class SpecFixtures {

    static final Path NO_PGPASS = Path.of("/nonexistent/shardlift-test/.pgpass");

    private SpecFixtures() {
    }

    static SpecLoader loader() {
        return loader(Map.of());
    }

    static SpecLoader loader(Map<String, String> env) {
        Function<String, String> lookup = env::get;
        return new SpecLoader(lookup, NO_PGPASS);
    }

    static String resource(String name) {
        try (InputStream in = SpecFixtures.class.getResourceAsStream("/spec/" + name)) {
            if (in == null) {
                throw new IllegalStateException("test resource /spec/" + name + " is missing");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A cluster section, appended to shardmanctl's files, which have none. */
    static final String TWO_NODES = """
            cluster:
              nodes:
                - "host=127.0.0.1 port=6001 dbname=demo user=postgres"
                - "postgres://postgres@127.0.0.1:6002/demo"
            """;

    /** The nested form of the task's example, as written. */
    static final String NESTED = """
            version: "1.0"
            migrate:
              connstr: "host=127.0.0.1 port=5432 dbname=demo user=postgres"
              jobs: 4
              batch: 2000
              options: ...            # shardmanctl's; keep as an opaque Map, accept anything (including null / empty)
              schemas:
                - name: bookings
                  all: false
                  tables:
                    - {name: airports, type: global, priority: 3}
                    - {name: tickets, type: sharded, distributedby: ticket_no, partitions: 8, priority: 2}
                    - {name: ticket_flights, type: sharded, distributedby: ticket_no, colocatewith: tickets, priority: 1}
                    - {name: boarding_passes, type: sharded, distributedby: ticket_no, colocatewith: tickets, widen_unique: true}
            cluster:
              nodes:
                - "host=127.0.0.1 port=6001 dbname=demo user=postgres"
                - "postgres://postgres@127.0.0.1:6002/demo"
            kafka:
              bootstrap: embedded        # or "host1:9092,host2:9092"
              topic_partitions: 8        # optional (default 8)
              replication_factor: 1      # optional (default 1)
              topic_prefix: shardlift    # optional
            replication:                 # optional section
              slot: shardlift            # logical replication slot name (default "shardlift")
              publication: shardlift     # publication name (default "shardlift")
            control:
              listen: 127.0.0.1:8080     # default 127.0.0.1:8080
              token_env: SHARDLIFT_TOKEN # NAME of the env variable holding the cutover token
            """;

    /** A minimal valid spec: source, two nodes, one schema with the tables given (each a flow mapping). */
    static String withTables(String... tables) {
        StringBuilder sb = new StringBuilder("""
                version: "1.0"
                migrate:
                  connstr: "host=src dbname=demo user=postgres"
                  schemas:
                    - name: bookings
                      tables:
                """);
        for (String t : tables) {
            sb.append("        - ").append(t).append('\n');
        }
        return sb + """
                cluster:
                  nodes: ["host=n1 dbname=demo", "host=n2 dbname=demo"]
                """;
    }

    static String valid() {
        return withTables("{name: airports, type: global}",
                "{name: tickets, type: sharded, distributedby: ticket_no, partitions: 4}");
    }
}
