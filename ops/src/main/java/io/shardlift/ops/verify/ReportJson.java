package io.shardlift.ops.verify;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.shardlift.ops.verify.VerifyReport.ChunkReport;
import io.shardlift.ops.verify.VerifyReport.DiffKind;
import io.shardlift.ops.verify.VerifyReport.KeyDiff;
import io.shardlift.ops.verify.VerifyReport.TableReport;
import java.util.List;

/**
 * {@link VerifyReport} as JSON. Field names are part of the interface: scripts read them. Key values are strings
 * (the columns' text), counts are numbers, absent values are null.
 */
final class ReportJson {

    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ReportJson() {
    }

    static String render(VerifyReport report) {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("equal", report.equal());
        root.put("startedAt", report.startedAt().toString());
        root.put("finishedAt", report.finishedAt().toString());
        root.put("durationMs", report.duration().toMillis());
        root.put("sourceLsnBefore", report.sourceLsnBefore().map(Object::toString).orElse(null));
        root.put("sourceLsnAfter", report.sourceLsnAfter().map(Object::toString).orElse(null));
        root.put("nodes", report.nodes());
        root.put("keyLimit", report.keyLimit());
        ObjectNode summary = root.putObject("summary");
        List<TableReport> tables = report.tables();
        summary.put("tables", tables.size());
        summary.put("differingTables", tables.stream().filter(t -> !t.equal()).count());
        summary.put("sourceRows", tables.stream().mapToLong(TableReport::sourceRows).sum());
        summary.put("chunks", tables.stream().mapToInt(TableReport::chunks).sum());
        summary.put("differingChunks", tables.stream().mapToInt(t -> t.differingChunks().size()).sum());
        for (DiffKind kind : DiffKind.values()) {
            summary.put(kind.label(), tables.stream().mapToLong(t -> t.keys(kind).size()).sum());
        }
        summary.put("keysTruncated", tables.stream().anyMatch(TableReport::keysTruncated));
        ArrayNode ts = root.putArray("tables");
        for (TableReport t : tables) {
            table(t, ts.addObject());
        }
        ArrayNode shapes = root.putArray("shapes");
        report.shapes().forEach(shapes::add);
        ArrayNode notes = root.putArray("notes");
        report.notes().forEach(notes::add);
        try {
            return MAPPER.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render the verify report as JSON", e);
        }
    }

    private static void table(TableReport t, ObjectNode o) {
        o.put("table", t.table().toString());
        o.put("kind", t.sharded() ? "sharded" : "reference");
        o.put("equal", t.equal());
        o.put("keyColumn", t.keyColumn());
        ArrayNode key = o.putArray("sourceKey");
        t.sourceKey().forEach(key::add);
        o.put("sourceRows", t.sourceRows());
        if (t.clusterRows().isPresent()) {
            o.put("clusterRows", t.clusterRows().getAsLong());
        } else {
            o.putNull("clusterRows");
        }
        ArrayNode nodeRows = o.putArray("nodeRows");
        t.nodeRows().forEach(nodeRows::add);
        o.put("chunks", t.chunks());
        ArrayNode chunks = o.putArray("differingChunks");
        for (ChunkReport c : t.differingChunks()) {
            ObjectNode co = chunks.addObject();
            co.put("index", c.index());
            co.put("lo", c.lo().orElse(null));
            co.put("hi", c.hi().orElse(null));
            co.put("sourceRows", c.sourceRows());
            ArrayNode rows = co.putArray("nodeRows");
            c.nodeRows().forEach(rows::add);
            ArrayNode nodes = co.putArray("differingNodes");
            c.differingNodes().forEach(nodes::add);
            co.put("drilled", c.drilled());
            co.put("keysFound", c.keysFound());
        }
        ArrayNode keys = o.putArray("keys");
        for (KeyDiff k : t.keys()) {
            ObjectNode ko = keys.addObject();
            ko.put("kind", k.kind().label());
            ObjectNode values = ko.putObject("key");
            for (int i = 0; i < t.sourceKey().size(); i++) {
                values.put(t.sourceKey().get(i), k.key().get(i));
            }
            ko.put("chunk", k.chunk());
            if (k.node().isPresent()) {
                ko.put("node", k.node().getAsInt());
            } else {
                ko.putNull("node");
            }
            ko.put("relation", k.relation().orElse(null));
        }
        o.put("keysTruncated", t.keysTruncated());
    }
}
