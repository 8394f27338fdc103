package io.shardlift.ops.verify;

import io.shardlift.core.Lsn;
import io.shardlift.core.TableId;
import io.shardlift.core.plan.TableKind;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * What one comparison of source and cluster found: per table the rows on each side, the key ranges compared,
 * those that differ, and up to {@link #keyLimit} keys per kind that are missing, extra or different.
 * Immutable; {@link #print} and {@link #toJson} render it for operators and scripts.
 *
 * @param startedAt       when the comparison began: the cluster is compared as it stood about then
 * @param finishedAt      when it ended
 * @param sourceLsnBefore the source's WAL position when the comparison began
 * @param sourceLsnAfter  the source's WAL position when it ended; a later one means the source was written meanwhile
 * @param nodes           nodes in the cluster
 * @param keyLimit        keys listed per table and kind
 * @param tables          every table of the plan, in plan order
 * @param notes           what the operator should know to read the result (lag, collations)
 * @param shapes          how tables' shapes (columns, CHECKs) differ between the source and a node, one line each; a
 *                        table listed here has no row comparison in {@code tables}
 */
public record VerifyReport(Instant startedAt, Instant finishedAt, Optional<Lsn> sourceLsnBefore,
                           Optional<Lsn> sourceLsnAfter, int nodes, int keyLimit, List<TableReport> tables,
                           List<String> notes, List<String> shapes) {

    public VerifyReport(Instant startedAt, Instant finishedAt, Optional<Lsn> sourceLsnBefore, Optional<Lsn> sourceLsnAfter,
                        int nodes, int keyLimit, List<TableReport> tables, List<String> notes) {
        this(startedAt, finishedAt, sourceLsnBefore, sourceLsnAfter, nodes, keyLimit, tables, notes, List.of());
    }

    public VerifyReport {
        Objects.requireNonNull(startedAt, "startedAt");
        Objects.requireNonNull(finishedAt, "finishedAt");
        Objects.requireNonNull(sourceLsnBefore, "sourceLsnBefore");
        Objects.requireNonNull(sourceLsnAfter, "sourceLsnAfter");
        tables = List.copyOf(tables);
        notes = List.copyOf(notes);
        shapes = List.copyOf(shapes);
    }

    /**
     * This report and the tables of the spec the planner refused now, each a difference: not compared, with the
     * planner's reason (a table renamed on the source, whose stream stopped, has no table of its name to compare).
     */
    public VerifyReport notCompared(java.util.Map<TableId, List<String>> refused) {
        if (refused.isEmpty()) {
            return this;
        }
        List<String> more = new java.util.ArrayList<>(shapes);
        refused.forEach((id, why) -> more.add(id + ": not compared: " + String.join("; ", why)));
        return new VerifyReport(startedAt, finishedAt, sourceLsnBefore, sourceLsnAfter, nodes, keyLimit, tables, notes, more);
    }

    /** True when every table has the same shape and holds the same rows on the source and on the cluster. */
    public boolean equal() {
        return shapes.isEmpty() && tables.stream().allMatch(TableReport::equal);
    }

    public Duration duration() {
        return Duration.between(startedAt, finishedAt);
    }

    public Optional<TableReport> table(TableId id) {
        return tables.stream().filter(t -> t.table().equals(id)).findFirst();
    }

    /** The report as an operator reads it: a block per table, a summary line, the notes. */
    public void print(PrintWriter out) {
        ReportText.print(this, out);
    }

    /** The report as JSON, for scripts. */
    public String toJson() {
        return ReportJson.render(this);
    }

    /** How a key differs between the source and the cluster. */
    public enum DiffKind {
        /** On the source, not on the cluster. */
        MISSING,
        /** On the cluster, not on the source. */
        EXTRA,
        /** On both, with different values. */
        DIFFERENT;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * One key that differs.
     *
     * @param key      the values of the source primary key, as text, in key order
     * @param chunk    the key range it lies in
     * @param node     the node whose row is extra or different, or (reference tables) the node that lacks it;
     *                 empty for a sharded table's missing row
     * @param relation the table on that node that holds the row (a sharded table's partition)
     */
    public record KeyDiff(DiffKind kind, List<String> key, int chunk, OptionalInt node, Optional<String> relation) {

        public KeyDiff {
            Objects.requireNonNull(kind, "kind");
            key = List.copyOf(key);
            Objects.requireNonNull(node, "node");
            Objects.requireNonNull(relation, "relation");
        }
    }

    /**
     * A key range whose rows differ.
     *
     * @param lo             lowest key of the range (inclusive), as text; empty for the first range
     * @param hi             key that ends the range (exclusive); empty for the last range
     * @param sourceRows     rows in the range on the source
     * @param nodeRows       rows in the range per node (a sharded table's local partitions; a reference table's copy)
     * @param differingNodes reference tables: the nodes whose copy differs; empty for sharded tables, whose rows
     *                       add up across nodes and differ only as a sum
     * @param drilled        false when the keys were not looked for because the table's key lists were full
     * @param keysFound      differing keys found in the range (up to the key limit per kind); 0 after a drill-down
     *                       means the rows changed between the checksum and the second read
     */
    public record ChunkReport(int index, Optional<String> lo, Optional<String> hi, long sourceRows, List<Long> nodeRows,
                              List<Integer> differingNodes, boolean drilled, int keysFound) {

        public ChunkReport {
            Objects.requireNonNull(lo, "lo");
            Objects.requireNonNull(hi, "hi");
            nodeRows = List.copyOf(nodeRows);
            differingNodes = List.copyOf(differingNodes);
        }

        public long clusterRows() {
            return nodeRows.stream().mapToLong(Long::longValue).sum();
        }
    }

    /**
     * One table's comparison.
     *
     * @param keyColumn       the column the key ranges are on: the source primary key's first column
     * @param sourceKey       the source primary key, which identifies rows in {@link #keys}
     * @param sourceRows      rows on the source
     * @param nodeRows        rows per node: a sharded table's local partitions, a reference table's copy
     * @param chunks          key ranges compared
     * @param differingChunks the key ranges whose rows differ, in key order
     * @param keys            differing keys in key order, at most the key limit per kind
     * @param keysTruncated   true when more differing keys exist than are listed (or were not looked for)
     */
    public record TableReport(TableId table, TableKind kind, String keyColumn, List<String> sourceKey, long sourceRows,
                              List<Long> nodeRows, int chunks, List<ChunkReport> differingChunks, List<KeyDiff> keys,
                              boolean keysTruncated) {

        public TableReport {
            Objects.requireNonNull(table, "table");
            Objects.requireNonNull(kind, "kind");
            sourceKey = List.copyOf(sourceKey);
            nodeRows = List.copyOf(nodeRows);
            differingChunks = List.copyOf(differingChunks);
            keys = List.copyOf(keys);
        }

        public boolean equal() {
            return differingChunks.isEmpty();
        }

        public boolean sharded() {
            return kind == TableKind.SHARDED;
        }

        /**
         * Rows the cluster holds: a sharded table's rows summed over the nodes; a reference table's rows when every
         * node holds the same number, empty when the copies differ in size (see {@link #nodeRows}).
         */
        public OptionalLong clusterRows() {
            if (sharded()) {
                return OptionalLong.of(nodeRows.stream().mapToLong(Long::longValue).sum());
            }
            return nodeRows.stream().distinct().count() == 1 ? OptionalLong.of(nodeRows.get(0)) : OptionalLong.empty();
        }

        public List<KeyDiff> keys(DiffKind kind) {
            return keys.stream().filter(k -> k.kind() == kind).toList();
        }
    }
}
