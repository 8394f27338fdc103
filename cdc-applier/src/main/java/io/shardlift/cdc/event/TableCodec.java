package io.shardlift.cdc.event;

import io.shardlift.core.TableId;
import io.shardlift.core.catalog.ColumnInfo;
import io.shardlift.core.catalog.ColumnTypes;
import io.shardlift.core.catalog.KeyConstraint;
import io.shardlift.core.catalog.TableInfo;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.zip.CRC32;

/**
 * Everything needed to write and read one table's change events, resolved once from the table's catalog
 * columns: the column order, a {@link ColumnCodec} per column, the primary key, and a fingerprint of the layout.
 *
 * <p>Wire format of a Kafka record value (all integers big-endian or LEB128 varints):
 * <pre>
 *   format(1) op(1) fingerprint(4) previousCommitLsn(varint) lsn(varint) seq(varint) txId(varint) commitMicros(zigzag)
 *   INSERT/UPDATE: 2 bits per column (0 value, 1 NULL, 2 UNCHANGED), then the values in column order
 *   DELETE:        the key values in key order
 *   TRUNCATE:      nothing; of one partition travelling in its table's topic, the partition's name (as MARKER)
 *   MARKER, DDL:   content (length-prefixed UTF-8)
 * </pre>
 * TRUNCATE, MARKER and DDL carry no column values: any codec of the table reads them, whatever layout wrote them (a
 * DDL record is written by the codec of the shape before it, and read after a restart by that of the shape after).
 * Values carry no type tags: the column order and kinds come from this codec, and the fingerprint makes a
 * reader built from a different column list fail loudly instead of misreading. Thread-safe.
 */
public final class TableCodec {

    /** 2: arrays and other text-carried types as PostgreSQL's text, not as lists. */
    static final int FORMAT = 2;
    private static final int STATE_VALUE = 0;
    private static final int STATE_NULL = 1;
    private static final int STATE_UNCHANGED = 2;
    private static final ThreadLocal<BinaryOut> OUT = ThreadLocal.withInitial(() -> new BinaryOut(4096));

    private final TableId table;
    private final List<ColumnCodec> columns;
    private final ColumnCodec[] cols;
    private final int[] keyIndexes;
    private final Map<String, Integer> indexByName;
    private final int fingerprint;
    private final Set<String> generated;

    private TableCodec(TableId table, List<ColumnCodec> columns, int[] keyIndexes, Set<String> generated) {
        this.table = table;
        this.generated = generated;
        this.columns = List.copyOf(columns);
        this.cols = columns.toArray(ColumnCodec[]::new);
        this.keyIndexes = keyIndexes;
        this.indexByName = new HashMap<>();
        for (int i = 0; i < cols.length; i++) {
            indexByName.put(cols[i].name(), i);
        }
        StringBuilder layout = new StringBuilder();
        for (ColumnCodec c : cols) {
            layout.append(c.name()).append('\u0000').append(c.type()).append('\u0000');
        }
        for (int k : keyIndexes) {
            layout.append(k).append(',');
        }
        CRC32 crc = new CRC32();
        crc.update(layout.toString().getBytes(StandardCharsets.UTF_8));
        this.fingerprint = (int) crc.getValue();
    }

    /**
     * From the catalog; the table must have a primary key. Stored generated columns are left out: logical
     * replication never sends them, and the nodes compute them from the same expression.
     */
    public static TableCodec of(TableInfo info) {
        KeyConstraint pk = info.primaryKey().orElseThrow(() -> new IllegalArgumentException("table " + info.id()
                + " has no primary key: change events are keyed by it. Add one (ALTER TABLE " + info.id().quoted()
                + " ADD PRIMARY KEY (...)) or leave the table out"));
        List<ColumnInfo> carried = info.columns().stream().filter(c -> !c.isGenerated()).toList();
        Set<String> generated = info.columns().stream().filter(ColumnInfo::isGenerated).map(ColumnInfo::name)
                .collect(Collectors.toUnmodifiableSet());
        return of(info.id(), carried, pk.columns(), generated);
    }

    /**
     * From a column list (catalog order) and the primary-key column names (key order).
     *
     * @throws IllegalArgumentException naming every column whose type cannot be carried exactly, and any key
     *                                  column that is not in the list
     */
    public static TableCodec of(TableId table, List<ColumnInfo> columns, List<String> keyColumns) {
        return of(table, columns, keyColumns, Set.of());
    }

