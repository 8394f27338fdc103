package io.shardlift.embedded;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * A source node plus N shard nodes, started in parallel, each with {@code database} created.
 * Closing stops every node that was started, even when some failed to start.
 */
public final class PgCluster implements AutoCloseable {

    private final PgNode source;
    private final List<PgNode> nodes;
    private final String database;

    private PgCluster(PgNode source, List<PgNode> nodes, String database) {
        this.source = source;
        this.nodes = List.copyOf(nodes);
        this.database = database;
    }

    /** Starts a source and {@code shardNodes} shard nodes named {@code prefix-source}, {@code prefix-node0}... */
    public static PgCluster start(String prefix, int shardNodes, String database) {
        List<CompletableFuture<PgNode>> futures = new ArrayList<>();
        futures.add(CompletableFuture.supplyAsync(() -> PgNode.start(prefix + "-source").createDatabase(database)));
        for (int i = 0; i < shardNodes; i++) {
            String name = prefix + "-node" + i;
            futures.add(CompletableFuture.supplyAsync(() -> PgNode.start(name).createDatabase(database)));
        }
        List<PgNode> started = new ArrayList<>();
        RuntimeException failure = null;
        for (CompletableFuture<PgNode> f : futures) {
            try {
                started.add(f.join());
            } catch (CompletionException e) {
                failure = failure == null ? new IllegalStateException("cluster start failed", e.getCause()) : failure;
            }
        }
        if (failure != null) {
            started.forEach(PgNode::close);
            throw failure;
        }
        return new PgCluster(started.get(0), started.subList(1, started.size()), database);
    }

    public PgNode source() {
        return source;
    }

    public List<PgNode> nodes() {
        return nodes;
    }

    public String database() {
        return database;
    }

    /** Connection strings of the shard nodes, in node order. */
    public List<String> nodeConnstrs() {
        return nodes.stream().map(n -> n.connstr(database)).toList();
    }

    @Override
    public void close() {
        RuntimeException first = null;
        for (PgNode n : nodes) {
            try {
                n.close();
            } catch (RuntimeException e) {
                first = first == null ? e : first;
            }
        }
        try {
            source.close();
        } catch (RuntimeException e) {
            first = first == null ? e : first;
        }
        if (first != null) {
            throw first;
        }
    }
}
