package io.shardlift.snapshotter;

import io.shardlift.core.TableId;
import io.shardlift.core.TargetException;
import io.shardlift.core.ledger.CopyLedger;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.plan.Ddl;
import io.shardlift.core.plan.TablePlan;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds a table's keys and indexes on every node once its data is in (as pgcopydb does: loading into an
 * unindexed table and indexing once is faster than maintaining the index row by row), then ANALYZEs the
 * local partitions so the nodes plan well from the first query.
 */
final class IndexBuilder implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(IndexBuilder.class);

    private final ClusterPlan plan;
    private final ControlStore store;
    private final ExecutorService pool;
    /** One session per node for every table's builds (they run one table at a time per node): a backend is not free. */
    private final Connection[] sessions;

    IndexBuilder(ClusterPlan plan, ControlStore store, ExecutorService pool) {
        this.plan = plan;
        this.store = store;
        this.pool = pool;
        this.sessions = new Connection[plan.nodeCount()];
    }

    /** Builds the table's indexes on each node that has not recorded them yet, all nodes at once. */
    void build(TablePlan table) {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int n = 0; n < plan.nodeCount(); n++) {
            int node = n;
            all.add(CompletableFuture.runAsync(() -> buildOn(node, table), pool));
        }
        try {
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    private void buildOn(int node, TablePlan table) {
        TableId id = table.id();
        if (store.indexed(node, id)) {
            return;
        }
        long t0 = System.nanoTime();
        List<Ddl> ddl = plan.nodes().get(node).indexes(id);
        try (Statement st = session(node).createStatement()) {
            for (Ddl d : ddl) {
                st.execute(d.sql());
            }
            String locals = table.partitionsOn(node, plan.nodeCount()).stream().map(p -> table.partition(p).quoted())
                    .collect(Collectors.joining(", "));
            st.execute("ANALYZE " + locals);
            CopyLedger.recordIndexed(st.getConnection(), id.toString());
        } catch (SQLException e) {
            drop(node);
            throw new TargetException(store.label(node) + ": building the keys and indexes of " + id + ": " + e.getMessage(), e);
        }
        log.info("{}: {} indexed and analyzed ({} statements, {} ms)", store.label(node), id, ddl.size(),
                (System.nanoTime() - t0) / 1_000_000);
    }

    private synchronized Connection session(int node) throws SQLException {
        if (sessions[node] == null) {
            Connection c = store.connect(node);
            try (Statement st = c.createStatement()) {
                st.execute("SET maintenance_work_mem = '256MB'");
            }
            sessions[node] = c;
        }
        return sessions[node];
    }

    private synchronized void drop(int node) {
        if (sessions[node] != null) {
            ControlStore.closeQuietly(sessions[node]);
            sessions[node] = null;
        }
    }

    @Override
    public void close() {
        for (int n = 0; n < sessions.length; n++) {
            drop(n);
        }
    }
}
