package io.shardlift.cdc.apply;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlift.cdc.apply.NodeBatch.Net;
import io.shardlift.cdc.event.ChangeEvent;
import io.shardlift.cdc.event.Row;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The net effect one node writes for the changes of one poll: per key, one write (and a sweep first, for widened
 * tables), whatever sequence the source made. Changes are routed as in production; the node folds its steps.
 */
class NodeBatchTest {

    static final ApplyTables T = new ApplyTables();
    static final Object U = Row.UNCHANGED;
    /** orders: a customer whose rows live on node 0; events: devices whose rows live on node 1 and node 0. */
    static final long K = T.keyOn(T.orders, 0, 1);
    static final long D1 = T.keyOn(T.events, 1, 1);
    static final long D0 = T.keyOn(T.events, 0, 1);

    static Arguments row(String name, int node, List<ChangeEvent> changes, String... nets) {
        return Arguments.of(name, node, changes, List.of(nets));
    }

    static Stream<Arguments> folds() {
        String p = "@" + T.hashPartition(T.orders, K) + " ";
        String e1 = "@" + T.hashPartition(T.events, D1) + " ";
        String e0 = "@" + T.hashPartition(T.events, D0) + " ";
        String k = ", " + K + ", ";
        String d1 = ", " + D1 + ", ";
        String d0 = ", " + D0 + ", ";
        return Stream.of(
                row("insert, then update", 0, List.of(T.insert(T.orders, 7L, K, "n1", "b1"), T.update(T.orders, 7L, K, "n2", "b2")),
                        "UPSERT" + p + "(7" + k + "'n2', 'b2')"),
                row("insert, then update keeping TOAST", 0,
                        List.of(T.insert(T.orders, 7L, K, "n1", "b1"), T.update(T.orders, 7L, K, "n2", U)),
                        "UPSERT" + p + "(7" + k + "'n2', 'b1')"),
                row("insert, then delete", 0, List.of(T.insert(T.orders, 7L, K, "n1", "b1"), T.delete(T.orders, 7L, K)),
                        "DELETE" + p + "null"),
                row("update, then update", 0, List.of(T.update(T.orders, 7L, K, "n1", "b1"), T.update(T.orders, 7L, K, "n2", "b2")),
                        "UPSERT" + p + "(7" + k + "'n2', 'b2')"),
                row("updates keeping different TOAST columns", 0,
                        List.of(T.update(T.orders, 7L, K, "n1", U), T.update(T.orders, 7L, K, U, "b2")),
                        "PARTIAL" + p + "(7" + k + "'n1', 'b2')"),
                row("updates keeping the same TOAST column", 0,
                        List.of(T.update(T.orders, 7L, K, "n1", U), T.update(T.orders, 7L, K, "n2", U)),
                        "PARTIAL" + p + "(7" + k + "'n2', UNCHANGED)"),
                row("full update, then one keeping TOAST", 0,
                        List.of(T.update(T.orders, 7L, K, "n1", "b1"), T.update(T.orders, 7L, K, "n2", U)),
                        "UPSERT" + p + "(7" + k + "'n2', 'b1')"),
                row("delete, then insert", 0, List.of(T.delete(T.orders, 7L, K), T.insert(T.orders, 7L, K, "n1", "b1")),
                        "UPSERT" + p + "(7" + k + "'n1', 'b1')"),
                row("delete, then update keeping TOAST (changes nothing)", 0,
                        List.of(T.delete(T.orders, 7L, K), T.update(T.orders, 7L, K, "n1", U)), "DELETE" + p + "null"),
                row("update keeping TOAST, then delete", 0,
                        List.of(T.update(T.orders, 7L, K, "n1", U), T.delete(T.orders, 7L, K)), "DELETE" + p + "null"),
                row("key change: the old key deleted, the new one inserted", 0,
                        List.of(T.delete(T.orders, 7L, K), T.insert(T.orders, 8L, K, "n1", "b1")),
                        "DELETE" + p + "null", "UPSERT" + p + "(8" + k + "'n1', 'b1')"),
                row("other node's rows are not this node's", 1, List.of(T.insert(T.orders, 7L, K, "n1", "b1"))),
                row("reference: insert, then update keeping TOAST, on any node", 1,
                        List.of(T.insert(T.regions, 1L, 2L, "n1", "b1"), T.update(T.regions, 1L, 2L, U, "b2")),
                        "UPSERT@0 (1, 2, 'n1', 'b2')"),
                row("widened: an insert alone sweeps nothing", 1, List.of(T.insert(T.events, 9L, D1, "n1", "b1")),
                        "UPSERT" + e1 + "(9" + d1 + "'n1', 'b1') +sweep=false"),
                row("widened: insert, then update sweeps", 1,
                        List.of(T.insert(T.events, 9L, D1, "n1", "b1"), T.update(T.events, 9L, D1, "n2", "b2")),
                        "UPSERT" + e1 + "(9" + d1 + "'n2', 'b2') +sweep=true"),
                row("widened: delete, then insert keeps the delete's sweep", 1,
                        List.of(T.delete(T.events, 9L), T.insert(T.events, 9L, D1, "n1", "b1")),
                        "UPSERT" + e1 + "(9" + d1 + "'n1', 'b1') +sweep=true"),
                row("widened: insert, then delete", 1, List.of(T.insert(T.events, 9L, D1, "n1", "b1"), T.delete(T.events, 9L)),
                        "DELETE@-1 null +sweep=true"),
                row("widened: the row moves away from this node", 1,
                        List.of(T.update(T.events, 9L, D1, "n1", "b1"), T.update(T.events, 9L, D0, "n2", "b2")),
                        "DELETE@-1 null +sweep=true"),
                row("widened: the row moves to this node", 0,
                        List.of(T.update(T.events, 9L, D1, "n1", "b1"), T.update(T.events, 9L, D0, "n2", "b2")),
                        "UPSERT" + e0 + "(9" + d0 + "'n2', 'b2') +sweep=true"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("folds")
    void theNetEffectPerKey(String name, int node, List<ChangeEvent> changes, List<String> expected) {
        ChangeRouter router = ChangeRouterTest.router((t, after) -> {
            throw new AssertionError("nothing here is filled from the source");
        }, new ChangeJournal());
        NodeBatch batch = new NodeBatch(node);
        int steps = 0;
        for (ChangeEvent e : changes) {
            NodeBatch.Step s = router.route(ChangeRouterTest.table(e.table()), e).on(node);
            if (s != null) {
                batch.add(s);
                steps++;
            }
        }
        List<String> nets = new ArrayList<>();
        for (var table : batch.work.entrySet()) {
            Function<Net, String> sweep = table.getKey().widened ? n -> " +sweep=" + n.sweep : n -> n.sweep ? " +sweep!" : "";
            for (Map<Row, Net> slot : table.getValue().values()) {
                for (Net n : slot.values()) {
                    nets.add(n.write + "@" + n.hashPartition + " " + n.row + sweep.apply(n));
                }
            }
        }
        assertThat(nets).isEqualTo(expected);
        // the replay after a unique violation takes every step, in source order
        assertThat(batch.ordered).hasSize(steps);
        assertThat(batch.events).isEqualTo(steps);
    }
}
