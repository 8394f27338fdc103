package io.shardlift.ops.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlift.ops.verify.VerifyReport.DiffKind;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class KeyMergeTest {

    static final KeyOrder INT = KeyOrder.of(List.of("int8"));

    /** Rows as {key, hash} pairs in key order, on a node (-1: the source). */
    static final class Rows implements RowCursor {
        private final int node;
        private final long[] keyHash;
        private int pos = -1;

        private Rows(int node, long[] keyHash) {
            this.node = node;
            this.keyHash = keyHash;
        }

        static Rows of(int node, long... keyHash) {
            return new Rows(node, keyHash);
        }

        @Override
        public boolean next() {
            return ++pos < keyHash.length / 2;
        }

        @Override
        public String[] key() {
            return new String[] {Long.toString(keyHash[2 * pos])};
        }

        @Override
        public long hash() {
            return keyHash[2 * pos + 1];
        }

        @Override
        public int node() {
            return node;
        }

        @Override
        public String relation() {
            return node < 0 ? null : "t_" + node;
        }
    }

    static List<String> found(KeyMerge.Result r) {
        List<String> out = new ArrayList<>();
        r.found().forEach(f -> out.add(f.toString()));
        return out;
    }

    @Test
    void equalRowsSpreadOverNodesGiveNothing() {
        KeyMerge.Result r = KeyMerge.diff(Rows.of(-1, 1, 11, 2, 22, 3, 33, 4, 44),
                List.of(Rows.of(0, 2, 22, 4, 44), Rows.of(1, 1, 11), Rows.of(2, 3, 33)), INT, 20);
        assertThat(r.found()).isEmpty();
        assertThat(r.truncated()).isFalse();
    }

    @Test
    void missingExtraAndDifferentKeysComeOutInKeyOrderWithTheirNode() {
        KeyMerge.Result r = KeyMerge.diff(Rows.of(-1, 1, 11, 2, 22, 3, 33, 10, 100),
                List.of(Rows.of(0, 1, 11, 3, 34), Rows.of(1, 5, 55, 10, 100)), INT, 20);
        assertThat(found(r)).containsExactly("missing [2]", "different [3] on node 0", "extra [5] on node 1");
        assertThat(r.found().get(1).relation()).isEqualTo("t_0");
        assertThat(r.truncated()).isFalse();
    }

    @Test
    void aKeyOnTwoNodesIsOneMatchAndOneExtraWhicheverNodeHoldsTheMatch() {
        KeyMerge.Result r = KeyMerge.diff(Rows.of(-1, 7, 77), List.of(Rows.of(0, 7, 70), Rows.of(3, 7, 77)), INT, 20);
        assertThat(found(r)).containsExactly("extra [7] on node 0");
        KeyMerge.Result neither = KeyMerge.diff(Rows.of(-1, 7, 77), List.of(Rows.of(0, 7, 70), Rows.of(3, 7, 71)), INT, 20);
        assertThat(found(neither)).containsExactly("different [7] on node 0", "extra [7] on node 3");
    }

    @Test
    void emptySidesAreAllMissingOrAllExtra() {
        assertThat(found(KeyMerge.diff(Rows.of(-1, 1, 1, 2, 2), List.of(), INT, 20))).containsExactly("missing [1]", "missing [2]");
        assertThat(found(KeyMerge.diff(Rows.of(-1), List.of(Rows.of(1, 4, 4)), INT, 20))).containsExactly("extra [4] on node 1");
    }

    @Test
    void theLimitIsPerKindAndStopsTheMergeOnceEveryKindIsFull() {
        // 5 missing keys, then extra and different ones: with a limit of 2 the merge reads on past the
        // missing ones to find the others, and stops once all three kinds are full (key 12 is never read)
        KeyMerge.Result r = KeyMerge.diff(Rows.of(-1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 7, 7, 8, 8, 9, 9, 12, 12),
                List.of(Rows.of(0, 6, 6, 7, 70, 8, 80, 9, 9, 10, 10, 11, 11)), INT, 2);
        assertThat(found(r)).containsExactly("missing [1]", "missing [2]", "extra [6] on node 0",
                "different [7] on node 0", "different [8] on node 0", "extra [10] on node 0");
        assertThat(r.found().stream().filter(f -> f.kind() == DiffKind.MISSING)).hasSize(2);
        assertThat(r.truncated()).isTrue();
        KeyMerge.Result exact = KeyMerge.diff(Rows.of(-1, 1, 1, 2, 2), List.of(), INT, 2);
        assertThat(exact.truncated()).isFalse();
    }

    @Test
    void aSideOutOfKeyOrderStopsTheMerge() {
        assertThatThrownBy(() -> KeyMerge.diff(Rows.of(-1, 1, 1, 3, 3), List.of(Rows.of(2, 3, 3, 2, 2)), INT, 20))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("rows of node 2 arrived out of key order: [2] after [3]");
    }
}
