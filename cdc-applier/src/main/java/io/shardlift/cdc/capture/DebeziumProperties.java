package io.shardlift.cdc.capture;

import io.shardlift.core.ledger.Markers;
import io.shardlift.cdc.event.ColumnCodec;
import io.shardlift.cdc.event.TableCodec;
import io.shardlift.core.catalog.TableInfo;
import io.shardlift.core.ddl.SourceDdlLog;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.stream.Collectors;

/**
 * The Debezium configuration, in one place. Each option that decides correctness says why it is set.
 */
final class DebeziumProperties {

    private DebeziumProperties() {
    }

    /**
     * @param migrationId the migration the offsets belong to, or null (a capture on its own): Debezium keys its stored
     *                    offsets by the engine's name, so with the id in the name an earlier attempt's offsets on the
     *                    same slot name (whose LSNs may lie ahead of this slot's and would make it skip changes) are
     *                    never read
     */
    static Properties of(Capture.Config c, String unchangedPlaceholder, String migrationId) {
        Properties p = new Properties();
        p.put("name", "shardlift-capture-" + c.slot() + (migrationId == null ? "" : "-" + migrationId));
        p.put("connector.class", "io.debezium.connector.postgresql.PostgresConnector");

        // offsets in Kafka, flushed at every markBatchFinished (default: every 60 s)
        p.put("offset.storage", Capture.KafkaOffsetStore.class.getName());
        p.put("bootstrap.servers", c.kafka().bootstrapServers());
        p.put("offset.storage.topic", c.kafka().offsetTopic());
        p.put("offset.storage.partitions", "1");
        p.put("offset.storage.replication.factor", String.valueOf(c.kafka().replicationFactor()));
        p.put("offset.flush.interval.ms", "0");
        // a broker restart must not fail the offset flush that follows the batch it delayed
        p.put("offset.flush.timeout.ms", "60000");

        p.put("database.hostname", c.source().host());
        p.put("database.port", String.valueOf(c.source().port()));
        p.put("database.user", c.source().user());
        p.put("database.password", c.source().password().orElse(""));
        p.put("database.dbname", c.source().dbname());
        String sslmode = c.source().params().get("sslmode");
        if (sslmode != null) {
            p.put("database.sslmode", sslmode);
        }
        p.put("topic.prefix", c.serverName());

        // the slot and publication exist already; the slot's exported snapshot is the copy, so no snapshot here
        p.put("plugin.name", "pgoutput");
        p.put("slot.name", c.slot());
        p.put("slot.drop.on.stop", "false");
        p.put("publication.name", c.publication());
        p.put("publication.autocreate.mode", "disabled");
        p.put("snapshot.mode", "no_data");
        p.put("table.include.list", c.tables().stream().map(DebeziumProperties::tableRegex).collect(Collectors.joining(","))
                + (c.carryDdl() ? "," + escape(SourceDdlLog.LOG_TABLE.schema()) + "\\." + escape(SourceDdlLog.LOG_TABLE.name()) : ""));

        // No BEGIN/END records. shardlift reads nothing from them: every change record carries its txId, and its
        // offset the commit LSN of the transaction before it (lsn_commit, which Debezium updates on each COMMIT with
        // or without metadata), which is what the applier orders by. They cost Debezium two more records per source
        // transaction to build, queue, convert and offset (three records for a one-row transaction), and were dropped
        // unread. Without the END record a transaction's commit is confirmed to the slot by the next record's offset
        // (the next change or the heartbeat), so the slot trails by at most one transaction or one heartbeat interval,
        // and never passes what Kafka holds.
        p.put("provide.transaction.metadata", "false");
        // a quiet source still confirms its position, so WAL does not pile up behind the slot. Heartbeats alone
        // do not do it when the source writes only to unpublished tables (measured: the slot stayed put while
        // WAL grew): the slot moves to the last decoded COMMIT, so each heartbeat commits a tiny transactional
        // message of its own (no table needed; Debezium drops it by prefix, its COMMIT still moves the offset)
        p.put("heartbeat.interval.ms", String.valueOf(c.tuning().heartbeatInterval().toMillis()));
        p.put("heartbeat.action.query", "SELECT pg_logical_emit_message(true, '" + Capture.HEARTBEAT_PREFIX + "', '')");
        p.put("logical.decoding.message.prefix.include.list", Markers.PREFIX);
        // Debezium skips TRUNCATE by default
        p.put("skipped.operations", "none");
        p.put("tombstones.on.delete", "false");

        // values exactly as PostgreSQL holds them: decimals and intervals as text, time in microseconds, bytes raw
        p.put("decimal.handling.mode", "string");
        p.put("time.precision.mode", "adaptive_time_microseconds");
        p.put("interval.handling.mode", "string");
        p.put("binary.handling.mode", "bytes");
        p.put("hstore.handling.mode", "json");
        p.put("unavailable.value.placeholder", unchangedPlaceholder);
        // Every other column as PostgreSQL printed it (arrays keep their dimensions and bounds, bit strings their
        // length). Without include.unknown.datatypes Debezium resolves a type it does not know (tsvector, pg_lsn...)
        // to NULL before any converter sees it; with it, to the text pgoutput sent.
        p.put("include.unknown.datatypes", "true");
        p.put("converters", "shardlift");
        p.put("shardlift.type", TextConverter.class.getName());
        p.put("shardlift." + TextConverter.PLACEHOLDER, unchangedPlaceholder);
        List<String[]> textColumns = new ArrayList<>();
        for (TableInfo t : c.tables()) {
            for (ColumnCodec col : TableCodec.of(t).columns()) {
                if (col.rawText()) {
                    textColumns.add(new String[] {t.id().schema() + "." + t.id().name(), col.name()});
                }
            }
        }
        p.put("shardlift." + TextConverter.COLUMNS, TextConverter.encode(textColumns));

        p.put("poll.interval.ms", String.valueOf(c.tuning().pollInterval().toMillis()));
        p.put("max.batch.size", String.valueOf(c.tuning().maxBatchSize()));
        p.put("max.queue.size", String.valueOf(c.tuning().maxQueueSize()));
        // a lost source connection is retried with backoff, for a few minutes, then capture fails visibly
        p.put("errors.max.retries", "20");
        p.put("errors.retry.delay.initial.ms", "300");
        p.put("errors.retry.delay.max.ms", "10000");
        return p;
    }

    /** Debezium matches {@code schema.table} against comma-separated regular expressions: escape everything. */
    static String tableRegex(TableInfo t) {
        return escape(t.id().schema()) + "\\." + escape(t.id().name());
    }

    private static String escape(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (!Character.isLetterOrDigit(ch) && ch != '_') {
                sb.append('\\');
            }
            sb.append(ch);
        }
        return sb.toString();
    }
}
