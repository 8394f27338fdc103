package io.shardlift.cdc.capture;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.Test;

/**
 * Which records of a Debezium batch the capture marks processed: never the last ones sharing one LSN, whose later
 * siblings may be in the next batch (a primary-key change's DELETE and CREATE are two events at one LSN, and Debezium
 * skips every event at the LSN of its stored offset on restart).
 */
class ChangeSenderMarkingTest {

    private static final String HEARTBEAT = "__debezium-heartbeat.s";

    private static SourceRecord at(String topic, long lsn) {
        return new SourceRecord(Map.of("server", "s"), Map.of("lsn", lsn, "lsn_proc", lsn, "lsn_commit", 50L), topic, null, null,
                null, null);
    }

    /** A record of the first transaction after a fresh start: Debezium has decoded no COMMIT yet. */
    private static SourceRecord first(String topic, long lsn) {
        return new SourceRecord(Map.of("server", "s"), Map.of("lsn", lsn, "lsn_proc", lsn), topic, null, null, null, null);
    }

    @Test
    void nothingOfTheFirstTransactionAfterAFreshStartIsMarked() {
        // restarted from an offset without lsn_commit, Debezium would take the offset's LSN for the previous commit, and
        // the events it sends again would carry other positions than the first time
        assertThat(ChangeSender.markable(List.of(first("s.public.t", 100), first("s.public.t", 120)), HEARTBEAT)).isZero();
        assertThat(ChangeSender.markable(List.of(first("s.public.t", 100), first(HEARTBEAT, 120)), HEARTBEAT)).isZero();
        // once a COMMIT was decoded the whole batch counts again: the first transaction's records with it
        assertThat(ChangeSender.markable(List.of(first("s.public.t", 100), at("s.public.t", 140), at(HEARTBEAT, 160)), HEARTBEAT))
                .isEqualTo(3);
        assertThat(ChangeSender.markable(List.of(first("s.public.t", 100), at("s.public.t", 140)), HEARTBEAT)).isEqualTo(2);
    }

    /** The delete half of a primary-key change, as Debezium sends it: with the new key in a header. */
    private static SourceRecord keyChangeDelete(long lsn) {
        SourceRecord r = at("s.public.t", lsn);
        r.headers().addString(ChangeSender.NEW_KEY_HEADER, "{\"id\":2}");
        return r;
    }

    @Test
    void aKeyChangeSplitAcrossBatchesIsNotMarkedHalfway() {
        // the DELETE half of a key change ends the batch; its CREATE comes in the next one
        List<SourceRecord> batch = List.of(at("s.public.t", 100), at("s.public.t", 120), keyChangeDelete(140));
        assertThat(ChangeSender.markable(batch, HEARTBEAT)).isEqualTo(2);
    }

    @Test
    void aLoneLastChangeOfItsOwnLsnIsMarked() {
        assertThat(ChangeSender.markable(List.of(at("s.public.t", 100), at("s.public.t", 140)), HEARTBEAT)).isEqualTo(2);
    }

    @Test
    void theWholeTrailingGroupOfOneLsnIsHeldBack() {
        List<SourceRecord> batch = List.of(at("s.public.t", 100), at("s.public.t", 140), at("s.public.t", 140), at("s.public.u", 140));
        assertThat(ChangeSender.markable(batch, HEARTBEAT)).isEqualTo(1);
    }

    @Test
    void aBatchOfOneLsnMarksNothingAndTheNextBatchMarksItsPrefix() {
        assertThat(ChangeSender.markable(List.of(at("s.public.t", 140), at("s.public.t", 140)), HEARTBEAT)).isZero();
        // the rest of LSN 140 and a later change: the group is complete once a later LSN follows it; the later one, alone
        // at its LSN and no key change's first half, is marked too
        assertThat(ChangeSender.markable(List.of(at("s.public.t", 140), at("s.public.t", 160)), HEARTBEAT)).isEqualTo(2);
        assertThat(ChangeSender.markable(List.of(at("s.public.t", 140), keyChangeDelete(160)), HEARTBEAT)).isEqualTo(1);
    }

    @Test
    void aBatchEndingWithAHeartbeatIsMarkedWhole() {
        // a quiet source's slot moves with its heartbeats
        assertThat(ChangeSender.markable(List.of(at(HEARTBEAT, 200)), HEARTBEAT)).isEqualTo(1);
        assertThat(ChangeSender.markable(List.of(at("s.public.t", 140), at("s.public.t", 140), at(HEARTBEAT, 140)), HEARTBEAT))
                .isEqualTo(3);
        assertThat(ChangeSender.markable(List.of(), HEARTBEAT)).isZero();
    }
}
