package io.shardlift.ops.demo;

import io.shardlift.embedded.EmbeddedDir;
import io.shardlift.embedded.PgCluster;
import io.shardlift.embedded.PgNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The embedded default: a source and N shard nodes from the embedded PostgreSQL binaries, with data
 * under the work directory, stopped (and their data deleted) on close or on Ctrl-C.
 */
final class DemoEnvironment implements AutoCloseable {

    static final String DATABASE = "demo";

    private final PgCluster cluster;
    private final Path workDir;
    private final Thread shutdownHook;

    private DemoEnvironment(PgCluster cluster, Path workDir) {
        this.cluster = cluster;
        this.workDir = workDir;
        this.shutdownHook = new Thread(this::stopAll, "shardlift-demo-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    static DemoEnvironment start(Path workDir, int nodes) throws Exception {
        Files.createDirectories(workDir);
        System.setProperty(EmbeddedDir.DIR_PROPERTY, workDir.toAbsolutePath().toString());
        return new DemoEnvironment(PgCluster.start("demo", nodes, DATABASE), workDir);
    }

    PgCluster cluster() {
        return cluster;
    }

    /** The spec the demo migrates with: seed 000's layout (device_types global, devices and events colocated). */
    String specYaml(int partitions) {
        List<String> nodes = new ArrayList<>();
        cluster.nodes().forEach(n -> nodes.add("    - \"" + n.connstr(DATABASE) + "\""));
        return """
                version: "1.0"
                migrate:
                  connstr: "%s"
                  jobs: 2
                  batch: 2000
                  schemas:
                    - name: public
                      all: false
                      tables:
                        - {name: device_types, type: global, priority: 3}
                        - {name: devices, type: sharded, distributedby: device_id, partitions: %d, priority: 2}
                        # the seed widens events' primary key to (event_id, device_id) by hand; shardlift does it on the nodes
                        - {name: events, type: sharded, distributedby: device_id, colocatewith: devices, widen_unique: true, priority: 1}
                cluster:
                  nodes:
                %s
                kafka:
                  bootstrap: embedded
                control:
                  listen: 127.0.0.1:8080   # for `shardlift run`; the demo listens on a free port, printed below
                  token_env: SHARDLIFT_TOKEN
                """.formatted(cluster.source().connstr(DATABASE), partitions, String.join("\n", nodes));
    }

    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException alreadyShuttingDown) {
            return;
        }
        stopAll();
    }

    private void stopAll() {
        try {
            cluster.close();
        } finally {
            // the embedded broker's data (the migration's, under data/) goes too
            PgNode.deleteQuietly(workDir.resolve("data"));
        }
    }
}
