package io.shardlift.cdc.capture;

import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.shardlift.cdc.event.ChangeEvent;
import io.shardlift.cdc.event.Op;
import io.shardlift.cdc.event.Position;
import io.shardlift.cdc.event.Row;
import io.shardlift.core.TableId;
import io.shardlift.core.ddl.SourceDdlLog;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.header.Header;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Debezium's batch callback: turns every record of a batch into change events, sends them all, waits until
 * Kafka acknowledged every one (blocking the polling thread here is the backpressure), and only then marks
 * the records processed and the batch finished, which is what lets Debezium store its offset and confirm the
 * LSN to the slot. Anything unexpected throws, which stops the engine: nothing is skipped.
 */
final class ChangeSender implements DebeziumEngine.ChangeConsumer<RecordChangeEvent<SourceRecord>> {

    private static final Logger LOG = LoggerFactory.getLogger(ChangeSender.class);

    /** Debezium's header on the create half of a primary-key change: the key before it. */
    static final String OLD_KEY_HEADER = "__debezium.oldkey";

    private final Map<TableId, CapturedTable> tables;
    private final List<CapturedTable> tableList;
    private final Map<String, Integer> partitions;
    private final Producer<byte[], byte[]> producer;
    private final String messageTopic;
    private final String heartbeatTopic;
    private final String markerPrefix;
    private final CaptureProgress progress;
    private final AtomicReference<Exception> sendFailure = new AtomicReference<>();
    private final Callback callback = (metadata, exception) -> {
        if (exception != null) {
            sendFailure.compareAndSet(null, exception);
        }
    };

    /** The source's DDL log rows; null when DDL is not carried (replication.ddl: stop). */
    private final DdlRecords ddl;

    ChangeSender(List<CapturedTable> tables, int partitions, Producer<byte[], byte[]> producer, String serverName,
                 String markerPrefix, CaptureProgress progress, DdlRecords ddl) {
        this.ddl = ddl;
        this.tableList = List.copyOf(tables);
        this.tables = new java.util.HashMap<>();
        this.partitions = new java.util.HashMap<>();
        for (CapturedTable t : tables) {
            this.tables.put(t.id, t);
            this.partitions.put(t.topic, partitions);
        }
        this.producer = producer;
        this.messageTopic = serverName + ".message";
        this.heartbeatTopic = "__debezium-heartbeat." + serverName;
        this.markerPrefix = markerPrefix;
        this.progress = progress;
    }

    @Override
    public void handleBatch(List<RecordChangeEvent<SourceRecord>> records,
                            DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer) throws InterruptedException {
        long[] perTable = new long[tableList.size()];
        BatchStats stats = new BatchStats();
        for (RecordChangeEvent<SourceRecord> rec : records) {
            route(rec.record(), perTable, stats);
        }
        // flush() returns once every record sent so far is acknowledged or has failed for good (after the
        // producer's own retries, within delivery.timeout.ms): a broker restart is ridden out here
        producer.flush();
        Exception failure = sendFailure.get();
        if (failure != null) {
            throw new CaptureException("Kafka did not acknowledge change events (" + failure.getClass().getSimpleName()
                    + ": " + failure.getMessage() + "); capture stops so that the slot keeps everything not yet in Kafka",
                    failure);
        }
        for (int i = 0; i < perTable.length; i++) {
            if (perTable[i] > 0) {
                tableList.get(i).acked(perTable[i]);
            }
        }
        progress.acked(stats.maxLsn, stats.lastCommitMicros, stats.dataEvents, stats.markers, System.currentTimeMillis());
        int safe = markable(records.stream().map(RecordChangeEvent::record).toList(), heartbeatTopic);
        for (int i = 0; i < safe; i++) {
            committer.markProcessed(records.get(i));
        }
        committer.markBatchFinished();
    }

    /** Debezium's header on the delete half of a primary-key change: the key after it (the create half follows). */
    static final String NEW_KEY_HEADER = "__debezium.newkey";

