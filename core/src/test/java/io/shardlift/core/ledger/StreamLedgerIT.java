package io.shardlift.core.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class StreamLedgerIT {

    static LedgerNode pg;

    @BeforeAll
    static void start() {
        pg = new LedgerNode("ledger-stream");
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
    }

    static final StreamLedger.Binding BINDING = new StreamLedger.Binding("m-1", List.of(
            new StreamLedger.Start("cdc.public.events", 0, 17), new StreamLedger.Start("cdc.public.events", 1, 0),
            new StreamLedger.Start("cdc.public.devices", 0, 3)));

    @Test
    void aBindingIsRecordedWithItsIdAndReadBack() throws SQLException {
        try (Connection c = pg.connect(pg.freshDatabase())) {
            assertThat(StreamLedger.read(c)).isEmpty();
            StreamLedger.record(c, BINDING);
            assertThat(StreamLedger.read(c)).hasValueSatisfying(b -> {
                assertThat(b.migrationId()).isEqualTo("m-1");
                assertThat(b.starts()).containsExactlyInAnyOrderElementsOf(BINDING.starts());
            });
            assertThat(MetaLedger.get(c, MetaLedger.MIGRATION_ID)).contains("m-1");
        }
    }

    @Test
    void aSecondBindingIsRefusedAndTheFirstStaysWhole() throws SQLException {
        try (Connection c = pg.connect(pg.freshDatabase())) {
            StreamLedger.record(c, BINDING);
            StreamLedger.Binding other = new StreamLedger.Binding("m-2", List.of(new StreamLedger.Start("cdc.public.other", 0, 5)));
            assertThatThrownBy(() -> StreamLedger.record(c, other)).isInstanceOf(SQLException.class);
            assertThat(c.getAutoCommit()).as("the connection is handed back as it came").isTrue();
            StreamLedger.Binding read = StreamLedger.read(c).orElseThrow();
            assertThat(read.migrationId()).isEqualTo("m-1");
            assertThat(read.starts()).hasSize(3);
            // the refused binding's starts were rolled back with it
            try (var st = c.createStatement(); var rs = st.executeQuery("SELECT count(*) FROM " + LedgerSchema.STREAM_START)) {
                rs.next();
                assertThat(rs.getLong(1)).isEqualTo(3);
            }
        }
    }

    @Test
    void theLockHoldsASecondBinderUntilTheFirstCommits() throws Exception {
        String db = pg.freshDatabase();
        try (Connection first = pg.connect(db); Connection second = pg.connect(db)) {
            assertThatThrownBy(() -> StreamLedger.lock(first)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("needs a transaction");
            first.setAutoCommit(false);
            second.setAutoCommit(false);
            StreamLedger.lock(first);
            CompletableFuture<Boolean> waiter = CompletableFuture.supplyAsync(() -> {
                try {
                    StreamLedger.lock(second);
                    return StreamLedger.read(second).isPresent();
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThatThrownBy(() -> waiter.get(1, TimeUnit.SECONDS)).isInstanceOf(TimeoutException.class);
            StreamLedger.record(first, BINDING);
            first.commit();
            assertThat(waiter.get(60, TimeUnit.SECONDS)).as("the second sees the first's binding").isTrue();
            second.commit();
        }
    }
}
