package io.shardlift.ops.verify;

import io.shardlift.ops.verify.VerifyReport.ChunkReport;
import io.shardlift.ops.verify.VerifyReport.DiffKind;
import io.shardlift.ops.verify.VerifyReport.KeyDiff;
import io.shardlift.ops.verify.VerifyReport.TableReport;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** {@link VerifyReport} as an operator reads it: one line per table, its differing key ranges and keys below it. */
final class ReportText {

    private static final String ROW = "%-32s %-9s %14s %16s %7s %9s  %s%n";

    private ReportText() {
    }

    static void print(VerifyReport report, PrintWriter out) {
        out.printf(Locale.ROOT, "verify at %s (%.1f s), source against %d nodes%s%n", report.startedAt(),
                report.duration().toMillis() / 1000.0, report.nodes(),
                report.sourceLsnBefore().map(b -> ", source WAL " + b + report.sourceLsnAfter()
                        .filter(a -> !a.equals(b)).map(a -> " to " + a).orElse("")).orElse(""));
        out.printf(Locale.ROOT, ROW, "table", "kind", "source rows", "cluster rows", "chunks", "differing", "");
        for (TableReport t : report.tables()) {
            out.printf(Locale.ROOT, ROW, t.table(), t.sharded() ? "sharded" : "reference", count(t.sourceRows()),
                    clusterRows(t), count(t.chunks()), count(t.differingChunks().size()), t.equal() ? "equal" : "DIFFERENT");
            for (ChunkReport c : t.differingChunks()) {
                printChunk(t, c, out);
            }
            if (t.keysTruncated()) {
                out.printf(Locale.ROOT, "  more keys differ than listed here (at most %d per kind)%n", report.keyLimit());
            }
        }
        for (String shape : report.shapes()) {
            out.println("shape DIFFERENT: " + shape);
        }
        out.println(summary(report));
        for (String note : report.notes()) {
            out.println("note: " + note);
        }
        out.flush();
    }

    private static void printChunk(TableReport t, ChunkReport c, PrintWriter out) {
        KeyRange range = new KeyRange(c.index(), c.lo(), c.hi());
        String rows = t.sharded()
                ? count(c.clusterRows()) + " on the cluster"
                : perNode(c.nodeRows()) + " on nodes " + nodeList(c.nodeRows().size()) + "; node"
                        + (c.differingNodes().size() == 1 ? " " : "s ")
                        + c.differingNodes().stream().map(String::valueOf).collect(Collectors.joining(", ")) + " differ"
                        + (c.differingNodes().size() == 1 ? "s" : "");
        out.printf(Locale.ROOT, "  chunk %d (%s): %s rows on the source, %s%n", c.index(), range.describe(t.keyColumn()),
                count(c.sourceRows()), rows);
        List<KeyDiff> keys = t.keys().stream().filter(k -> k.chunk() == c.index()).toList();
        for (KeyDiff k : keys) {
            out.printf(Locale.ROOT, "    %-10s %s%s%n", k.kind().label(), key(t.sourceKey(), k.key()), location(k));
        }
        if (!c.drilled()) {
            out.println("    keys not looked for: the table's key lists were full");
        } else if (c.keysFound() == 0) {
            out.println("    no differing key on a second read: the rows changed while verify ran");
        }
    }

    static String summary(VerifyReport report) {
        List<TableReport> tables = report.tables();
        long sourceRows = tables.stream().mapToLong(TableReport::sourceRows).sum();
        int chunks = tables.stream().mapToInt(TableReport::chunks).sum();
        if (report.equal()) {
            return String.format(Locale.ROOT, "equal: %d tables, %s rows on the source, %s key ranges, the same on the cluster",
                    tables.size(), count(sourceRows), count(chunks));
        }
        long differingTables = tables.stream().filter(t -> !t.equal()).count();
        int differingChunks = tables.stream().mapToInt(t -> t.differingChunks().size()).sum();
        StringBuilder keys = new StringBuilder();
        for (DiffKind kind : DiffKind.values()) {
            long n = tables.stream().mapToLong(t -> t.keys(kind).size()).sum();
            keys.append(keys.length() == 0 ? "" : ", ").append(n).append(' ').append(kind.label());
        }
        boolean truncated = tables.stream().anyMatch(TableReport::keysTruncated);
        // a table whose shape differs is left out of the row comparison, so its count says it apart
        String shapes = report.shapes().isEmpty() ? "" : report.shapes().size() + " shape difference"
                + (report.shapes().size() == 1 ? "" : "s") + " (rows not compared where the shape differs); ";
        return String.format(Locale.ROOT, "DIFFERENCES: %s%d of %d tables, %s of %s key ranges; keys listed: %s%s", shapes,
                differingTables, tables.size(), count(differingChunks), count(chunks), keys, truncated ? " (and more)" : "");
    }

    /** {@code event_id=42}, or {@code (ticket_no, flight_id)=(0005432000284, 17)} for a composite key. */
    static String key(List<String> columns, List<String> values) {
        if (columns.size() == 1) {
            return columns.get(0) + "=" + values.get(0);
        }
        return "(" + String.join(", ", columns) + ")=(" + String.join(", ", values) + ")";
    }

    private static String location(KeyDiff k) {
        if (k.node().isEmpty()) {
            return "";
        }
        String where = k.kind() == DiffKind.MISSING ? "  not on node " : "  on node ";
        return where + k.node().getAsInt() + k.relation().map(r -> " (" + r + ")").orElse("");
    }

    private static String clusterRows(TableReport t) {
        if (t.sharded()) {
            return count(t.clusterRows().orElseThrow());
        }
        return t.clusterRows().isPresent() ? count(t.clusterRows().getAsLong()) + " each" : perNode(t.nodeRows());
    }

    private static String perNode(List<Long> rows) {
        return rows.stream().map(ReportText::count).collect(Collectors.joining("/"));
    }

    private static String nodeList(int nodes) {
        return java.util.stream.IntStream.range(0, nodes).mapToObj(String::valueOf).collect(Collectors.joining("/"));
    }

    private static String count(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }
}