    /**
     * How many of a batch's records may be marked processed. One WAL record can decode into several events at one LSN (a
     * primary-key change is a DELETE and a CREATE, a multi-row insert one event per row), and Debezium, restarted from an
     * offset at LSN L, skips every event at L (its WalPositionLocator; debezium/dbz#1554, fixed after 3.6): an offset
     * stored between two events of one LSN loses the second for good. A CI run lost the new row of a key change so, after
     * a kill. So a batch's last events are held back when they may have siblings in the next batch: the delete half of a
     * key change, or two or more events sharing the last LSN (a group in progress). They were sent and acknowledged all
     * the same; a restart sends them again from their LSN, a replay the applier converges through. A lone last event of
     * its own LSN is marked: holding back every last event made each restart resend more, and a replay that begins in
     * the first transaction after a fresh start carries another previous-commit position than the first sending (Debezium
     * knows no commit before it then). Not covered: a multi-row insert whose first row alone ends a batch.
     *
     * <p>Nothing of the first transaction after a fresh start is marked either (its records' offsets have no
     * {@code lsn_commit}: Debezium has decoded no COMMIT yet). Restarted from such an offset, Debezium takes the offset's
     * own LSN for the previous commit (its {@code PostgresOffsetContext.Loader}), so the events it sends again would carry
     * other positions than the first time, and a schema change or TRUNCATE among them, whose barrier is known by its
     * position, would be carried out twice. Unmarked, a restart streams that transaction again from the slot's start,
     * with the same positions.
     */
    static int markable(List<SourceRecord> records, String heartbeatTopic) {
        int n = records.size();
        if (n > 0 && !(records.get(n - 1).sourceOffset() != null && records.get(n - 1).sourceOffset().get("lsn_commit") instanceof Long)) {
            // still within the first transaction after a fresh start (the records before it are too)
            return records.get(n - 1).sourceOffset() == null ? n : 0;
        }
        if (n == 0 || heartbeatTopic.equals(records.get(n - 1).topic())) {
            return n;
        }
        Object last = lsnOf(records.get(n - 1));
        if (last == null) {
            return n;
        }
        int safe = n;
        while (safe > 0 && last.equals(lsnOf(records.get(safe - 1)))) {
            safe--;
        }
        boolean keyChangeHalf = records.get(n - 1).headers().lastWithName(NEW_KEY_HEADER) != null;
        return n - safe >= 2 || keyChangeHalf ? safe : n;
    }

    private static Object lsnOf(SourceRecord r) {
        Map<String, ?> offset = r.sourceOffset();
        return offset == null ? null : offset.get("lsn");
    }

    /** Per-batch tallies, published to the status only once Kafka acknowledged the batch. */
    private static final class BatchStats {
        long maxLsn = -1;
        long lastCommitMicros = -1;
        long dataEvents;
        long markers;
    }

