package io.shardlift.core.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlift.core.SqlErrors;
import java.sql.Connection;
import java.sql.SQLException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class MetaLedgerIT {

    static LedgerNode pg;

    @BeforeAll
    static void start() {
        pg = new LedgerNode("ledger-meta");
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
    }

    @Test
    void aNodeNeverLaidOutHasNoLedgerAndOneLaidOutHasIt() throws SQLException {
        pg.node().createDatabase("bare");
        try (Connection c = pg.connect("bare")) {
            assertThat(MetaLedger.exists(c)).isFalse();
        }
        try (Connection c = pg.connect(pg.freshDatabase())) {
            assertThat(MetaLedger.exists(c)).isTrue();
            assertThat(MetaLedger.get(c, MetaLedger.SLOT)).isEmpty();
        }
    }

    @Test
    void putReplacesAndCreateRefusesASecondValue() throws SQLException {
        try (Connection c = pg.connect(pg.freshDatabase())) {
            MetaLedger.put(c, MetaLedger.CONSISTENT_POINT, "0/16B3748");
            MetaLedger.put(c, MetaLedger.CONSISTENT_POINT, "0/16B3750");
            assertThat(MetaLedger.get(c, MetaLedger.CONSISTENT_POINT)).contains("0/16B3750");

            MetaLedger.create(c, "once", "first");
            assertThatThrownBy(() -> MetaLedger.create(c, "once", "second"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(SqlErrors.isUniqueViolation(e)).isTrue());
            assertThat(MetaLedger.get(c, "once")).contains("first");
        }
    }

    @Test
    void aFactWrittenInTheCallersTransactionGoesWithIt() throws SQLException {
        try (Connection c = pg.connect(pg.freshDatabase())) {
            c.setAutoCommit(false);
            MetaLedger.put(c, MetaLedger.LAYOUT_FINGERPRINT, "abc");
            c.rollback();
            assertThat(MetaLedger.get(c, MetaLedger.LAYOUT_FINGERPRINT)).isEmpty();
            MetaLedger.put(c, MetaLedger.LAYOUT_FINGERPRINT, "abc");
            c.commit();
            assertThat(MetaLedger.get(c, MetaLedger.LAYOUT_FINGERPRINT)).contains("abc");
        }
    }
}
