package io.shardlift.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.BatchUpdateException;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

class SqlErrorsTest {

    private static PSQLException server(String state, String message, String detail, String table, String constraint) {
        return new PSQLException(new ServerErrorMessage("SERROR\0V ERROR\0C" + state + "\0M" + message + "\0D" + detail
                + "\0t" + table + "\0n" + constraint + "\0"));
    }

    @Test
    void aFailedBatchIsDescribedByItsCauseWithoutTheStatementItsValuesOrTheDetail() {
        BatchUpdateException batch = new BatchUpdateException("Batch entry 0 INSERT INTO \"events_1\" VALUES ('secret-value', 42)"
                + " was aborted: ERROR: duplicate key", "23505", new int[0]);
        batch.setNextException(server("23505", "duplicate key value violates unique constraint \"events_1_pkey\"",
                "Key (event_id)=(42) already exists.", "events_1", "events_1_pkey"));
        assertThat(SqlErrors.describe(batch)).isEqualTo("duplicate key value violates unique constraint \"events_1_pkey\""
                + " (SQLState 23505, table events_1, constraint events_1_pkey)");
    }

    @Test
    void aDataExceptionKeepsOnlyItsStateAndNamesSinceItsMessageQuotesTheValue() {
        String d = SqlErrors.describe(server("22P02", "invalid input syntax for type integer: \"secret-value\"", "", "t", ""));
        assertThat(d).isEqualTo("data exception (SQLState 22P02, table t)").doesNotContain("secret");
    }

    @Test
    void aBatchWithoutItsCauseSaysOnlyThatItFailed() {
        BatchUpdateException batch = new BatchUpdateException("Batch entry 0 INSERT INTO t VALUES ('secret-value')", "08006", new int[0]);
        assertThat(SqlErrors.describe(batch)).isEqualTo("a statement batch failed (SQLState 08006)");
    }

    @Test
    void aDriverErrorKeepsItsMessage() {
        assertThat(SqlErrors.describe(new SQLException("Connection to 127.0.0.1:5433 refused.", "08001")))
                .isEqualTo("Connection to 127.0.0.1:5433 refused. (SQLState 08001)");
    }
}
