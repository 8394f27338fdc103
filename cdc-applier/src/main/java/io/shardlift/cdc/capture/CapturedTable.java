package io.shardlift.cdc.capture;

import io.micrometer.core.instrument.Counter;
import io.shardlift.cdc.event.Row;
import io.shardlift.cdc.event.TableCodec;
import io.shardlift.core.TableId;
import io.shardlift.core.catalog.TableInfo;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;

/**
 * Everything the capture needs per table, resolved once: codec, topic, counters, and the readers for the
 * Debezium schema currently in use (rebuilt, and checked against the catalog, only when the schema changes).
 * Used by the polling thread only, except the counters.
 */
final class CapturedTable {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(CapturedTable.class);

    final int index;
    final TableId id;
    /** The codec of the table's shape at the change being read; a DDL record moves it on ({@link #reshape}). */
    TableCodec codec;
    /** The table's catalog description at the change being read. */
    TableInfo info;
    /**
     * Why this table's changes are no longer sent (a schema change the capture cannot encode); null while they are.
     * The DDL record that caused it was sent: the applier stops the table's stream there and says what to do.
     */
    String stopped;
    final String topic;
    /**
     * Whether this relation's changes travel in another table's topic (the reverse stream: a node's local partition in
     * its table's): a TRUNCATE of it then names it, as truncating it is not truncating that table.
     */
    final boolean partOfAnother;
    final AtomicLong events = new AtomicLong();
    /** Positions of the sharding key's columns in the key; empty: key changes are not counted. */
    final int[] shardingKeyInKey;
    final AtomicLong shardingKeyChanges = new AtomicLong();
    volatile long lastShardingKeyChangeMillis;
    private final Counter counter;
    private final RowReader.Placeholder placeholder;
    private RowReader rowReader;
    private RowReader keyReader;

    CapturedTable(int index, TableInfo info, TableCodec codec, String topic, Counter counter, RowReader.Placeholder placeholder,
              int[] shardingKeyInKey, boolean partOfAnother) {
        this.index = index;
        this.partOfAnother = partOfAnother;
        this.shardingKeyInKey = shardingKeyInKey;
        this.id = codec.table();
        this.info = info;
        this.codec = codec;
        this.topic = topic;
        this.counter = counter;
        this.placeholder = placeholder;
    }

    /** From here on the table has {@code next}'s shape: the readers are rebuilt (and checked) at its next change. */
    void reshape(TableInfo next, TableCodec nextCodec) {
        info = next;
        codec = nextCodec;
        rowReader = null;
        keyReader = null;
    }

    /**
     * Shapes the table had during this migration, newest first (the source's DDL log, read at start); empty when DDL is
     * not carried. After a restart Debezium may replay changes from before a schema change the catalog (which the
     * codec was built from) is already past: such a change is read with the newest of these shapes that has exactly
     * its columns.
     */
    List<TableInfo> history = List.of();

    Row readRow(Struct after) {
        Schema s = after.schema();
        if (rowReader == null || rowReader.schema() != s) {
            try {
                rowReader = RowReader.forRow(codec, s, placeholder);
            } catch (CaptureException e) {
                rowReader = fromHistory(s).orElseThrow(() -> e);
            }
        }
        return rowReader.read(after);
    }

    private java.util.Optional<RowReader> fromHistory(Schema s) {
        for (TableInfo shape : history) {
            try {
                TableCodec c = TableCodec.of(shape);
                RowReader r = RowReader.forRow(c, s, placeholder);
                if (c.fingerprint() != codec.fingerprint()) {
                    LOG.info("{}: a change from before a logged schema change arrived again (a restart replays it); read with"
                            + " the logged shape of its {} columns", id, shape.columns().size());
                    reshape(shape, c);
                }
                return java.util.Optional.of(r);
            } catch (CaptureException | IllegalArgumentException notThisOne) {
                // the next older shape
            }
        }
        return java.util.Optional.empty();
    }

    Row readKey(Struct key) {
        if (key == null) {
            throw new CaptureException("a change of table " + id + " arrived without a key; its primary key was dropped? "
                    + "shardlift keys every change by the primary key");
        }
        Schema s = key.schema();
        if (keyReader == null || keyReader.schema() != s) {
            keyReader = RowReader.forKey(codec, s, placeholder);
        }
        return keyReader.read(key);
    }

    /** Counts a key change ({@code oldKey} -> {@code newKey}) if it moved the sharding key. */
    void keyChanged(Row oldKey, Row newKey, long commitMillis) {
        for (int k : shardingKeyInKey) {
            if (!java.util.Objects.deepEquals(oldKey.get(k), newKey.get(k))) {
                shardingKeyChanges.incrementAndGet();
                lastShardingKeyChangeMillis = commitMillis;
                return;
            }
        }
    }

    void acked(long n) {
        events.addAndGet(n);
        counter.increment(n);
    }
}
