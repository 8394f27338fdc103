package io.shardlift.core.plan;

/** How a table lives on the cluster. */
public enum TableKind {
    /** Hash-partitioned; partition i on node i mod N, the others' partitions reachable through postgres_fdw. */
    SHARDED,
    /** A full copy on every node ("global" in Shardman, "reference" in Citus). */
    REFERENCE
}
