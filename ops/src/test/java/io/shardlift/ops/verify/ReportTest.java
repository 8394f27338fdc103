package io.shardlift.ops.verify;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shardlift.ops.verify.VerifyReport.ChunkReport;
import io.shardlift.ops.verify.VerifyReport.DiffKind;
import io.shardlift.ops.verify.VerifyReport.KeyDiff;
import io.shardlift.ops.verify.VerifyReport.TableReport;
import io.shardlift.core.Lsn;
import io.shardlift.core.TableId;
import io.shardlift.core.plan.TableKind;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class ReportTest {

    static final Instant AT = Instant.parse("2025-01-01T10:00:00Z");

    static TableReport equalDevices() {
        return new TableReport(new TableId("public", "devices"), TableKind.SHARDED, "device_id", List.of("device_id"), 1000,
                List.of(250L, 250L, 250L, 250L), 1, List.of(), List.of(), false);
    }

    static TableReport differingEvents() {
        return new TableReport(new TableId("public", "events"), TableKind.SHARDED, "event_id", List.of("event_id"), 50_000,
                List.of(12_500L, 12_499L, 12_501L, 12_500L), 10,
                List.of(new ChunkReport(2, Optional.of("10001"), Optional.of("15001"), 5000, List.of(1250L, 1249L, 1250L, 1250L),
                                List.of(), true, 2),
                        new ChunkReport(9, Optional.of("45001"), Optional.empty(), 5000, List.of(1250L, 1250L, 1251L, 1250L),
                                List.of(), true, 1),
                        new ChunkReport(5, Optional.of("25001"), Optional.of("30001"), 5000, List.of(1250L, 1250L, 1250L, 1250L),
                                List.of(), true, 0)),
                List.of(new KeyDiff(DiffKind.MISSING, List.of("10003"), 2, OptionalInt.empty(), Optional.empty()),
                        new KeyDiff(DiffKind.DIFFERENT, List.of("12000"), 2, OptionalInt.of(0), Optional.of("public.events_4")),
                        new KeyDiff(DiffKind.EXTRA, List.of("1000000"), 9, OptionalInt.of(2), Optional.of("public.events_2"))),
                false);
    }

    static TableReport differingTypes() {
        return new TableReport(new TableId("public", "device_types"), TableKind.REFERENCE, "device_type_id",
                List.of("device_type_id"), 10, List.of(10L, 10L, 10L, 9L), 1,
                List.of(new ChunkReport(0, Optional.empty(), Optional.empty(), 10, List.of(10L, 10L, 10L, 9L), List.of(3), true, 1)),
                List.of(new KeyDiff(DiffKind.MISSING, List.of("7"), 0, OptionalInt.of(3), Optional.of("public.device_types"))),
                true);
    }

    static VerifyReport report(List<TableReport> tables, List<String> notes) {
        return new VerifyReport(AT, AT.plusMillis(1500), Optional.of(Lsn.parse("0/3000060")), Optional.of(Lsn.parse("0/3000100")),
                4, 20, tables, notes);
    }

    static String text(VerifyReport r) {
        StringWriter s = new StringWriter();
        r.print(new PrintWriter(s));
        return s.toString();
    }

    @Test
    void anEqualReportSaysSoInOneSummaryLine() {
        VerifyReport r = report(List.of(equalDevices()), List.of());
        assertThat(r.equal()).isTrue();
        assertThat(text(r).lines().toList()).containsExactly(
                "verify at 2025-01-01T10:00:00Z (1.5 s), source against 4 nodes, source WAL 0/3000060 to 0/3000100",
                "table                            kind         source rows     cluster rows  chunks differing  ",
                "public.devices                   sharded            1,000            1,000       1         0  equal",
                "equal: 1 tables, 1,000 rows on the source, 1 key ranges, the same on the cluster");
    }

    @Test
    void differencesAreListedUnderTheirTableAndKeyRange() {
        VerifyReport r = report(List.of(differingTypes(), equalDevices(), differingEvents()), List.of("Compared at ..."));
        assertThat(r.equal()).isFalse();
        assertThat(text(r).lines().toList()).containsExactly(
                "verify at 2025-01-01T10:00:00Z (1.5 s), source against 4 nodes, source WAL 0/3000060 to 0/3000100",
                "table                            kind         source rows     cluster rows  chunks differing  ",
                "public.device_types              reference             10       10/10/10/9       1         1  DIFFERENT",
                "  chunk 0 (all keys): 10 rows on the source, 10/10/10/9 on nodes 0/1/2/3; node 3 differs",
                "    missing    device_type_id=7  not on node 3 (public.device_types)",
                "  more keys differ than listed here (at most 20 per kind)",
                "public.devices                   sharded            1,000            1,000       1         0  equal",
                "public.events                    sharded           50,000           50,000      10         3  DIFFERENT",
                "  chunk 2 (event_id >= 10001 and < 15001): 5,000 rows on the source, 4,999 on the cluster",
                "    missing    event_id=10003",
                "    different  event_id=12000  on node 0 (public.events_4)",
                "  chunk 9 (event_id >= 45001): 5,000 rows on the source, 5,001 on the cluster",
                "    extra      event_id=1000000  on node 2 (public.events_2)",
                "  chunk 5 (event_id >= 25001 and < 30001): 5,000 rows on the source, 5,000 on the cluster",
                "    no differing key on a second read: the rows changed while verify ran",
                "DIFFERENCES: 2 of 3 tables, 4 of 12 key ranges; keys listed: 2 missing, 1 extra, 1 different (and more)",
                "note: Compared at ...");
    }

    @Test
    void aShapeDifferenceIsCountedInTheSummary() {
        // found walking by hand: a table left out for its shape made the summary read "0 of 1 tables"
        VerifyReport r = new VerifyReport(AT, AT.plusMillis(1500), Optional.empty(), Optional.empty(), 4, 20,
                List.of(equalDevices()), List.of(), List.of("public.late: column g is missing on node 2"));
        assertThat(r.equal()).isFalse();
        assertThat(ReportText.summary(r)).isEqualTo(
                "DIFFERENCES: 1 shape difference (rows not compared where the shape differs); 0 of 1 tables, 0 of 1 key ranges;"
                        + " keys listed: 0 missing, 0 extra, 0 different");
    }

    @Test
    void compositeKeysPrintAsTuples() {
        assertThat(ReportText.key(List.of("ticket_no", "flight_id"), List.of("0005432000284", "17")))
                .isEqualTo("(ticket_no, flight_id)=(0005432000284, 17)");
    }

    @Test
    void jsonCarriesTheSameFacts() throws Exception {
        VerifyReport r = report(List.of(differingTypes(), equalDevices(), differingEvents()), List.of("a note"));
        JsonNode j = new ObjectMapper().readTree(r.toJson());
        assertThat(j.get("equal").asBoolean()).isFalse();
        assertThat(j.get("durationMs").asLong()).isEqualTo(1500);
        assertThat(j.get("sourceLsnAfter").asText()).isEqualTo("0/3000100");
        assertThat(j.get("summary").get("differingChunks").asInt()).isEqualTo(4);
        assertThat(j.get("summary").get("missing").asInt()).isEqualTo(2);
        assertThat(j.get("summary").get("keysTruncated").asBoolean()).isTrue();
        JsonNode types = j.get("tables").get(0);
        assertThat(types.get("kind").asText()).isEqualTo("reference");
        assertThat(types.get("clusterRows").isNull()).isTrue();
        assertThat(types.get("differingChunks").get(0).get("differingNodes").get(0).asInt()).isEqualTo(3);
        assertThat(types.get("differingChunks").get(0).get("lo").isNull()).isTrue();
        JsonNode events = j.get("tables").get(2);
        assertThat(events.get("clusterRows").asLong()).isEqualTo(50_000);
        assertThat(events.get("nodeRows").size()).isEqualTo(4);
        JsonNode extra = events.get("keys").get(2);
        assertThat(extra.get("kind").asText()).isEqualTo("extra");
        assertThat(extra.get("key").get("event_id").asText()).isEqualTo("1000000");
        assertThat(extra.get("chunk").asInt()).isEqualTo(9);
        assertThat(extra.get("node").asInt()).isEqualTo(2);
        assertThat(extra.get("relation").asText()).isEqualTo("public.events_2");
        assertThat(events.get("keys").get(0).get("node").isNull()).isTrue();
        assertThat(j.get("notes").get(0).asText()).isEqualTo("a note");
    }

    @Test
    void theLagNoteSaysWhenTheSourceWasWrittenMeanwhile() {
        assertThat(Verifier.lagNote(AT, Optional.of(new Lsn(10)), Optional.of(new Lsn(20))))
                .startsWith("Compared at 2025-01-01T10:00:00Z. The source was written while it ran (WAL 0/A to 0/14).")
                .endsWith("where equal data always compares equal.");
        assertThat(Verifier.lagNote(AT, Optional.of(new Lsn(10)), Optional.of(new Lsn(10))))
                .doesNotContain("written");
    }
}
