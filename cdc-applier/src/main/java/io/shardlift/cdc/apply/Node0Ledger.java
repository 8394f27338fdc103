package io.shardlift.cdc.apply;

import io.shardlift.core.SqlErrors;
import io.shardlift.core.TargetException;
import io.shardlift.core.ledger.ApplyLedger;
import io.shardlift.core.ledger.Markers;
import io.shardlift.core.spec.ConnInfo;
import io.shardlift.core.spec.LazyConnection;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/**
 * The applier's connection to node 0's ledger, for what only node 0 records (marker arrivals, TRUNCATE barriers):
 * one connection in autocommit, reopened when it breaks, not one per record.
 */
final class Node0Ledger implements AutoCloseable {

    private final LazyConnection node0;
    private final RetryBudget budget;

    Node0Ledger(ConnInfo node0, RetryBudget budget) {
        this.node0 = new LazyConnection(node0);
        this.budget = budget;
    }

    /**
     * Arrivals at markers: partitions that applied everything before them on every node, in one statement (idempotent).
     * Markers arrive every half second (the lag probe), so without the retry a restart of node 0 stopped the applier.
     */
    void recordMarkers(List<Markers.Arrival> arrivals) throws InterruptedException {
        retrying("recording cutover markers", c -> {
            Markers.record(c, arrivals);
            return null;
        });
    }

    boolean barrierCarriedOut(String topic, String position) throws InterruptedException {
        return retrying("reading TRUNCATE and schema change barriers", c -> ApplyLedger.barrierCarriedOut(c, topic, position));
    }

    void arriveAtBarrier(String topic, String position, int kafkaPartition) throws InterruptedException {
        retrying("recording a partition's arrival at a barrier", c -> {
            ApplyLedger.arriveAtBarrier(c, topic, position, kafkaPartition); // idempotent
            return null;
        });
    }

    /** The label the retry budget and the status know node 0 by, the same as its writer's. */
    String label() {
        return "node 0 (" + node0.server().label() + ")";
    }

    private interface Call<T> {
        T on(Connection c) throws SQLException;
    }

    /** Runs {@code call}, retrying a lost connection within the applier's retry budget, like the nodes' writes. */
    private <T> T retrying(String what, Call<T> call) throws InterruptedException {
        while (true) {
            try {
                T out = call.on(connection());
                budget.succeeded(label());
                return out;
            } catch (SQLException e) {
                close();
                if (!SqlErrors.classify(e).retryable()) {
                    throw new TargetException(label() + ": " + what + ": " + SqlErrors.describe(e), e);
                }
                budget.failed(label(), e);
            }
        }
    }

    private Connection connection() throws SQLException {
        return node0.get();
    }

    @Override
    public void close() {
        node0.close();
    }
}
