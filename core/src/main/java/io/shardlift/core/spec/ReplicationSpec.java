package io.shardlift.core.spec;

import java.util.Objects;

/**
 * The {@code replication:} section: names of the objects shardlift creates on the source, and what a schema change
 * on the source does to the migration.
 *
 * @param slot        logical replication slot (default {@code shardlift})
 * @param publication publication (default {@code shardlift})
 * @param ddl         {@code replication.ddl}: {@link Ddl#REPLICATE} (default) carries schema changes of migrated
 *                    tables to every node at their place in the stream; {@link Ddl#STOP} stops the stream at the
 *                    first change of shape, as before shardlift carried DDL
 */
public record ReplicationSpec(String slot, String publication, Ddl ddl) {

    /** What a DDL statement on a migrated table does to the migration. */
    public enum Ddl {
        REPLICATE, STOP;

        public String key() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public ReplicationSpec {
        Objects.requireNonNull(slot, "slot");
        Objects.requireNonNull(publication, "publication");
        Objects.requireNonNull(ddl, "ddl");
    }

    public ReplicationSpec(String slot, String publication) {
        this(slot, publication, Ddl.REPLICATE);
    }

    public static ReplicationSpec defaults() {
        return new ReplicationSpec("shardlift", "shardlift", Ddl.REPLICATE);
    }

    public boolean replicateDdl() {
        return ddl == Ddl.REPLICATE;
    }
}