    private void route(SourceRecord r, long[] perTable, BatchStats stats) {
        Map<String, ?> offset = r.sourceOffset();
        Object lsnObj = offset == null ? null : offset.get("lsn");
        if (lsnObj instanceof Long l) {
            stats.maxLsn = Math.max(stats.maxLsn, l);
        }
        String topic = r.topic();
        if (topic.equals(heartbeatTopic)) {
            return; // carry only offsets: marked processed with the batch so the slot moves on a quiet source
        }
        Struct value = (Struct) r.value();
        if (value == null) {
            return; // a tombstone (tombstones.on.delete is off, but be safe): nothing to replay
        }
        Struct source = value.getStruct("source");
        long lsn = source.getInt64("lsn");
        Object commitObj = offset.get("lsn_commit");
        long previousCommit = commitObj instanceof Long c ? c : 0L;
        Long txObj = source.getInt64("txId");
        long txId = txObj == null ? 0 : txObj;
        Long tsUs = source.getInt64("ts_us");
        long commitMicros = tsUs != null ? tsUs : source.getInt64("ts_ms") * 1000L;
        stats.lastCommitMicros = commitMicros;

        if (topic.equals(messageTopic)) {
            Struct message = value.getStruct("message");
            String prefix = message.getString("prefix");
            if (!markerPrefix.equals(prefix)) {
                return;
            }
            String content = utf8(message.get("content"));
            Position pos = new Position(previousCommit, lsn, 0);
            java.util.Set<String> sent = new java.util.HashSet<>();
            for (CapturedTable t : tableList) {
                if (!sent.add(t.topic)) {
                    continue; // another table published into the same topic (a node's partitions of one table)
                }
                byte[] bytes = t.codec.encode(ChangeEvent.marker(t.id, content, pos, txId, commitMicros));
                int n = partitions.get(t.topic);
                for (int p = 0; p < n; p++) {
                    producer.send(new ProducerRecord<>(t.topic, p, null, bytes), callback);
                }
            }
            stats.markers++;
            // DEBUG: the lag probe sends one every half second; the cutover reports its own marker's journey
            LOG.debug("marker '{}' at {} copied to every partition of {} table topics", content, io.shardlift.core.Lsn.format(lsn),
                    tableList.size());
            return;
        }

        TableId id = new TableId(source.getString("schema"), source.getString("table"));
        if (ddl != null && id.equals(SourceDdlLog.LOG_TABLE)) {
            // a schema change, at its place between the table's changes: on every partition, like a TRUNCATE, so that
            // each partition holds it after its changes of the old shape and before those of the new one
            if ("c".equals(value.getString("op"))) {
                DdlRecords.Outgoing out = ddl.arrived(value.getStruct("after"), new Position(previousCommit, lsn, 0), txId,
                        commitMicros);
                if (out != null) {
                    int n = partitions.get(out.table().topic);
                    for (int p = 0; p < n; p++) {
                        producer.send(new ProducerRecord<>(out.table().topic, p, null, out.value()), callback);
                    }
                    perTable[out.table().index]++;
                    stats.dataEvents++;
                }
            }
            return;
        }
        CapturedTable t = tables.get(id);
        if (t != null && t.stopped != null) {
            return; // its stream stopped at a schema change the capture cannot encode (see DdlRecords)
        }
        if (t == null) {
            throw new CaptureException("Debezium delivered a change of table " + id + " (topic " + topic + "), which is not "
                    + "among the captured tables " + tables.keySet() + "; check table.include.list and the publication");
        }
        String op = value.getString("op");
        ChangeEvent e;
        switch (op) {
            case "c", "u" -> {
                Row after = t.readRow(value.getStruct("after"));
                Row key = t.codec.keyOf(after);
                if (t.shardingKeyInKey.length > 0) {
                    // a primary-key change arrives as a delete and this create, which names the old key in a header
                    Header old = r.headers().lastWithName(OLD_KEY_HEADER);
                    if (old != null && old.value() instanceof Struct oldKey) {
                        t.keyChanged(t.readKey(oldKey), key, commitMicros / 1000);
                    }
                }
                // an UPDATE that changes the key arrives as DELETE + CREATE at one LSN: the create sorts after
                e = ChangeEvent.row(op.equals("c") ? Op.INSERT : Op.UPDATE, id, key, after,
                        new Position(previousCommit, lsn, 1), txId, commitMicros);
                producer.send(sized(t, lsn, t.codec.encodeKey(key), t.codec.encode(e)), callback);
            }
            case "d" -> {
                Row key = t.readKey((Struct) r.key());
                e = ChangeEvent.delete(id, key, new Position(previousCommit, lsn, 0), txId, commitMicros);
                producer.send(sized(t, lsn, t.codec.encodeKey(key), t.codec.encode(e)), callback);
            }
            case "t" -> {
                // no key orders a TRUNCATE against the rows: every partition gets it, in line with its rows
                Position at = new Position(previousCommit, lsn, 0);
                e = t.partOfAnother ? ChangeEvent.truncatePartition(id, id, at, txId, commitMicros)
                        : ChangeEvent.truncate(id, at, txId, commitMicros);
                byte[] bytes = t.codec.encode(e);
                int n = partitions.get(t.topic);
                for (int p = 0; p < n; p++) {
                    producer.send(new ProducerRecord<>(t.topic, p, null, bytes), callback);
                }
                LOG.info("TRUNCATE of {} at {} copied to every partition of {}", id, io.shardlift.core.Lsn.format(lsn), t.topic);
            }
            default -> throw new CaptureException("unexpected Debezium operation '" + op + "' for table " + id
                    + " at LSN " + io.shardlift.core.Lsn.format(lsn) + " (snapshot.mode=no_data should produce no reads)");
        }
        perTable[t.index]++;
        stats.dataEvents++;
    }

    /**
     * The record of one row change, refused before Kafka sees it when it is over {@link TopicSetup#MAX_EVENT_BYTES}:
     * Kafka's own refusal ({@code RecordTooLargeException}) named neither the table nor a way out.
     */
    private static ProducerRecord<byte[], byte[]> sized(CapturedTable t, long lsn, byte[] key, byte[] value) {
        long size = (long) key.length + value.length;
        if (size > TopicSetup.MAX_EVENT_BYTES) {
            throw new CaptureException("a change of table " + t.id + " at LSN " + io.shardlift.core.Lsn.format(lsn) + " is "
                    + size / (1024 * 1024) + " MiB as a change event, over the " + TopicSetup.MAX_EVENT_BYTES / (1024 * 1024)
                    + " MiB shardlift carries through Kafka in one event: the stream stops here (the change stays in the"
                    + " slot, nothing was lost). Rows that large cannot be streamed; make the row smaller on the source"
                    + " (or exclude the table from the migration) and run the same command again");
        }
        return new ProducerRecord<>(t.topic, key, value);
    }

    private static String utf8(Object content) {
        if (content instanceof ByteBuffer bb) {
            byte[] b = new byte[bb.remaining()];
            bb.duplicate().get(b);
            return new String(b, StandardCharsets.UTF_8);
        }
        if (content instanceof byte[] b) {
            return new String(b, StandardCharsets.UTF_8);
        }
        return String.valueOf(content);
    }

    List<CapturedTable> tables() {
        return new ArrayList<>(tableList);
    }
}
