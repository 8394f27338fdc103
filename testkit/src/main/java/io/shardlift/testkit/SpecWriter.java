package io.shardlift.testkit;

import io.shardlift.embedded.PgCluster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The migration spec (YAML) as the tests write it: one writer, so that a change of the spec's format is made once.
 * A test sets only what it varies; the tables default to {@link #sensorTables(int) the sensor schema's}, laid out as
 * every test lays it out. Sections a test does not set are left out (shardlift's defaults apply).
 */
public final class SpecWriter {

    private final String source;
    private List<String> nodes = List.of();
    private String schemas = publicSchema(sensorTables(8));
    private Integer jobs;
    private Integer batch;
    private String kafka;
    private Integer topicPartitions;
    private String slot;
    private String publication;
    private String ddl;
    private String listen;
    private String tokenEnv;
    private String extra = "";

    private SpecWriter(String source) {
        this.source = source;
    }

    /** A spec migrating from {@code sourceConnstr} (libpq key=value or postgres:// URL). */
    public static SpecWriter from(String sourceConnstr) {
        return new SpecWriter(sourceConnstr);
    }

    /** A spec from {@code database} on {@code cluster}'s source to the same database on each of its nodes. */
    public static SpecWriter from(PgCluster cluster, String database) {
        return from(cluster.source().connstr(database)).nodes(cluster.nodes().stream().map(n -> n.connstr(database)).toList());
    }

    /**
     * The spec lines (under {@code tables:}) of seed 000's sensor schema: device types on every node, devices hashed
     * into {@code devicePartitions} partitions by device_id, events colocated with them and keyed widened.
     */
    public static String sensorTables(int devicePartitions) {
        return "        - {name: device_types, type: global, priority: 3}\n"
                + "        - {name: devices, type: sharded, distributedby: device_id, partitions: " + devicePartitions + ", priority: 2}\n"
                + "        - {name: events, type: sharded, distributedby: device_id, colocatewith: devices, widen_unique: true, priority: 1}\n";
    }

    /** {@code tables} (lines under {@code tables:}) as the one schema {@code public}. */
    public static String publicSchema(String tables) {
        return "    - name: public\n      tables:\n" + tables;
    }

    /** The tables of the schema {@code public} (lines under {@code tables:}, e.g. {@link #sensorTables(int)}). */
    public SpecWriter tables(String tables) {
        return schemas(publicSchema(tables));
    }

    /** The list items under {@code migrate.schemas}, for specs over other schemas than {@code public}. */
    public SpecWriter schemas(String schemas) {
        this.schemas = schemas;
        return this;
    }

    /** The nodes' connection strings, in cluster order. */
    public SpecWriter nodes(List<String> connstrs) {
        this.nodes = List.copyOf(connstrs);
        return this;
    }

    public SpecWriter jobs(int jobs) {
        this.jobs = jobs;
        return this;
    }

    public SpecWriter batch(int batch) {
        this.batch = batch;
        return this;
    }

    /** {@code kafka.bootstrap}: a broker's address, or {@code embedded} for shardlift's own. */
    public SpecWriter kafka(String bootstrap) {
        this.kafka = bootstrap;
        return this;
    }

    public SpecWriter kafka(String bootstrap, int topicPartitions) {
        this.topicPartitions = topicPartitions;
        return kafka(bootstrap);
    }

    public SpecWriter replication(String slot, String publication) {
        this.slot = slot;
        this.publication = publication;
        return this;
    }

    /** {@code replication.ddl}: {@code replicate} or {@code stop} (with {@link #replication}). */
    public SpecWriter ddl(String mode) {
        this.ddl = mode;
        return this;
    }

    /** {@code control.listen}: the control plane's address:port. */
    public SpecWriter control(String listen) {
        this.listen = listen;
        return this;
    }

    /** {@code control.listen} and the environment variable holding the control plane's token. */
    public SpecWriter control(String listen, String tokenEnv) {
        this.tokenEnv = tokenEnv;
        return control(listen);
    }

    /** Top-level sections the writer has no option for (e.g. {@code pooler:}), as YAML text. */
    public SpecWriter with(String sections) {
        this.extra = sections;
        return this;
    }

    public String yaml() {
        StringBuilder y = new StringBuilder("version: \"1.0\"\nmigrate:\n  connstr: \"").append(source).append("\"\n");
        if (jobs != null) {
            y.append("  jobs: ").append(jobs).append('\n');
        }
        if (batch != null) {
            y.append("  batch: ").append(batch).append('\n');
        }
        y.append("  schemas:\n").append(schemas);
        y.append("cluster:\n  nodes:\n").append(nodes.stream().map(n -> "    - \"" + n + "\"\n").collect(Collectors.joining()));
        if (kafka != null) {
            y.append("kafka:\n  bootstrap: \"").append(kafka).append("\"\n");
            if (topicPartitions != null) {
                y.append("  topic_partitions: ").append(topicPartitions).append('\n');
            }
        }
        if (slot != null) {
            y.append("replication:\n  slot: ").append(slot).append("\n  publication: ").append(publication).append('\n');
            if (ddl != null) {
                y.append("  ddl: ").append(ddl).append('\n');
            }
        }
        if (listen != null) {
            y.append("control:\n  listen: \"").append(listen).append("\"\n");
            if (tokenEnv != null) {
                y.append("  token_env: ").append(tokenEnv).append('\n');
            }
        }
        return y.append(extra).toString();
    }

    /** Writes the spec to {@code file} (its directory created if missing) and returns the file. */
    public Path write(Path file) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.writeString(file, yaml());
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the spec " + file, e);
        }
    }
}
