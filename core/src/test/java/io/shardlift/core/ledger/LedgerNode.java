package io.shardlift.core.ledger;

import io.shardlift.embedded.PgNode;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/** A real PostgreSQL server with one fresh database per test carrying the control schema, for the ledgers' tests. */
final class LedgerNode implements AutoCloseable {

    private final PgNode node;
    private int databases;

    LedgerNode(String name) {
        this.node = PgNode.start(name);
    }

    /** A new database with the control schema laid out, so no test sees another's rows. */
    String freshDatabase() throws SQLException {
        String db = "ledger" + (++databases);
        node.createDatabase(db);
        try (Connection c = node.connect(db); Statement st = c.createStatement()) {
            for (String ddl : LedgerSchema.DDL) {
                st.execute(ddl);
            }
        }
        return db;
    }

    Connection connect(String db) throws SQLException {
        return node.connect(db);
    }

    PgNode node() {
        return node;
    }

    @Override
    public void close() {
        node.close();
    }
}
