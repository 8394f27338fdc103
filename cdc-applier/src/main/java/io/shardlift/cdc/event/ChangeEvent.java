package io.shardlift.cdc.event;

import io.shardlift.core.TableId;
import java.util.Objects;
import java.util.Optional;

/**
 * One change of one source table, as it travels through Kafka.
 *
 * @param op               what happened
 * @param table            the source table (for a MARKER: the table whose topic carries this copy)
 * @param key              primary-key values in key order; empty for TRUNCATE and MARKER
 * @param after            every column of the new row for INSERT and UPDATE (possibly {@link Row#UNCHANGED});
 *                         empty otherwise
 * @param position         where the change sits in commit order: dedup by it (see {@link Position})
 * @param txId             source transaction id
 * @param commitTimeMicros source commit time, microseconds since the epoch
 * @param marker           the content of a MARKER or a DDL; for a TRUNCATE of one partition whose changes travel in its
 *                         table's topic (the reverse stream: a node's local partition), that partition's name (in
 *                         the table's schema), since truncating the partition is not truncating the table; empty otherwise
 */
public record ChangeEvent(Op op, TableId table, Row key, Row after, Position position, long txId,
                          long commitTimeMicros, Optional<String> marker) {

    public ChangeEvent {
        Objects.requireNonNull(op, "op");
        Objects.requireNonNull(table, "table");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(after, "after");
        Objects.requireNonNull(position, "position");
        Objects.requireNonNull(marker, "marker");
        if (op.hasRow() == (after.size() == 0)) {
            throw new IllegalArgumentException(op + " " + (op.hasRow() ? "needs" : "cannot have") + " a row image");
        }
        if ((op == Op.TRUNCATE || op == Op.MARKER || op == Op.DDL) != (key.size() == 0)) {
            throw new IllegalArgumentException(op + " " + (key.size() == 0 ? "needs" : "cannot have") + " a key");
        }
        if ((op == Op.MARKER || op == Op.DDL) ? marker.isEmpty() : marker.isPresent() && op != Op.TRUNCATE) {
            throw new IllegalArgumentException("only a MARKER or a DDL carries content, and it must (a TRUNCATE may name a partition)");
        }
    }

    public static ChangeEvent row(Op op, TableId table, Row key, Row after, Position position, long txId, long commitTimeMicros) {
        return new ChangeEvent(op, table, key, after, position, txId, commitTimeMicros, Optional.empty());
    }

    public static ChangeEvent delete(TableId table, Row key, Position position, long txId, long commitTimeMicros) {
        return new ChangeEvent(Op.DELETE, table, key, Row.EMPTY, position, txId, commitTimeMicros, Optional.empty());
    }

    public static ChangeEvent truncate(TableId table, Position position, long txId, long commitTimeMicros) {
        return new ChangeEvent(Op.TRUNCATE, table, Row.EMPTY, Row.EMPTY, position, txId, commitTimeMicros, Optional.empty());
    }

    /**
     * A TRUNCATE of {@code partition} alone, a partition of {@code table} (in its schema) whose changes travel in
     * {@code table}'s topic.
     */
    public static ChangeEvent truncatePartition(TableId table, TableId partition, Position position, long txId, long commitTimeMicros) {
        if (!partition.schema().equals(table.schema())) {
            throw new IllegalArgumentException("partition " + partition + " is not in the schema of " + table);
        }
        return new ChangeEvent(Op.TRUNCATE, table, Row.EMPTY, Row.EMPTY, position, txId, commitTimeMicros,
                Optional.of(partition.name()));
    }

    /** For a TRUNCATE: the one partition it truncated ({@link #truncatePartition}); empty: the whole table. */
    public Optional<TableId> truncatedPartition() {
        return op == Op.TRUNCATE ? marker.map(name -> new TableId(table.schema(), name)) : Optional.empty();
    }

    public static ChangeEvent marker(TableId table, String content, Position position, long txId, long commitTimeMicros) {
        return new ChangeEvent(Op.MARKER, table, Row.EMPTY, Row.EMPTY, position, txId, commitTimeMicros, Optional.of(content));
    }

    /** A schema change of {@code table}; {@code content} is the source's DDL log row as JSON. */
    public static ChangeEvent ddl(TableId table, String content, Position position, long txId, long commitTimeMicros) {
        return new ChangeEvent(Op.DDL, table, Row.EMPTY, Row.EMPTY, position, txId, commitTimeMicros, Optional.of(content));
    }

    /** LSN of the change's WAL record. */
    public long sourceLsn() {
        return position.lsn();
    }

    @Override
    public String toString() {
        return op + " " + table + " @" + position + " tx " + txId
                + (key.size() > 0 ? " key " + key : "")
                + (after.size() > 0 ? " after " + after : "")
                + marker.map(m -> (op == Op.TRUNCATE ? " partition " : " marker '") + m + (op == Op.TRUNCATE ? "" : "'")).orElse("");
    }
}
