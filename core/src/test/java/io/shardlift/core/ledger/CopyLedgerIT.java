package io.shardlift.core.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlift.core.SqlErrors;
import io.shardlift.core.ledger.CopyLedger.Chunk;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class CopyLedgerIT {

    static final String EVENTS = "public.events";
    static final List<Chunk> CHUNKS = List.of(new Chunk(0, Optional.empty(), Optional.of("100")),
            new Chunk(1, Optional.of("100"), Optional.of("2000")), new Chunk(2, Optional.of("2000"), Optional.empty()));

    static LedgerNode pg;

    @BeforeAll
    static void start() {
        pg = new LedgerNode("ledger-copy");
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
    }

    @Test
    void aChunkPlanIsReadBackAsSavedUntilTheCopyIsMarkedDone() throws SQLException {
        try (Connection c = pg.connect(pg.freshDatabase())) {
            assertThat(CopyLedger.tableState(c, EVENTS)).isEmpty();
            assertThat(CopyLedger.plannedTables(c)).isEmpty();
            CopyLedger.savePlan(c, EVENTS, "event_id", CHUNKS, 12_345);
            CopyLedger.savePlan(c, "public.devices", "device_id", List.of(Chunk.whole()), 10);

            CopyLedger.TableState s = CopyLedger.tableState(c, EVENTS).orElseThrow();
            assertThat(s.keyColumn()).isEqualTo("event_id");
            assertThat(s.chunks()).isEqualTo(CHUNKS);
            assertThat(s.estimatedRows()).isEqualTo(12_345);
            assertThat(s.copied()).isFalse();
            assertThat(CopyLedger.tableState(c, "public.devices").orElseThrow().chunks()).containsExactly(Chunk.whole());
            assertThat(CopyLedger.plannedTables(c)).containsExactlyInAnyOrder(EVENTS, "public.devices");

            CopyLedger.markStarted(c, EVENTS);
            assertThat(CopyLedger.copiedTables(c)).isEmpty();
            CopyLedger.markCopied(c, EVENTS);
            assertThat(CopyLedger.tableState(c, EVENTS).orElseThrow().copied()).isTrue();
            assertThat(CopyLedger.copiedTables(c)).containsExactly(EVENTS);
        }
    }

    @Test
    void aPlanIsSavedWholeOrNotAtAll() throws SQLException {
        try (Connection c = pg.connect(pg.freshDatabase())) {
            List<Chunk> twice = List.of(Chunk.whole(), Chunk.whole());
            assertThatThrownBy(() -> CopyLedger.savePlan(c, EVENTS, "event_id", twice, 1))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(SqlErrors.isUniqueViolation(e)).isTrue());
            assertThat(c.getAutoCommit()).isTrue();
            assertThat(CopyLedger.tableState(c, EVENTS)).as("no table row without its chunks").isEmpty();
        }
    }

    @Test
    void aChunkRecordCommitsAndRollsBackWithTheRowsItDescribes() throws SQLException {
        try (Connection c = pg.connect(pg.freshDatabase())) {
            try (Statement st = c.createStatement()) {
                st.execute("CREATE TABLE public.events (event_id bigint)");
            }
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.execute("INSERT INTO public.events SELECT generate_series(1, 99)");
            }
            CopyLedger.recordChunk(c, EVENTS, 0, 99, 4_000, "snap-1");
            c.rollback();
            assertThat(CopyLedger.doneChunks(c, EVENTS)).isEmpty();
            assertThat(count(c, "SELECT count(*) FROM public.events")).isZero();

            try (Statement st = c.createStatement()) {
                st.execute("INSERT INTO public.events SELECT generate_series(1, 99)");
            }
            CopyLedger.recordChunk(c, EVENTS, 0, 99, 4_000, "snap-1");
            c.commit();
            assertThat(CopyLedger.doneChunks(c, EVENTS)).containsExactly(0);
            assertThat(count(c, "SELECT count(*) FROM public.events")).isEqualTo(99);

            // the same chunk a second time would be its rows twice: refused
            assertThatThrownBy(() -> CopyLedger.recordChunk(c, EVENTS, 0, 99, 4_000, "snap-2"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(SqlErrors.isUniqueViolation(e)).isTrue());
            c.rollback();
            CopyLedger.recordChunk(c, EVENTS, 2, 0, 0, "snap-2");
            c.commit();
            assertThat(CopyLedger.doneChunks(c, EVENTS)).containsExactlyInAnyOrder(0, 2);
            assertThat(CopyLedger.doneChunks(c, "public.devices")).isEmpty();
        }
    }

    @Test
    void indexesAreRecordedOncePerTable() throws SQLException {
        try (Connection c = pg.connect(pg.freshDatabase())) {
            assertThat(CopyLedger.indexed(c, EVENTS)).isFalse();
            CopyLedger.recordIndexed(c, EVENTS);
            CopyLedger.recordIndexed(c, EVENTS);
            assertThat(CopyLedger.indexed(c, EVENTS)).isTrue();
            assertThat(CopyLedger.indexed(c, "public.devices")).isFalse();
            assertThat(CopyLedger.indexedTables(c)).containsExactly(EVENTS);
        }
    }

    static long count(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
