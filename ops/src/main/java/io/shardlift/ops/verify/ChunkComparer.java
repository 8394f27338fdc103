package io.shardlift.ops.verify;

import io.shardlift.ops.verify.VerifyReport.DiffKind;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * Compares one key range on one lane: the checksums on the source and on every node at once, and, for a range
 * that differs, the drill-down that streams both sides in key order and lists the keys.
 */
final class ChunkComparer {

    /** Rows per round trip of a drill-down stream: bounds the memory a stream takes. */
    static final int FETCH_SIZE = 2000;

    private final ExecutorService sides;
    private final int nodes;

    /** @param sides runs each side's query of a range; sized so that every lane's sides run at once */
    ChunkComparer(ExecutorService sides, int nodes) {
        this.sides = sides;
        this.nodes = nodes;
    }

    ChunkCheck checksum(Lane lane, TableSql t, KeyRange r) throws InterruptedException {
        List<Future<Checksum>> running = new ArrayList<>();
        running.add(sides.submit(() -> checksum(lane, -1, t.sourceChecksum(r), t, r)));
        for (int k = 0; k < nodes; k++) {
            int node = k;
            running.add(t.onNode(k) ? sides.submit(() -> checksum(lane, node, t.nodeChecksum(node, r), t, r)) : null);
        }
        List<Checksum> done = awaitEach(running);
        List<Checksum> perNode = done.subList(1, done.size()).stream().map(c -> c == null ? Checksum.ZERO : c).toList();
        return new ChunkCheck(t, r, done.get(0), perNode);
    }

    private static Checksum checksum(Lane lane, int node, String sql, TableSql t, KeyRange r) {
        Connection c = lane.connection(node);
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            TableSql.bind(ps, r, t.branches(node));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new Checksum(rs.getLong(1), rs.getBigDecimal(2).toBigIntegerExact());
            }
        } catch (SQLException e) {
            throw lane.endpoint(node).failure("cannot checksum " + t.plan.id() + " where " + r.describe(t.keyColumn), e);
        } finally {
            rollback(c);
        }
    }

    /**
     * The keys of a differing range. A sharded table's rows are merged from every node's local partitions against
     * the source's; a reference table's differing copies are each merged against the source on their own.
     */
    KeyMerge.Result drill(Lane lane, ChunkCheck check, int limitPerKind) throws InterruptedException {
        TableSql t = check.table();
        if (t.plan.sharded()) {
            List<Integer> holders = new ArrayList<>();
            for (int k = 0; k < nodes; k++) {
                if (t.onNode(k)) {
                    holders.add(k);
                }
            }
            return merge(lane, t, check.range(), holders, limitPerKind);
        }
        List<KeyMerge.Found> found = new ArrayList<>();
        boolean truncated = false;
        for (int k : check.differingNodes()) {
            KeyMerge.Result r = merge(lane, t, check.range(), List.of(k), limitPerKind);
            for (KeyMerge.Found f : r.found()) {
                // a reference table's missing row is missing from this node's copy
                found.add(f.kind() == DiffKind.MISSING ? new KeyMerge.Found(f.kind(), f.key(), k, t.plan.id().toString()) : f);
            }
            truncated |= r.truncated();
        }
        found.sort((a, b) -> {
            int c = t.order.compare(a.key(), b.key());
            return c != 0 ? c : Integer.compare(a.node(), b.node());
        });
        return new KeyMerge.Result(List.copyOf(found), truncated);
    }

    private KeyMerge.Result merge(Lane lane, TableSql t, KeyRange r, List<Integer> clusterNodes, int limit)
            throws InterruptedException {
        List<Future<Stream>> opening = new ArrayList<>();
        opening.add(sides.submit(() -> open(lane, -1, t.sourceRows(r), t, r)));
        for (int k : clusterNodes) {
            opening.add(sides.submit(() -> open(lane, k, t.nodeRows(k, r), t, r)));
        }
        List<Stream> open = new ArrayList<>();
        try {
            RuntimeException failure = null;
            for (Future<Stream> f : opening) {
                try {
                    open.add(await(f));
                } catch (RuntimeException e) {
                    failure = failure == null ? e : failure;
                }
            }
            if (failure != null) {
                throw failure;
            }
            List<RowCursor> cluster = open.subList(1, open.size()).stream().map(s -> (RowCursor) s.cursor()).toList();
            return KeyMerge.diff(open.get(0).cursor(), cluster, t.order, limit);
        } finally {
            for (Stream s : open) {
                s.close();
            }
        }
    }

    /** An open drill-down statement on one side. */
    private record Stream(Connection connection, PreparedStatement statement, SqlCursor cursor) {

        void close() {
            try {
                statement.close();
            } catch (SQLException e) {
                // the rollback below ends the statement's transaction in any case
            }
            rollback(connection);
        }
    }

    private static Stream open(Lane lane, int node, String sql, TableSql t, KeyRange r) {
        Connection c = lane.connection(node);
        PreparedStatement ps = null;
        String what = "cannot read the rows of " + t.plan.id() + " where " + r.describe(t.keyColumn);
        try {
            ps = c.prepareStatement(sql);
            ps.setFetchSize(FETCH_SIZE);
            TableSql.bind(ps, r, t.branches(node));
            ResultSet rs = ps.executeQuery();
            return new Stream(c, ps, new SqlCursor(rs, t.sourceKey.size(), lane.endpoint(node), what));
        } catch (SQLException e) {
            if (ps != null) {
                new Stream(c, ps, null).close();
            } else {
                rollback(c);
            }
            throw lane.endpoint(node).failure(what, e);
        }
    }

    /**
     * Every result, in order (null for a null future); the first failure is thrown only once all have ended, so no
     * side query still runs on the lane's connections when the lane goes back to the pool.
     */
    static <T> List<T> awaitEach(List<Future<T>> fs) throws InterruptedException {
        List<T> results = new ArrayList<>(fs.size());
        RuntimeException failure = null;
        for (Future<T> f : fs) {
            try {
                results.add(f == null ? null : await(f));
            } catch (RuntimeException e) {
                failure = failure == null ? e : failure;
            }
        }
        if (failure != null) {
            throw failure;
        }
        return results;
    }

    static <T> T await(Future<T> f) throws InterruptedException {
        try {
            return f.get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(cause);
        }
    }

    /** Ends the unit of work: verify only reads, and a finished read should not hold a snapshot open. */
    static void rollback(Connection c) {
        try {
            c.rollback();
        } catch (SQLException e) {
            // a broken connection: the next statement on it reports the failure with its side's name
        }
    }
}
