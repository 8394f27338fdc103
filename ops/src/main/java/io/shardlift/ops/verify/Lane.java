package io.shardlift.ops.verify;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/**
 * One worker's connections: one to the source and one to each node, opened on first use. A lane compares one
 * key range at a time, its side queries at once, each on its own connection.
 */
final class Lane implements AutoCloseable {

    private final Endpoint source;
    private final List<Endpoint> nodes;
    private Connection sourceConnection;
    private final Connection[] nodeConnections;

    Lane(Endpoint source, List<Endpoint> nodes) {
        this.source = source;
        this.nodes = nodes;
        this.nodeConnections = new Connection[nodes.size()];
    }

    int nodes() {
        return nodes.size();
    }

    Endpoint endpoint(int node) {
        return node < 0 ? source : nodes.get(node);
    }

    /** The connection to the source ({@code node} -1) or to a node. */
    synchronized Connection connection(int node) {
        if (node < 0) {
            if (sourceConnection == null) {
                sourceConnection = source.open();
            }
            return sourceConnection;
        }
        if (nodeConnections[node] == null) {
            nodeConnections[node] = nodes.get(node).open();
        }
        return nodeConnections[node];
    }

    @Override
    public synchronized void close() {
        closeQuietly(sourceConnection);
        for (Connection c : nodeConnections) {
            closeQuietly(c);
        }
    }

    private static void closeQuietly(Connection c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (SQLException e) {
            // the comparison is over, or failed already: that failure is the one to report
        }
    }
}
