package io.shardlift.cdc.event;

/** What a {@link ChangeEvent} does to its table. The code is the byte written on the wire: never renumber. */
public enum Op {
    /**
     * A new row; {@link ChangeEvent#after()} holds every column. The INSERT half of a primary-key change may
     * hold {@link Row#UNCHANGED} columns (pgoutput does not resend untouched TOAST even then): take those from
     * the row removed by the DELETE half, which has the same LSN and {@code seq} 0.
     */
    INSERT(1),
    /**
     * A changed row; {@link ChangeEvent#after()} holds every column, some possibly {@link Row#UNCHANGED}
     * (TOASTed and not modified: keep the value the target has). A primary-key change never arrives as an
     * UPDATE: it is a DELETE of the old key followed by an INSERT of the new one.
     */
    UPDATE(2),
    /** A removed row; only {@link ChangeEvent#key()} is known. */
    DELETE(3),
    /** The whole table was truncated. Written to every partition of the table's topic. */
    TRUNCATE(4),
    /**
     * A {@code pg_logical_emit_message(true, 'shardlift', content)}; written to every partition of every table
     * topic so a consumer knows, per partition, that it has applied everything committed before it.
     */
    MARKER(5),
    /**
     * A schema change of the table: its content is the source's DDL log row (old and new shape, see
     * {@code core.ddl.SourceDdlLog}). Written to every partition of the table's topic, like a TRUNCATE, so that every
     * partition has it between its changes of the old shape and those of the new one.
     */
    DDL(6);

    private static final Op[] BY_CODE = new Op[7];

    static {
        for (Op op : values()) {
            BY_CODE[op.code] = op;
        }
    }

    private final byte code;

    Op(int code) {
        this.code = (byte) code;
    }

    byte code() {
        return code;
    }

    static Op ofCode(int code) {
        Op op = code > 0 && code < BY_CODE.length ? BY_CODE[code] : null;
        if (op == null) {
            throw new IllegalArgumentException("unknown change-event op code " + code);
        }
        return op;
    }

    /** True for the ops that carry a row image ({@link ChangeEvent#after()}). */
    public boolean hasRow() {
        return this == INSERT || this == UPDATE;
    }
}