    private static TableCodec of(TableId table, List<ColumnInfo> columns, List<String> keyColumns, Set<String> generated) {
        List<String> problems = new ArrayList<>();
        List<ColumnCodec> codecs = new ArrayList<>();
        for (ColumnInfo c : columns) {
            ColumnTypes.refusal(c).ifPresentOrElse(
                    why -> problems.add("column " + c.name() + " has type " + c.type() + ", which shardlift cannot carry "
                            + "exactly: " + why),
                    () -> codecs.add(ColumnCodec.resolve(c)));
        }
        int[] keys = new int[keyColumns.size()];
        for (int i = 0; i < keys.length; i++) {
            int at = -1;
            for (int j = 0; j < columns.size(); j++) {
                if (columns.get(j).name().equals(keyColumns.get(i))) {
                    at = j;
                }
            }
            if (at < 0) {
                problems.add("key column " + keyColumns.get(i) + " is not a column of the table");
            }
            keys[i] = at;
        }
        if (keys.length == 0) {
            problems.add("no primary-key columns given");
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("table " + table + " cannot be captured: " + String.join("; ", problems)
                    + ". `shardlift plan` lists every such column");
        }
        return new TableCodec(table, codecs, keys, generated);
    }

    /** Stored generated columns of the table: Debezium may name them, but they carry no values. */
    public Set<String> generated() {
        return generated;
    }

    public TableId table() {
        return table;
    }

    public List<ColumnCodec> columns() {
        return columns;
    }

    public ColumnCodec column(int i) {
        return cols[i];
    }

    /** Index of the named column, or -1. */
    public int indexOf(String column) {
        Integer i = indexByName.get(column);
        return i == null ? -1 : i;
    }

    public int keySize() {
        return keyIndexes.length;
    }

    /** Column index of the {@code k}-th key column. */
    public int keyIndex(int k) {
        return keyIndexes[k];
    }

    /** CRC-32 of the column names, types and key: equal on both ends or decoding refuses. */
    public int fingerprint() {
        return fingerprint;
    }

    /** The key values of a full row, in key order. */
    public Row keyOf(Row after) {
        Object[] key = new Object[keyIndexes.length];
        for (int k = 0; k < key.length; k++) {
            Object v = after.get(keyIndexes[k]);
            if (v == null || v == Row.UNCHANGED) {
                throw new IllegalArgumentException("table " + table + ": primary-key column " + cols[keyIndexes[k]].name()
                        + " is " + (v == null ? "NULL" : "missing (unchanged TOAST)") + " in " + after);
            }
            key[k] = v;
        }
        return Row.wrap(key);
    }

    /** PostgreSQL text of column {@code i} of {@code row} (null for NULL). */
    public String text(Row row, int i) {
        return cols[i].toText(row.get(i));
    }

    /** PostgreSQL text of the {@code k}-th key value. */
    public String keyText(Row key, int k) {
        return cols[keyIndexes[k]].toText(key.get(k));
    }

    /**
     * The Kafka record key: the key values in a canonical form, so every change of one row (and both halves of
     * a key change between values PostgreSQL calls equal) lands in the same partition.
     */
    public byte[] encodeKey(Row key) {
        BinaryOut out = OUT.get();
        out.reset();
        out.writeInt(fingerprint);
        for (int k = 0; k < keyIndexes.length; k++) {
            cols[keyIndexes[k]].codec().writeKey(out, key.get(k));
        }
        return out.toByteArray();
    }

    /** The Kafka record value. */
    public byte[] encode(ChangeEvent e) {
        if (!e.table().equals(table)) {
            throw new IllegalArgumentException("event of " + e.table() + " given to the codec of " + table);
        }
        BinaryOut out = OUT.get();
        out.reset();
        out.writeByte(FORMAT);
        out.writeByte(e.op().code());
        out.writeInt(fingerprint);
        Position p = e.position();
        out.writeVarLong(p.previousCommitLsn());
        out.writeVarLong(p.lsn());
        out.writeVarLong(p.seq());
        out.writeVarLong(e.txId());
        out.writeZigZag(e.commitTimeMicros());
        switch (e.op()) {
            case INSERT, UPDATE -> writeRow(out, e.after());
            case DELETE -> {
                Row key = e.key();
                if (key.size() != keyIndexes.length) {
                    throw new IllegalArgumentException("table " + table + " has " + keyIndexes.length
                            + " key columns but the DELETE carries " + key.size() + " values");
                }
                for (int k = 0; k < keyIndexes.length; k++) {
                    cols[keyIndexes[k]].codec().write(out, key.get(k));
                }
            }
            case TRUNCATE -> e.marker().ifPresent(out::writeString);
            case MARKER, DDL -> out.writeString(e.marker().orElseThrow());
        }
        return out.toByteArray();
    }

