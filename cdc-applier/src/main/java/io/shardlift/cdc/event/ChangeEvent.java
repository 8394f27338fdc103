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
 * @param marker           the content of a MARKER or a DDL; empty otherwise
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
        if ((op == Op.MARKER || op == Op.DDL) != marker.isPresent()) {
            throw new IllegalArgumentException("only a MARKER or a DDL carries content, and it must");
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
                + marker.map(m -> " marker '" + m + "'").orElse("");
    }
}
