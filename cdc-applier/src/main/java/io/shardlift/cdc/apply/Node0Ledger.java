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
     * A lost connection is retried within the retry budget, like the nodes' writes: markers arrive every half second
     * (the lag probe), so a restart of node 0 stopped the applier here without it.
     */
    void recordMarkers(List<Markers.Arrival> arrivals) throws InterruptedException {
        String label = "node 0 (" + node0.server().label() + ")";
        while (true) {
            try {
                Markers.record(connection(), arrivals);
                budget.succeeded(label);
                return;
            } catch (SQLException e) {
                close();
                if (!SqlErrors.classify(e).retryable()) {
                    throw new TargetException(label + ": recording cutover markers: " + SqlErrors.describe(e), e);
                }
                budget.failed(label, e);
            }
        }
    }

    boolean barrierCarriedOut(String topic, String position) {
        try {
            return ApplyLedger.barrierCarriedOut(connection(), topic, position);
        } catch (SQLException e) {
            close();
            throw new TargetException("node 0: cannot read TRUNCATE barriers: " + e.getMessage(), e);
        }
    }

    void arriveAtBarrier(String topic, String position, int kafkaPartition) {
        try {
            ApplyLedger.arriveAtBarrier(connection(), topic, position, kafkaPartition);
        } catch (SQLException e) {
            close();
            throw new TargetException("node 0: " + e.getMessage(), e);
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
