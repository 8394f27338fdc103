package io.shardlift.ops.cutover;

import io.shardlift.core.ledger.Markers;
import io.shardlift.core.SourceException;
import io.shardlift.core.TargetException;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.spec.ConnInfo;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The connections a cutover uses, all opened before the write freeze begins so none of it is spent on
 * connecting: the fence transaction, one source connection for markers and a few for counting, three per node.
 * Closing rolls the fence transaction back if it was not committed.
 */
final class Links implements AutoCloseable {

    private final List<Connection> all = new ArrayList<>();
    private Connection fence;
    private final List<Connection> source = new ArrayList<>();
    private final List<Connection> nodes = new ArrayList<>();
    private final List<Connection> nodesAux = new ArrayList<>();
    private final List<Connection> nodesSeq = new ArrayList<>();

    private Links() {
    }

    static Links open(ClusterPlan plan, int sourceConnections) {
        Links l = new Links();
        ConnInfo src = plan.spec().source();
        try {
            l.fence = l.connect(src);
            l.fence.setAutoCommit(false);
            for (int i = 0; i < Math.max(1, sourceConnections); i++) {
                l.source.add(l.connect(src));
            }
        } catch (SQLException e) {
            l.close();
            throw new SourceException("source " + src.label() + ": cannot connect for the cutover: " + e.getMessage(), e);
        }
        for (int k = 0; k < plan.nodeCount(); k++) {
            ConnInfo n = plan.spec().nodes().get(k);
            try {
                l.nodes.add(l.connect(n));
                if (k == 0) {
                    Markers.listen(l.nodes.get(0));
                }
                l.nodesAux.add(l.connect(n));
                l.nodesSeq.add(l.connect(n));
            } catch (SQLException e) {
                l.close();
                throw new TargetException("node " + k + " (" + n.label() + "): cannot connect for the cutover: " + e.getMessage(), e);
            }
        }
        return l;
    }

    private Connection connect(ConnInfo ci) throws SQLException {
        Connection c = ci.connect();
        all.add(c);
        return c;
    }

    Connection fence() {
        return fence;
    }

    Connection source(int i) {
        return source.get(i);
    }

    int sourceCount() {
        return source.size();
    }

    Connection node(int k) {
        return nodes.get(k);
    }

    /** A second connection to node k, for work that runs beside what the first does. */
    Connection nodeAux(int k) {
        return nodesAux.get(k);
    }

    /** A third connection to node k, for the sequences. */
    Connection nodeSeq(int k) {
        return nodesSeq.get(k);
    }

    @Override
    public void close() {
        for (Connection c : all) {
            try {
                c.close(); // an open fence transaction ends with its connection: rolled back, lock released
            } catch (SQLException ignored) {
                // the server ends the session either way
            }
        }
    }
}
