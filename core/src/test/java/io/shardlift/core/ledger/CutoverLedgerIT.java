package io.shardlift.core.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlift.embedded.PgNode;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The cutover's row on a real node 0: absent before the layout, written only as a transition allows, created once. */
class CutoverLedgerIT {

    static PgNode node;

    @BeforeAll
    static void start() {
        node = PgNode.start("cutover-ledger").createDatabase("bare").createDatabase("n0");
        node.execute("n0", LedgerSchema.DDL.toArray(String[]::new));
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            node.close();
        }
    }

    @Test
    void nothingIsRecordedOnANodeNotLaidOut() throws Exception {
        try (Connection c = node.connect("bare")) {
            assertThat(CutoverLedger.read(c)).isEmpty();
        }
    }

    @Test
    void aTransitionWritesTheRowAndARefusedOneLeavesItAsItWas() throws Exception {
        try (Connection c = node.connect("n0")) {
            clear(c);
            assertThat(CutoverLedger.write(c, current -> {
                assertThat(current).isEmpty();
                return "CUTTING_OVER c-1";
            })).isEmpty();
            assertThat(CutoverLedger.read(c)).get().extracting(CutoverLedger.Entry::value).isEqualTo("CUTTING_OVER c-1");
            assertThat(CutoverLedger.write(c, current -> "CUT_OVER c-1")).get().extracting(CutoverLedger.Entry::value)
                    .isEqualTo("CUTTING_OVER c-1");
            assertThatThrownBy(() -> CutoverLedger.write(c, current -> {
                throw new IllegalStateException("expected no cutover or ROLLED_BACK but it is CUT_OVER");
            })).hasMessageContaining("but it is CUT_OVER");
            assertThat(c.getAutoCommit()).as("the connection is handed back as it came").isTrue();
            // what earlier versions wrote and read: shardlift.meta, key cutover, "STATE id [note]"
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT value FROM shardlift.meta WHERE key = 'cutover'")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("CUT_OVER c-1");
            }
        }
    }

    @Test
    void twoProcessesCreatingTheRowAtOnceOneWinsTheOtherSeesItsRow() throws Exception {
        try (Connection c = node.connect("n0")) {
            clear(c);
        }
        CountDownLatch bothRead = new CountDownLatch(2);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<String>> outcomes = new ArrayList<>();
            for (String id : new String[] {"c-a", "c-b"}) {
                outcomes.add(pool.submit(() -> {
                    try (Connection c = node.connect("n0")) {
                        List<Optional<CutoverLedger.Entry>> seen = new ArrayList<>();
                        try {
                            CutoverLedger.write(c, current -> {
                                seen.add(current);
                                if (seen.size() == 1) {
                                    bothRead.countDown();
                                    try {
                                        bothRead.await(); // both read "no row" before either inserts
                                    } catch (InterruptedException e) {
                                        Thread.currentThread().interrupt();
                                    }
                                }
                                if (current.isPresent()) {
                                    throw new IllegalStateException("expected no cutover but it is " + current.get().value());
                                }
                                return "CUTTING_OVER " + id;
                            });
                            return "won";
                        } catch (IllegalStateException e) {
                            return e.getMessage();
                        }
                    }
                }));
            }
            List<String> results = new ArrayList<>();
            for (Future<String> f : outcomes) {
                results.add(f.get());
            }
            assertThat(results).containsOnlyOnce("won");
            assertThat(results).anySatisfy(r -> assertThat(r).startsWith("expected no cutover but it is CUTTING_OVER c-"));
        } finally {
            pool.shutdownNow();
        }
    }

    static void clear(Connection c) throws Exception {
        try (Statement st = c.createStatement()) {
            st.execute("DELETE FROM shardlift.meta WHERE key = 'cutover'");
        }
    }
}
