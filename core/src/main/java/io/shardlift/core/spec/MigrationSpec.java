package io.shardlift.core.spec;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

import io.shardlift.core.TableId;

/**
 * A validated migration spec: what to migrate from where to where. Built only by {@link SpecLoader}, which
 * guarantees the cross-references hold (every colocation target exists and is sharded, no cycles, partitions
 * agree within a colocation group).
 *
 * @param version     the spec format version, always {@code "1.0"}
 * @param source      the database being migrated ({@code migrate.connstr})
 * @param jobs        parallel copy workers (1..256, default 4)
 * @param batch       rows per batch (1..1,000,000, default 2000)
 * @param options     shardmanctl's {@code options}, kept as written and not interpreted (a list of flags
 *                    becomes flag → true); never null
 * @param schemas     the {@code schemas[]} entries in file order
 * @param nodes       the target cluster's nodes, in order: partition i of a table lives on node i mod N
 * @param kafka       the change-stream broker
 * @param replication slot and publication names on the source
 * @param control     the control plane
 * @param pooler      the PgBouncer instances whose aliases the cutover switches; empty: no pooler section
 */
public record MigrationSpec(String version, ConnInfo source, int jobs, int batch, Map<String, Object> options,
                            List<SchemaSpec> schemas, List<ConnInfo> nodes, KafkaSpec kafka,
                            ReplicationSpec replication, ControlSpec control, Optional<PoolerSpec> pooler) {

    public static final String VERSION = "1.0";

    public MigrationSpec {
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(source, "source");
        options = deepUnmodifiable(options == null ? Map.of() : options);
        schemas = List.copyOf(schemas);
        nodes = List.copyOf(nodes);
        Objects.requireNonNull(kafka, "kafka");
        Objects.requireNonNull(replication, "replication");
        Objects.requireNonNull(control, "control");
        Objects.requireNonNull(pooler, "pooler");
    }

    /** A spec without a {@code pooler:} section. */
    public MigrationSpec(String version, ConnInfo source, int jobs, int batch, Map<String, Object> options,
                         List<SchemaSpec> schemas, List<ConnInfo> nodes, KafkaSpec kafka,
                         ReplicationSpec replication, ControlSpec control) {
        this(version, source, jobs, batch, options, schemas, nodes, kafka, replication, control, Optional.empty());
    }

    /** Every listed table, flattened, in file order. */
    public List<TableSpec> tables() {
        List<TableSpec> all = new ArrayList<>();
        schemas.forEach(s -> all.addAll(s.tables()));
        return Collections.unmodifiableList(all);
    }

    /** The listed table with this id, if the spec lists it. */
    public Optional<TableSpec> table(TableId id) {
        return schemas.stream().flatMap(s -> s.tables().stream()).filter(t -> t.id().equals(id)).findFirst();
    }

    /**
     * The root of the table's colocation group: the table reached by following {@code colocatewith} until a
     * table that has none. A table that is not colocated is its own root.
     */
    public TableSpec colocationRoot(TableSpec table) {
        TableSpec t = table;
        while (t.colocateWith().isPresent()) {
            t = table(t.colocateWith().get()).orElseThrow();
        }
        return t;
    }

    /** The effective configuration as YAML, defaults filled in and every password masked: for {@code shardlift plan}. */
    public String describe() {
        return SpecYaml.describe(this);
    }

    @SuppressWarnings("unchecked")
    private static <T> T deepUnmodifiable(T value) {
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> copy = new LinkedHashMap<>();
            map.forEach((k, v) -> copy.put(String.valueOf(k), deepUnmodifiable(v)));
            return (T) Collections.unmodifiableMap(copy);
        }
        if (value instanceof List<?> list) {
            List<Object> copy = new ArrayList<>();
            list.forEach(v -> copy.add(deepUnmodifiable(v)));
            return (T) Collections.unmodifiableList(copy);
        }
        return value;
    }
}
