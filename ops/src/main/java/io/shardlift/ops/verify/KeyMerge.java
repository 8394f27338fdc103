package io.shardlift.ops.verify;

import io.shardlift.ops.verify.VerifyReport.DiffKind;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Merges the source's rows of a key range with the cluster's (one cursor per node, each in key order) and lists the
 * keys that differ. Memory is bounded by the rows that share one key: the cursors stream, nothing else is kept.
 *
 * <p>Rows are matched per key as multisets of row hashes, so a key the cluster holds twice (possible on a table
 * whose primary key was widened with the sharding key) shows as one matching row and one extra row, not as noise.
 */
final class KeyMerge {

    /** One differing key: {@code node} and {@code relation} of the cluster's row, -1 and null for a missing one. */
    record Found(DiffKind kind, String[] key, int node, String relation) {

        @Override
        public String toString() {
            return kind.label() + " " + Arrays.toString(key) + (node < 0 ? "" : " on node " + node);
        }
    }

    /** The keys found, in key order, at most the limit per kind; truncated when more may exist. */
    record Result(List<Found> found, boolean truncated) {
    }

    private record ClusterRow(long hash, int node, String relation) {
    }

    private KeyMerge() {
    }

    static Result diff(RowCursor source, List<RowCursor> cluster, KeyOrder order, int limitPerKind) {
        Map<DiffKind, Integer> counts = new EnumMap<>(DiffKind.class);
        List<Found> found = new ArrayList<>();
        boolean dropped = false;
        Comparator<RowCursor> byKeyThenNode = (a, b) -> {
            int c = order.compare(a.key(), b.key());
            return c != 0 ? c : Integer.compare(a.node(), b.node());
        };
        PriorityQueue<RowCursor> heap = new PriorityQueue<>(Math.max(1, cluster.size()), byKeyThenNode);
        for (RowCursor c : cluster) {
            if (c.next()) {
                heap.add(c);
            }
        }
        boolean sourceHas = source.next();
        List<Long> sourceHashes = new ArrayList<>();
        List<ClusterRow> clusterRows = new ArrayList<>();
        while (sourceHas || !heap.isEmpty()) {
            if (full(counts, limitPerKind)) {
                return new Result(List.copyOf(found), true);
            }
            String[] key;
            if (!sourceHas) {
                key = heap.peek().key().clone();
            } else if (heap.isEmpty() || order.compare(source.key(), heap.peek().key()) <= 0) {
                key = source.key().clone();
            } else {
                key = heap.peek().key().clone();
            }
            sourceHashes.clear();
            while (sourceHas && order.compare(source.key(), key) == 0) {
                sourceHashes.add(source.hash());
                sourceHas = source.next();
                if (sourceHas) {
                    requireAscending(source, key, order);
                }
            }
            clusterRows.clear();
            while (!heap.isEmpty() && order.compare(heap.peek().key(), key) == 0) {
                RowCursor c = heap.poll();
                clusterRows.add(new ClusterRow(c.hash(), c.node(), c.relation()));
                if (c.next()) {
                    requireAscending(c, key, order);
                    heap.add(c);
                }
            }
            // rows with equal hashes match; what is left pairs off as different, the rest is missing or extra
            for (Iterator<Long> s = sourceHashes.iterator(); s.hasNext(); ) {
                long h = s.next();
                for (Iterator<ClusterRow> c = clusterRows.iterator(); c.hasNext(); ) {
                    if (c.next().hash() == h) {
                        c.remove();
                        s.remove();
                        break;
                    }
                }
            }
            int paired = Math.min(sourceHashes.size(), clusterRows.size());
            for (int i = 0; i < paired; i++) {
                ClusterRow r = clusterRows.get(i);
                dropped |= !add(found, counts, limitPerKind, new Found(DiffKind.DIFFERENT, key, r.node(), r.relation()));
            }
            for (int i = paired; i < sourceHashes.size(); i++) {
                dropped |= !add(found, counts, limitPerKind, new Found(DiffKind.MISSING, key, -1, null));
            }
            for (int i = paired; i < clusterRows.size(); i++) {
                ClusterRow r = clusterRows.get(i);
                dropped |= !add(found, counts, limitPerKind, new Found(DiffKind.EXTRA, key, r.node(), r.relation()));
            }
        }
        return new Result(List.copyOf(found), dropped);
    }

    private static boolean add(List<Found> found, Map<DiffKind, Integer> counts, int limit, Found f) {
        int n = counts.getOrDefault(f.kind(), 0);
        if (n >= limit) {
            return false;
        }
        counts.put(f.kind(), n + 1);
        found.add(f);
        return true;
    }

    private static boolean full(Map<DiffKind, Integer> counts, int limit) {
        for (DiffKind k : DiffKind.values()) {
            if (counts.getOrDefault(k, 0) < limit) {
                return false;
            }
        }
        return true;
    }

    /** A side whose rows do not ascend would make the merge report nonsense: stop instead. */
    private static void requireAscending(RowCursor c, String[] previous, KeyOrder order) {
        if (order.compare(c.key(), previous) < 0) {
            throw new IllegalStateException("rows of " + (c.node() < 0 ? "the source" : "node " + c.node())
                    + " arrived out of key order: " + Arrays.toString(c.key()) + " after " + Arrays.toString(previous));
        }
    }
}
