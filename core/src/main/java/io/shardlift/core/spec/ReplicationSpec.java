package io.shardlift.core.spec;

import java.util.Objects;

/**
 * The {@code replication:} section: names of the objects shardlift creates on the source.
 *
 * @param slot        logical replication slot (default {@code shardlift})
 * @param publication publication (default {@code shardlift})
 */
public record ReplicationSpec(String slot, String publication) {

    public ReplicationSpec {
        Objects.requireNonNull(slot, "slot");
        Objects.requireNonNull(publication, "publication");
    }

    public static ReplicationSpec defaults() {
        return new ReplicationSpec("shardlift", "shardlift");
    }
}
