package io.shardlift.cdc.apply;

import io.shardlift.core.spec.ConnInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Commits a poll's batches: each node's in its own transaction (data and positions together), all nodes at once;
 * only then do {@link Positions} and the meters move.
 */
final class NodeCommits implements AutoCloseable {

    private final NodeWriter[] writers;
    private final ExecutorService pool;
    private final Positions positions;
    private final ApplyMetrics metrics;

    NodeCommits(List<ConnInfo> nodes, RetryBudget budget, Positions positions, ApplyMetrics metrics) {
        this.positions = positions;
        this.metrics = metrics;
        this.writers = new NodeWriter[nodes.size()];
        for (int i = 0; i < writers.length; i++) {
            writers[i] = new NodeWriter(i, nodes.get(i), writers.length, budget, metrics);
            metrics.nodeGauges(i, writers[i]::status);
        }
        this.pool = Executors.newFixedThreadPool(writers.length, r -> {
            Thread t = new Thread(r, "shardlift-apply-node");
            t.setDaemon(true);
            return t;
        });
    }

    NodeWriter[] writers() {
        return writers;
    }

    void commit(PollBatch poll) throws InterruptedException {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (NodeBatch b : poll.nodes) {
            if (b.isEmpty()) {
                continue;
            }
            NodeWriter w = writers[b.node];
            all.add(CompletableFuture.runAsync(() -> {
                try {
                    w.apply(b);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new CompletionException(ie);
                }
            }, pool));
        }
        if (all.isEmpty()) {
            return;
        }
        try {
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).join();
        } catch (CompletionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof InterruptedException ie) {
                throw ie;
            }
            throw cause instanceof RuntimeException r ? r : new IllegalStateException(cause);
        }
        long maxLsn = 0;
        long maxCommit = 0;
        for (NodeBatch b : poll.nodes) {
            positions.committed(b);
            for (NodeBatch.Progress p : b.progress.values()) {
                maxLsn = Math.max(maxLsn, p.position().lsn());
                maxCommit = Math.max(maxCommit, p.commitTimeMicros());
            }
        }
        metrics.eventsApplied.addAndGet(poll.events());
        metrics.appliedLsn.accumulateAndGet(maxLsn, Math::max);
        metrics.lastCommitMicros.accumulateAndGet(maxCommit, Math::max);
    }

    @Override
    public void close() {
        for (NodeWriter w : writers) {
            w.close();
        }
        pool.shutdownNow();
    }
}
