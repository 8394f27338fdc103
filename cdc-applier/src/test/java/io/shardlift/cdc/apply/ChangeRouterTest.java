package io.shardlift.cdc.apply;

import static io.shardlift.cdc.apply.ApplyTables.NODES;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardlift.cdc.apply.ChangeRouter.Routed;
import io.shardlift.cdc.apply.NodeBatch.Step;
import io.shardlift.cdc.apply.NodeBatch.Write;
import io.shardlift.cdc.event.ChangeEvent;
import io.shardlift.cdc.event.Row;
import io.shardlift.core.TableId;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every destination of a change is decided once, here: which node writes what, and which nodes sweep. */
class ChangeRouterTest {

    static final ApplyTables T = new ApplyTables();
    static final Object U = Row.UNCHANGED;

    /** What one node does with a change: its write, hash partition and sweep; "-" for nothing. */
    static String describe(Step s) {
        return s == null ? "-" : s.write() + "@" + s.hashPartition() + (s.sweep() ? "+sweep" : "");
    }

    static Arguments row(String name, ChangeEvent e, Function<Integer, String> expectedOnNode) {
        return Arguments.of(name, e, expectedOnNode);
    }

    static Stream<Arguments> destinations() {
        long k0 = T.keyOn(T.orders, 0, 1);
        long k1 = T.keyOn(T.orders, 1, 1);
        int p0 = T.hashPartition(T.orders, k0);
        int p1 = T.hashPartition(T.orders, k1);
        long d1 = T.keyOn(T.events, 1, 1);
        int pd1 = T.hashPartition(T.events, d1);
        return Stream.of(
                row("sharded insert: the owner alone", T.insert(T.orders, 7L, k0, "n", "n"), n -> n == 0 ? "UPSERT@" + p0 : "-"),
                row("sharded insert, other owner", T.insert(T.orders, 7L, k1, "n", "n"), n -> n == 1 ? "UPSERT@" + p1 : "-"),
                row("sharded full update", T.update(T.orders, 7L, k1, "n", "n"), n -> n == 1 ? "UPSERT@" + p1 : "-"),
                row("sharded update keeping TOAST", T.update(T.orders, 7L, k1, U, U), n -> n == 1 ? "PARTIAL@" + p1 : "-"),
                row("sharded delete: the key's partition", T.delete(T.orders, 7L, k0), n -> n == 0 ? "DELETE@" + p0 : "-"),
                row("reference insert: every node", T.insert(T.regions, 1L, 2L, "n", "n"), n -> "UPSERT@0"),
                row("reference update keeping TOAST", T.update(T.regions, 1L, 2L, U, U), n -> "PARTIAL@0"),
                row("reference delete", T.delete(T.regions, 1L), n -> "DELETE@0"),
                row("widened insert: the owner alone, no sweep", T.insert(T.events, 9L, d1, "n", "n"), n -> n == 1 ? "UPSERT@" + pd1 : "-"),
                row("widened update: every node sweeps, the owner writes", T.update(T.events, 9L, d1, "n", "n"),
                        n -> n == 1 ? "UPSERT@" + pd1 + "+sweep" : "DELETE@-1+sweep"),
                row("widened update keeping TOAST: filled, then as a full update", T.update(T.events, 9L, d1, U, U),
                        n -> n == 1 ? "UPSERT@" + pd1 + "+sweep" : "DELETE@-1+sweep"),
                row("widened delete: every node sweeps", T.delete(T.events, 9L), n -> "DELETE@-1+sweep"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("destinations")
    void eachNodeGetsWhatTheRouterDecides(String name, ChangeEvent e, Function<Integer, String> expected) {
        Routed r = router(ChangeRouterTest::fromSource, new ChangeJournal()).route(table(e.table()), e);
        List<String> got = IntStream.range(0, NODES).mapToObj(n -> describe(r.on(n))).toList();
        assertThat(got).isEqualTo(IntStream.range(0, NODES).mapToObj(expected::apply).toList());
    }

    @Test
    void aKeyChangesNewRowTakesItsUnchangedToastFromTheSourceAndIsSkippedWhenTheRowIsGone() {
        long k = T.keyOn(T.orders, 1, 1);
        ChangeEvent newHalf = T.insert(T.orders, 7L, k, U, U);
        Step s = router(ChangeRouterTest::fromSource, new ChangeJournal()).route(T.orders, newHalf).on(1);
        assertThat(s.write()).isEqualTo(Write.UPSERT);
        assertThat(s.row()).isEqualTo(Row.of(7L, k, "source's note", "source's note"));
        assertThat(router((t, after) -> null, new ChangeJournal()).route(T.orders, newHalf)).isNull();
    }

    @Test
    void aShardedUpdateKeepingToastIsNotReadFromTheSource() {
        List<Row> asked = new ArrayList<>();
        router((t, after) -> {
            asked.add(after);
            return after;
        }, new ChangeJournal()).route(T.orders, T.update(T.orders, 7L, 3L, U, U));
        assertThat(asked).isEmpty();
    }

    @Test
    void theJournalHoldsTheKeyOfEveryRoutedChangeButNotOfARowGoneFromTheSource() {
        ChangeJournal journal = new ChangeJournal();
        journal.open(100);
        router(ChangeRouterTest::fromSource, journal).route(T.orders, T.update(T.orders, 7L, 3L, "n", "n"));
        router(ChangeRouterTest::fromSource, journal).route(T.events, T.delete(T.events, 9L));
        router((t, after) -> null, journal).route(T.orders, T.insert(T.orders, 8L, 3L, U, U));
        ChangeJournal.Generation g = journal.rotate();
        assertThat(g.keys()).containsEntry(T.orders.id(), Set.of(List.of("7", "3"))).containsEntry(T.events.id(), Set.of(List.of("9")));
    }

    /** The source's current row: every UNCHANGED column filled. */
    /** A router over a filler; none of these tables is keyed wider, so nothing reads whole rows. */
    static ChangeRouter router(ChangeRouter.RowFiller filler, ChangeJournal journal) {
        return new ChangeRouter(filler, (t, after) -> {
            throw new AssertionError("no table here is keyed wider: nothing reads whole rows");
        }, journal);
    }

    static Row fromSource(TableApply t, Row after) {
        Object[] v = new Object[after.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = after.isUnchanged(i) ? "source's note" : after.get(i);
        }
        return Row.of(v);
    }

    static TableApply table(TableId id) {
        return Stream.of(T.orders, T.regions, T.events).filter(t -> t.id().equals(id)).findFirst().orElseThrow();
    }
}
