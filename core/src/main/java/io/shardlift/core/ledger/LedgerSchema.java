package io.shardlift.core.ledger;

import java.util.List;

/**
 * The {@code shardlift} schema every node carries. Progress is written in the same transaction as the
 * data it describes, so after any crash it tells exactly what a node holds.
 */
public final class LedgerSchema {

    public static final String SCHEMA = "\"shardlift\"";
    /** Key/value facts about the migration: layout fingerprint, slot, consistent point, phase. */
    public static final String META = SCHEMA + ".\"meta\"";
    /** Node 0 only: each table's copy chunks (key ranges), fixed before the first row is copied. */
    public static final String COPY_CHUNK = SCHEMA + ".\"copy_chunk\"";
    /** Node 0 only: each table's copy state across the cluster. */
    public static final String COPY_TABLE = SCHEMA + ".\"copy_table\"";
    /** Every node: the chunks whose rows this node holds, committed with those rows. */
    public static final String COPY_DONE = SCHEMA + ".\"copy_done\"";
    /** Every node: tables whose keys and indexes this node has built. */
    public static final String COPY_INDEX = SCHEMA + ".\"copy_index\"";

    /** Every node: per Kafka partition, the last offset and source position this node applied, written with the data. */
    public static final String APPLIED = SCHEMA + ".\"applied\"";
    /** Node 0 only: partitions that reached a TRUNCATE (by its position); partition -1 marks it carried out. */
    public static final String BARRIER = SCHEMA + ".\"barrier\"";
    /** Node 0 only: per marker, the Kafka partitions that applied everything before it on every node. */
    public static final String MARKER = SCHEMA + ".\"marker\"";
    /**
     * Node 0 only: where this migration's change stream begins in each Kafka partition, recorded with the migration's
     * id before its capture sent anything. Records before it belong to an earlier attempt and are never applied.
     */
    public static final String STREAM_START = SCHEMA + ".\"stream_start\"";
    /** The key in {@link #META} of the migration's id, created with its stream start. */
    public static final String META_MIGRATION_ID = "migration_id";

    public static final List<String> DDL = List.of(
            "CREATE SCHEMA IF NOT EXISTS " + SCHEMA,
            "CREATE TABLE IF NOT EXISTS " + META + " (\"key\" text PRIMARY KEY, \"value\" text NOT NULL,"
                    + " \"updated_at\" timestamptz NOT NULL DEFAULT now())",
            "CREATE TABLE IF NOT EXISTS " + COPY_TABLE + " (\"table_name\" text PRIMARY KEY, \"key_column\" text,"
                    + " \"chunks\" int NOT NULL, \"estimated_rows\" bigint NOT NULL, \"started_at\" timestamptz,"
                    + " \"copied_at\" timestamptz)",
            "CREATE TABLE IF NOT EXISTS " + COPY_CHUNK + " (\"table_name\" text NOT NULL, \"chunk\" int NOT NULL,"
                    + " \"lo\" text, \"hi\" text, PRIMARY KEY (\"table_name\", \"chunk\"))",
            "CREATE TABLE IF NOT EXISTS " + COPY_DONE + " (\"table_name\" text NOT NULL, \"chunk\" int NOT NULL,"
                    + " \"rows\" bigint NOT NULL, \"bytes\" bigint NOT NULL, \"snapshot\" text,"
                    + " \"done_at\" timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (\"table_name\", \"chunk\"))",
            "CREATE TABLE IF NOT EXISTS " + COPY_INDEX + " (\"table_name\" text PRIMARY KEY,"
                    + " \"indexed_at\" timestamptz NOT NULL DEFAULT now())",
            "CREATE TABLE IF NOT EXISTS " + APPLIED + " (\"topic\" text NOT NULL, \"kafka_partition\" int NOT NULL,"
                    + " \"kafka_offset\" bigint NOT NULL, \"prev_commit_lsn\" bigint NOT NULL, \"lsn\" bigint NOT NULL,"
                    + " \"seq\" int NOT NULL, \"commit_time\" timestamptz, \"applied_at\" timestamptz NOT NULL DEFAULT now(),"
                    + " PRIMARY KEY (\"topic\", \"kafka_partition\"))",
            "CREATE TABLE IF NOT EXISTS " + BARRIER + " (\"topic\" text NOT NULL, \"position\" text NOT NULL,"
                    + " \"kafka_partition\" int NOT NULL, \"arrived_at\" timestamptz NOT NULL DEFAULT now(),"
                    + " PRIMARY KEY (\"topic\", \"position\", \"kafka_partition\"))",
            "CREATE TABLE IF NOT EXISTS " + MARKER + " (\"marker\" text NOT NULL, \"topic\" text NOT NULL,"
                    + " \"kafka_partition\" int NOT NULL, \"lsn\" bigint NOT NULL, \"applied_at\" timestamptz NOT NULL DEFAULT now(),"
                    + " PRIMARY KEY (\"marker\", \"topic\", \"kafka_partition\"))",
            "CREATE TABLE IF NOT EXISTS " + STREAM_START + " (\"topic\" text NOT NULL, \"kafka_partition\" int NOT NULL,"
                    + " \"start_offset\" bigint NOT NULL, \"migration_id\" text NOT NULL,"
                    + " \"recorded_at\" timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (\"topic\", \"kafka_partition\"))");

    private LedgerSchema() {
    }
}
