package io.shardlift.cdc.capture;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.shardlift.cdc.event.ChangeEvent;
import io.shardlift.cdc.event.ColumnCodec;
import io.shardlift.cdc.event.Position;
import io.shardlift.cdc.event.TableCodec;
import io.shardlift.core.TableId;
import io.shardlift.core.catalog.TableInfo;
import io.shardlift.core.ddl.TableShape;
import java.io.IOException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.connect.data.Struct;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rows of the source's DDL log ({@code core.ddl.SourceDdlLog}) as they arrive between the data changes: each becomes a
 * DDL change event of its table, encoded by the table's codec of the shape before it, and from the next change on the
 * table is read and encoded with its new shape. A shape the capture cannot encode (a type it cannot carry exactly, a
 * new column Debezium's text converter was not set up for) stops only that table's changes, after its DDL event was
 * sent: the applier stops the table there and says what to do. Used by the polling thread only.
 */
final class DdlRecords {

    private static final Logger LOG = LoggerFactory.getLogger(DdlRecords.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A DDL event ready to go to every partition of its table's topic. */
    record Outgoing(CapturedTable table, byte[] value) {
    }

    private final Map<TableId, CapturedTable> byId = new HashMap<>();
    /** Columns Debezium delivers as PostgreSQL's text: fixed when the engine starts (its converter's configuration). */
    private final Set<String> rawTextColumns = new HashSet<>();

    DdlRecords(List<CapturedTable> tables) {
        for (CapturedTable t : tables) {
            byId.put(t.id, t);
            for (ColumnCodec c : t.codec.columns()) {
                if (c.rawText()) {
                    rawTextColumns.add(t.id + "." + c.name());
                }
            }
        }
    }

    /**
     * Reads the shapes the source's DDL log recorded for each captured table during this migration, newest first, for
     * a restart that replays changes from before a logged change ({@link CapturedTable#history}).
     */
    void loadHistory(io.shardlift.core.spec.ConnInfo source) {
        try (java.sql.Connection c = source.connect();
             java.sql.PreparedStatement ps = c.prepareStatement("SELECT table_schema, table_name, old_shape::text, new_shape::text"
                     + " FROM \"shardlift\".\"ddl_log\" WHERE to_regclass('\"shardlift\".\"ddl_log\"') IS NOT NULL ORDER BY id DESC")) {
            Map<TableId, List<TableInfo>> shapes = new HashMap<>();
            try (java.sql.ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    CapturedTable t = byId.get(new TableId(rs.getString(1), rs.getString(2)));
                    if (t == null) {
                        continue;
                    }
                    List<TableInfo> list = shapes.computeIfAbsent(t.id, k -> new java.util.ArrayList<>());
                    if (rs.getString(3) == null) {
                        continue; // its creation during the migration: no shape before it, and a restart took it on
                    }
                    if (rs.getString(4) != null) {
                        list.add(TableShape.parse(rs.getString(4)).applyTo(t.info));
                    }
                    list.add(TableShape.parse(rs.getString(3)).applyTo(t.info));
                }
            }
            shapes.forEach((id, list) -> byId.get(id).history = List.copyOf(list));
        } catch (java.sql.SQLException e) {
            // an empty history only matters after a restart that replays an old shape, which then stops visibly
            if (!"42P01".equals(e.getSQLState())) {
                LOG.warn("cannot read the source's DDL log ({}): a restart that replays changes from before a schema change"
                        + " stops with the table's shape named", e.getMessage());
            }
        }
    }

    /** The DDL event of a log row, and the table moved to its new shape; null for a table this capture does not carry. */
    Outgoing arrived(Struct row, Position position, long txId, long commitMicros) {
        TableId id = new TableId(row.getString("table_schema"), row.getString("table_name"));
        String tag = row.getString("tag");
        String newShape = row.getString("new_shape");
        if (row.getString("old_shape") == null && newShape != null) {
            // a table created during the migration (core.ddl.SourceDdlLog's ddl_created), said here at its place in the
            // stream, even when a dropped migrated table's name came back, since the stream of that one stopped at its DROP
            if (byId.containsKey(id)) {
                // taken on: a capture that carries it resumed from before its creation (after the take-on, or a restart);
                // its rows come from its own copy and the changes after it, so its creation has nothing to carry
                LOG.info("{} {} at {}: created during the migration and taken on since; carried", tag, id, position);
            } else {
                LOG.warn("{} {} at {}: a table created during the migration in a schema migrated whole is not carried to the"
                        + " cluster yet; the cutover is refused while it exists on the source (`shardlift run` takes it on"
                        + " once it has a primary key; or drop it there)", tag, id, position);
            }
            return null;
        }
        CapturedTable t = byId.get(id);
        if (t == null) {
            return null;
        }
        ObjectNode content = JSON.createObjectNode();
        content.put("id", row.getInt64("id"));
        content.put("tag", tag);
        try {
            content.set("old", row.getString("old_shape") == null ? null : JSON.readTree(row.getString("old_shape")));
            content.set("new", newShape == null ? null : JSON.readTree(newShape));
        } catch (IOException e) {
            throw new CaptureException("the source's DDL log row " + row.getInt64("id") + " of table " + id
                    + " is not readable JSON (" + e.getMessage() + "); check the shardlift.ddl_log table on the source", e);
        }
        byte[] value = t.codec.encode(ChangeEvent.ddl(id, content.toString(), position, txId, commitMicros));
        if (t.stopped == null) {
            reshape(t, tag, newShape);
        }
        LOG.info("{} of {} at {} goes to every partition of {}{}", tag, id, position, t.topic,
                t.stopped == null ? "" : "; the table's later changes are not sent: " + t.stopped);
        return new Outgoing(t, value);
    }

    private void reshape(CapturedTable t, String tag, String newShape) {
        if (newShape == null) {
            t.stopped = tag + " dropped the table";
            return;
        }
        TableInfo next = TableShape.parse(newShape).applyTo(t.info);
        TableCodec codec;
        try {
            codec = TableCodec.of(next);
        } catch (IllegalArgumentException e) {
            t.stopped = tag + ": " + e.getMessage();
            return;
        }
        for (ColumnCodec c : codec.columns()) {
            if (c.rawText() && !rawTextColumns.contains(t.id + "." + c.name())) {
                t.stopped = tag + ": column " + c.name() + " (" + c.type() + ") would arrive from Debezium in a form shardlift"
                        + " only reads as text once capture restarts";
                return;
            }
        }
        t.reshape(next, codec);
    }
}
