package io.shardlift.cdc.apply;

import io.shardlift.cdc.event.ChangeEvent;
import io.shardlift.cdc.event.Op;
import io.shardlift.cdc.event.Position;
import io.shardlift.cdc.event.Row;
import io.shardlift.cdc.event.TableCodec;
import io.shardlift.core.TableId;
import io.shardlift.core.catalog.ColumnInfo;
import io.shardlift.core.catalog.KeyConstraint;
import io.shardlift.core.catalog.TableInfo;
import io.shardlift.core.hash.KeyType;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.plan.NodeLayout;
import io.shardlift.core.plan.TableKind;
import io.shardlift.core.plan.TablePlan;
import io.shardlift.core.route.Router;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.IntStream;

/**
 * Three tables as the applier sees them, on {@link #NODES} nodes, without a server: {@code orders} sharded by
 * {@code customer_id} (in its source key), {@code regions} a reference table, {@code events} widened (its source key
 * {@code event_id} lacks the sharding key {@code device_id}). Columns: two bigints, then two texts that may be TOASTed.
 */
final class ApplyTables {

    static final int NODES = 2;
    static final int PARTITIONS = 4;

    final TableApply orders;
    final TableApply regions;
    final TableApply events;
    private long lsn = 100;

    ApplyTables() {
        TablePlan o = plan("orders", TableKind.SHARDED, List.of("order_id", "customer_id"), List.of("customer_id"));
        TablePlan r = plan("regions", TableKind.REFERENCE, List.of("region_id", "parent_id"), List.of());
        TablePlan e = plan("events", TableKind.SHARDED, List.of("event_id"), List.of("device_id"));
        List<NodeLayout> nodes = IntStream.range(0, NODES)
                .mapToObj(i -> new NodeLayout(i, null, List.of(), Map.of(), List.of(), List.of(), "")).toList();
        Router router = Router.of(new ClusterPlan(null, List.of(o, r, e), List.of(), List.of(), nodes, List.of()));
        orders = new TableApply(o, TableCodec.of(o.source()), router.table(o.id()));
        regions = new TableApply(r, TableCodec.of(r.source()), router.table(r.id()));
        events = new TableApply(e, TableCodec.of(e.source()), router.table(e.id()));
    }

    /** Columns (a bigint, b bigint, note text, body text); the key and the sharding key name among a and b. */
    private static TablePlan plan(String name, TableKind kind, List<String> sourceKey, List<String> shardKey) {
        List<String> cols = switch (name) {
            case "orders" -> List.of("order_id", "customer_id", "note", "body");
            case "regions" -> List.of("region_id", "parent_id", "note", "body");
            default -> List.of("event_id", "device_id", "note", "body");
        };
        TableId id = new TableId("public", name);
        KeyConstraint pk = new KeyConstraint(name + "_pkey", KeyConstraint.Kind.PRIMARY_KEY, sourceKey, false, false);
        TableInfo info = new TableInfo(id, 'r', 'd', List.of(column(cols.get(0), 1, "bigint", "int8"),
                column(cols.get(1), 2, "bigint", "int8"), column(cols.get(2), 3, "text", "text"),
                column(cols.get(3), 4, "text", "text")),
                Optional.of(pk), List.of(), List.of(), List.of(), List.of(), List.of(), 10, 8192);
        KeyConstraint targetPk = sourceKey.containsAll(shardKey) ? pk
                : new KeyConstraint(name + "_pkey", KeyConstraint.Kind.PRIMARY_KEY, List.of("event_id", "device_id"), false, false);
        boolean sharded = kind == TableKind.SHARDED;
        return new TablePlan(id, kind, info, shardKey, sharded ? List.of(KeyType.BIGINT) : List.of(), sharded ? PARTITIONS : 1,
                id, targetPk, List.of(), List.of(), 1);
    }

    private static ColumnInfo column(String name, int attnum, String type, String typname) {
        return new ColumnInfo(name, attnum, type, typname, 'b', "pg_catalog", true, Optional.empty(), '0', Optional.empty(),
                Optional.empty(), true, Optional.empty());
    }

    /** The hash partition the router must pick for a sharding-key value. */
    int hashPartition(TableApply t, long shardKey) {
        return t.route.partitionOf(new Object[] {shardKey});
    }

    int owner(TableApply t, long shardKey) {
        return hashPartition(t, shardKey) % NODES;
    }

    /** A sharding-key value whose row lives on {@code node}. */
    long keyOn(TableApply t, int node, long from) {
        long k = from;
        while (owner(t, k) != node) {
            k++;
        }
        return k;
    }

    ChangeEvent insert(TableApply t, Object a, Object b, Object note, Object body) {
        return row(Op.INSERT, t, Row.of(a, b, note, body));
    }

    ChangeEvent update(TableApply t, Object a, Object b, Object note, Object body) {
        return row(Op.UPDATE, t, Row.of(a, b, note, body));
    }

    private ChangeEvent row(Op op, TableApply t, Row after) {
        return ChangeEvent.row(op, t.id(), t.codec.keyOf(after), after, next(), 1, 0);
    }

    ChangeEvent delete(TableApply t, Object... key) {
        return ChangeEvent.delete(t.id(), Row.of(key), next(), 1, 0);
    }

    private Position next() {
        return new Position(1, lsn++, 0);
    }
}
