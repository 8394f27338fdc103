package io.shardlift.core.spec;

/** How a table is laid out on the cluster. */
public enum TableType {
    /** A full copy on every node (shardmanctl's {@code global}; {@code reference} is accepted as an alias). */
    GLOBAL,
    /** Hash-partitioned on its distribution key, partition i on node i mod N. */
    SHARDED;

    /** The spelling used in the spec file. */
    public String yamlName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