    private void writeRow(BinaryOut out, Row row) {
        if (row.size() != cols.length) {
            throw new IllegalArgumentException("table " + table + " has " + cols.length + " columns but the row has "
                    + row.size() + ": " + row);
        }
        int bitmap = out.reserve((cols.length + 3) / 4);
        for (int i = 0; i < cols.length; i++) {
            Object v = row.get(i);
            if (v == null) {
                out.orByte(bitmap + i / 4, STATE_NULL << ((i % 4) * 2));
            } else if (v == Row.UNCHANGED) {
                out.orByte(bitmap + i / 4, STATE_UNCHANGED << ((i % 4) * 2));
            } else {
                try {
                    cols[i].codec().write(out, v);
                } catch (ClassCastException ex) {
                    throw new IllegalArgumentException("table " + table + ", column " + cols[i] + ": value of type "
                            + v.getClass().getSimpleName() + " does not fit the column", ex);
                }
            }
        }
    }

    /**
     * The source position of a record value written by {@link #encode} for any column layout (it precedes the row):
     * what tells a change sent again by a capture restart, in a shape the table no longer has, from a misfit.
     */
    public static Position positionOf(byte[] value) {
        BinaryIn in = new BinaryIn(value);
        if (in.readByte() != FORMAT) {
            throw new IllegalArgumentException("not a change event of format " + FORMAT);
        }
        in.readByte();
        in.readInt();
        return new Position(in.readVarLong(), in.readVarLong(), (int) in.readVarLong());
    }

    /**
     * Reads a record value written by {@link #encode}.
     *
     * @throws IllegalArgumentException if the bytes are malformed or were written for another column layout
     */
    public ChangeEvent decode(byte[] value) {
        BinaryIn in = new BinaryIn(value);
        int format = in.readByte();
        if (format != FORMAT) {
            throw new IllegalArgumentException("change event of " + table + " has format " + format + ", this reader knows "
                    + FORMAT);
        }
        Op op = Op.ofCode(in.readByte());
        int fp = in.readInt();
        if (fp != fingerprint && (op.hasRow() || op == Op.DELETE)) {
            throw new IllegalArgumentException("change event of " + table + " was written for column layout "
                    + Integer.toHexString(fp) + " but this reader has " + Integer.toHexString(fingerprint)
                    + ": the capture and the applier were built from different column lists (the table changed?)");
        }
        Position position = new Position(in.readVarLong(), in.readVarLong(), (int) in.readVarLong());
        long txId = in.readVarLong();
        long commitMicros = in.readZigZag();
        ChangeEvent e = switch (op) {
            case INSERT, UPDATE -> {
                Row after = readRow(in);
                yield ChangeEvent.row(op, table, keyOf(after), after, position, txId, commitMicros);
            }
            case DELETE -> {
                Object[] key = new Object[keyIndexes.length];
                for (int k = 0; k < key.length; k++) {
                    key[k] = cols[keyIndexes[k]].codec().read(in);
                }
                yield ChangeEvent.delete(table, Row.wrap(key), position, txId, commitMicros);
            }
            case TRUNCATE -> in.atEnd() ? ChangeEvent.truncate(table, position, txId, commitMicros)
                    : ChangeEvent.truncatePartition(table, new TableId(table.schema(), in.readString()), position, txId, commitMicros);
            case MARKER -> ChangeEvent.marker(table, in.readString(), position, txId, commitMicros);
            case DDL -> ChangeEvent.ddl(table, in.readString(), position, txId, commitMicros);
        };
        if (!in.atEnd()) {
            throw new IllegalArgumentException("change event of " + table + " has " + (value.length - in.position())
                    + " unread bytes after its " + op);
        }
        return e;
    }

    private Row readRow(BinaryIn in) {
        int bitmap = in.skip((cols.length + 3) / 4);
        Object[] values = new Object[cols.length];
        for (int i = 0; i < cols.length; i++) {
            int state = (in.peekByte(bitmap + i / 4) >>> ((i % 4) * 2)) & 3;
            values[i] = switch (state) {
                case STATE_VALUE -> cols[i].codec().read(in);
                case STATE_NULL -> null;
                case STATE_UNCHANGED -> Row.UNCHANGED;
                default -> throw new IllegalArgumentException("bad column state " + state + " for " + cols[i].name());
            };
        }
        return Row.wrap(values);
    }

    @Override
    public String toString() {
        return "TableCodec[" + table + " " + columns + "]";
    }
}
