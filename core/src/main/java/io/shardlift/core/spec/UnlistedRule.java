package io.shardlift.core.spec;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

import io.shardlift.core.TableId;

/**
 * What becomes of a table of a schema migrated whole ({@code all: true}) that the spec does not list: at plan time, and
 * so also a table created on the source during the migration, which the take-on plans from the catalog. The planner
 * applies it per table: a table that cannot be sharded on {@link #distributedBy} (it lacks a column, or its primary
 * key does not hold them) stays global, with a warning saying why.
 *
 * @param type          global (the default: a full copy on every node) or sharded
 * @param distributedBy the sharding key columns, in key order; empty for global
 * @param colocateWith  the listed sharded table the unlisted ones are colocated with; empty for none
 * @param partitions    resolved number of hash partitions: the colocation root's when colocated, else as written, else
 *                      {@link TableSpec#DEFAULT_PARTITIONS}; 1 for global
 */
public record UnlistedRule(TableType type, List<String> distributedBy, Optional<TableId> colocateWith, int partitions) {

    /** Today's behaviour and the default: every unlisted table is a global (reference) table. */
    public static final UnlistedRule GLOBAL = new UnlistedRule(TableType.GLOBAL, List.of(), Optional.empty(), 1);

    public UnlistedRule {
        Objects.requireNonNull(type, "type");
        distributedBy = List.copyOf(distributedBy);
        Objects.requireNonNull(colocateWith, "colocateWith");
    }

    public boolean sharded() {
        return type == TableType.SHARDED;
    }

    /** As the spec would say it, for warnings and messages: {@code {type: sharded, distributedby: tenant_id, ...}}. */
    public String describe() {
        if (!sharded()) {
            return "{type: global}";
        }
        return "{type: sharded, distributedby: " + String.join(",", distributedBy)
                + colocateWith.map(c -> ", colocatewith: " + c).orElse("") + ", partitions: " + partitions + "}";
    }
}
