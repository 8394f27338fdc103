package io.shardlift.ops.verify;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ChunkingTest {

    @Test
    void wantedRangesRoundUpAndStayWithinBounds() {
        long[][] cases = {
            // estimated rows, rows per chunk, wanted
            {0, 100, 1},
            {-1, 100, 1},
            {99, 100, 1},
            {100, 100, 1},
            {101, 100, 2},
            {50_000, 5_000, 10},
            {50_001, 5_000, 11},
            {Long.MAX_VALUE / 2, 1, Chunking.MAX_CHUNKS},
        };
        for (long[] c : cases) {
            assertThat(Chunking.wanted(c[0], c[1])).as(Arrays.toString(c)).isEqualTo((int) c[2]);
        }
    }

    @Test
    void fractionsAreTheInnerQuantiles() {
        assertThat(Chunking.fractions(1)).isEmpty();
        assertThat(Chunking.fractions(4)).containsExactly(0.25, 0.5, 0.75);
    }

    @Test
    void samplePercentReadsSmallTablesWholeAndBigOnesInPart() {
        assertThat(Chunking.samplePercent(0)).isEqualTo(100.0);
        assertThat(Chunking.samplePercent(50_000)).isEqualTo(100.0);
        assertThat(Chunking.samplePercent(1_000_000)).isEqualTo(10.0);
        assertThat(Chunking.samplePercent(Long.MAX_VALUE)).isEqualTo(0.01);
    }

    @Test
    void rangesCoverTheWholeKeySpaceWithoutGapsOrOverlaps() {
        List<KeyRange> r = Chunking.ranges(List.of("10", "20", "30"));
        assertThat(r).containsExactly(
                new KeyRange(0, Optional.empty(), Optional.of("10")),
                new KeyRange(1, Optional.of("10"), Optional.of("20")),
                new KeyRange(2, Optional.of("20"), Optional.of("30")),
                new KeyRange(3, Optional.of("30"), Optional.empty()));
        for (int i = 1; i < r.size(); i++) {
            assertThat(r.get(i).lo()).isEqualTo(r.get(i - 1).hi());
        }
    }

    @Test
    void repeatedAndNullBoundsOfASkewedSampleAreDropped() {
        assertThat(Chunking.ranges(Arrays.asList("a", "a", null, "b", "b")))
                .extracting(KeyRange::lo, KeyRange::hi)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(Optional.empty(), Optional.of("a")),
                        org.assertj.core.groups.Tuple.tuple(Optional.of("a"), Optional.of("b")),
                        org.assertj.core.groups.Tuple.tuple(Optional.of("b"), Optional.empty()));
        assertThat(Chunking.ranges(List.of())).containsExactly(KeyRange.all());
    }

    @Test
    void rangesDescribeThemselvesAndPickTheirStatement() {
        assertThat(KeyRange.all().describe("id")).isEqualTo("all keys");
        assertThat(KeyRange.all().shape()).isZero();
        KeyRange first = new KeyRange(0, Optional.empty(), Optional.of("5"));
        KeyRange middle = new KeyRange(1, Optional.of("5"), Optional.of("9"));
        KeyRange last = new KeyRange(2, Optional.of("9"), Optional.empty());
        assertThat(first.describe("id")).isEqualTo("id < 5");
        assertThat(middle.describe("id")).isEqualTo("id >= 5 and < 9");
        assertThat(last.describe("id")).isEqualTo("id >= 9");
        assertThat(List.of(first.shape(), middle.shape(), last.shape())).containsExactly(2, 3, 1);
    }
}
