package io.shardlift.cdc.apply;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlift.core.TargetException;
import java.sql.BatchUpdateException;
import java.sql.SQLException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class RetryBudgetTest {

    @Test
    void whatFailsNowIsVisibleWithItsSinceAndBudgetUntilItSucceeds() throws Exception {
        RetryBudget budget = new RetryBudget(Duration.ofMinutes(5));
        assertThat(budget.current()).isEmpty();
        budget.failed("node 1 (127.0.0.1:5433/demo)", new SQLException("Connection to 127.0.0.1:5433 refused.", "08001"));
        assertThat(budget.current()).get().asString()
                .matches("node 1 \\(127\\.0\\.0\\.1:5433/demo\\): applying changes fails since \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ:"
                        + " Connection to 127\\.0\\.0\\.1:5433 refused\\. \\(SQLState 08001\\) \\(retry 1, \\d+ s of the 300 s retry budget left\\)");
        budget.succeeded("node 1 (127.0.0.1:5433/demo)");
        assertThat(budget.current()).isEmpty();
    }

    @Test
    void eachTargetsFailureIsVisibleOnItsOwnForTheNodesStatus() throws Exception {
        RetryBudget budget = new RetryBudget(Duration.ofMinutes(5));
        String node1 = "node 1 (127.0.0.1:5433/demo)";
        assertThat(budget.failing(node1)).isEmpty();
        budget.failed(node1, new SQLException("Connection to 127.0.0.1:5433 refused.", "08001"));
        assertThat(budget.failing("node 2 (127.0.0.1:5434/demo)")).isEmpty();
        assertThat(budget.failing(node1)).get().satisfies(f -> {
            assertThat(f.getKey()).startsWith(node1 + ": applying changes fails since ").contains("(SQLState 08001)", "retry budget left");
            assertThat(f.getValue()).isGreaterThanOrEqualTo(0L);
        });
        budget.succeeded(node1);
        assertThat(budget.failing(node1)).isEmpty();
    }

    @Test
    void anExhaustedBudgetStopsWithAMessageThatQuotesNoRow() throws Exception {
        RetryBudget budget = new RetryBudget(Duration.ZERO);
        BatchUpdateException batch = new BatchUpdateException("Batch entry 0 INSERT INTO t VALUES ('secret-value')", "08006", new int[0]);
        budget.failed("node 2", new SQLException("first", "08006"));
        Thread.sleep(5);
        assertThatThrownBy(() -> budget.failed("node 2", batch)).isInstanceOf(TargetException.class)
                .hasMessageStartingWith("node 2 unreachable for 0 s (retry budget 0 s): a statement batch failed (SQLState 08006)")
                .hasMessageNotContaining("secret");
    }

    /** A closing applier must not wait out a node's backoff: stop() ends the wait in progress and every later retry. */
    @Test
    void aStopEndsTheRetryInProgressAndRefusesTheNext() throws Exception {
        RetryBudget budget = new RetryBudget(Duration.ofMinutes(5));
        SQLException down = new SQLException("Connection to 127.0.0.1:5433 refused.", "08001");
        java.util.concurrent.CompletableFuture<Throwable> ended = new java.util.concurrent.CompletableFuture<>();
        Thread writer = new Thread(() -> {
            try {
                for (;;) {
                    budget.failed("node 1", down); // backs off 200 ms, 400 ms, ... up to 5 s a turn
                }
            } catch (Throwable t) {
                ended.complete(t);
            }
        });
        writer.start();
        while (budget.failing("node 1").isEmpty()) {
            Thread.sleep(10);
        }
        budget.stop();
        assertThat(ended.get()).isInstanceOf(InterruptedException.class).hasMessageContaining("closing");
        writer.join();
        assertThatThrownBy(() -> budget.failed("node 2", down)).isInstanceOf(InterruptedException.class);
    }
}
