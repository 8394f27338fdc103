package io.shardlift.testkit;

import io.shardlift.embedded.PgNode;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Global tables (a full copy on every node) as the tests exercise them: writers through every node at once, then the
 * copies compared row by row. Shared by the layout's fan-out test (core) and the one after a real cutover (ops).
 */
public final class GlobalTables {

    private GlobalTables() {
    }

    /** One transaction of a writer, on a connection to node {@code node} without autocommit; the writer commits. */
    public interface Transaction {
        void run(Statement st, ThreadLocalRandom r, int node) throws SQLException;
    }

    /** What the writers did: transactions committed, and every failure (a failed transaction is rolled back). */
    public record Written(long commits, List<Throwable> failures) {
    }

    /**
     * Runs {@code writersPerNode} writers through each node at once for {@code duration}, each repeating {@code tx}
     * in a transaction of its own, and waits for them.
     */
    public static Written writeThroughEveryNode(List<PgNode> nodes, String db, int writersPerNode, Duration duration,
            Transaction tx) throws InterruptedException {
        AtomicLong commits = new AtomicLong();
        List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        long until = System.nanoTime() + duration.toNanos();
        for (int k = 0; k < nodes.size(); k++) {
            PgNode node = nodes.get(k);
            int index = k;
            for (int w = 0; w < writersPerNode; w++) {
                threads.add(new Thread(() -> {
                    try (Connection c = node.connect(db)) {
                        c.setAutoCommit(false);
                        ThreadLocalRandom r = ThreadLocalRandom.current();
                        while (System.nanoTime() < until) {
                            try (Statement st = c.createStatement()) {
                                tx.run(st, r, index);
                                c.commit();
                                commits.incrementAndGet();
                            } catch (SQLException e) {
                                c.rollback();
                                failures.add(e);
                            }
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }, "global-writer-" + node.name()));
            }
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join();
        }
        return new Written(commits.get(), List.copyOf(failures));
    }

    /**
     * The rows in which another node's copy of each table differs from node 0's (at most 20 a table and node), keyed
     * {@code "<table>, node 0 and node <k>"}; empty when every copy is identical.
     *
     * @param keys each table (as SQL, quoted where needed) and its key columns
     */
    public static Map<String, List<Datasets.RowDiff>> differences(List<PgNode> nodes, String db, Map<String, List<String>> keys)
            throws SQLException {
        Map<String, List<Datasets.RowDiff>> out = new LinkedHashMap<>();
        try (Connection first = nodes.get(0).connect(db)) {
            for (int k = 1; k < nodes.size(); k++) {
                try (Connection other = nodes.get(k).connect(db)) {
                    for (Map.Entry<String, List<String>> t : keys.entrySet()) {
                        List<Datasets.RowDiff> diff = Datasets.diffRows(first, other, t.getKey(), t.getValue(), 20);
                        if (!diff.isEmpty()) {
                            out.put(t.getKey() + ", node 0 and node " + k, diff);
                        }
                    }
                }
            }
        }
        return out;
    }
}
