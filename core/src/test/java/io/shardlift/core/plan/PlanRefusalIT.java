package io.shardlift.core.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlift.core.catalog.SourceCatalog;
import io.shardlift.core.spec.MigrationSpec;
import io.shardlift.core.spec.SpecException;
import io.shardlift.embedded.PgNode;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every refusal of the planner, against a real source catalog: the message names the table, the column
 * or constraint, and the fix. Planning never connects to the nodes, so none are started.
 */
class PlanRefusalIT {

    static PgNode source;

    @BeforeAll
    static void start() {
        source = PgNode.start("refusals").createDatabase("src");
        source.execute("src",
                "CREATE SCHEMA r",
                "CREATE TABLE r.nopk (id int NOT NULL, v text)",
                "CREATE TABLE r.orders_by_customer (order_id int PRIMARY KEY, customer_id int NOT NULL)",
                "CREATE TABLE r.customers (cid int PRIMARY KEY, name text)",
                "CREATE TABLE r.orders (cid int NOT NULL REFERENCES r.customers, oid int NOT NULL, PRIMARY KEY (cid, oid))",
                "CREATE TABLE r.notes (id int PRIMARY KEY, cid int REFERENCES r.customers)",
                "CREATE TABLE r.regions (id int PRIMARY KEY, region text)",
                "CREATE DOMAIN r.local_time AS timetz",
                "CREATE TABLE r.typed (id int PRIMARY KEY, doc xml[], opens r.local_time, slots timetz[], owner regrole)",
                "CREATE TABLE r.docs (id int PRIMARY KEY, body jsonb NOT NULL)",
                "CREATE TABLE r.parts (id bigint NOT NULL, pid int NOT NULL REFERENCES r.customers, PRIMARY KEY (id, pid))",
                "CREATE TABLE r.seats (flight_id int NOT NULL, ticket_no text NOT NULL, seat_no text NOT NULL,"
                        + " PRIMARY KEY (ticket_no, flight_id), CONSTRAINT seats_flight_seat_key UNIQUE (flight_id, seat_no))");
    }

    @AfterAll
    static void stop() {
        if (source != null) {
            source.close();
        }
    }

    static MigrationSpec spec(String tables) {
        return Specs.parse("version: \"1.0\"\nmigrate:\n  connstr: \"" + source.connstr("src") + "\"\n"
                + "  schemas:\n    - name: r\n      tables:\n" + tables
                + "cluster:\n  nodes:\n    - \"host=127.0.0.1 port=1 dbname=n0 user=postgres\"\n"
                + "    - \"host=127.0.0.1 port=2 dbname=n1 user=postgres\"\n");
    }

    static ClusterPlan plan(MigrationSpec spec) throws SQLException {
        try (Connection c = source.connect("src")) {
            return SchemaPlanner.plan(spec, SourceCatalog.read(c, List.of("r")));
        }
    }

    static String refusal(String tables) {
        MigrationSpec spec = spec(tables);
        return assertThatThrownBy(() -> plan(spec)).isInstanceOf(PlanException.class).actual().getMessage();
    }

    @Test
    void columnTypesThatCannotBeCarriedExactlyAreNamedWithTheFix() {
        String msg = refusal("        - {name: typed, type: global}\n");
        assertThat(msg)
                .contains("r.typed: column doc has type xml[], which shardlift cannot carry exactly: an array of xml: "
                        + "PostgreSQL's xml output")
                .contains("change the column to text")
                .contains("r.typed: column opens has type r.local_time, which shardlift cannot carry exactly: Debezium "
                        + "turns time with time zone into UTC")
                .contains("r.typed: column owner has type regrole")
                .contains("store the object's name as text")
                .doesNotContain("column slots"); // arrays of timetz travel as text
    }

    @Test
    void tableWithoutPrimaryKey() {
        assertThat(refusal("        - {name: nopk, type: sharded, distributedby: id, partitions: 2}\n"))
                .contains("r.nopk: has no primary key")
                .contains("ALTER TABLE \"r\".\"nopk\" ADD PRIMARY KEY")
                .contains("including the sharding key id");
    }

    @Test
    void primaryKeyWithoutShardingKeyNamesTheOptIn() {
        assertThat(refusal("        - {name: orders_by_customer, type: sharded, distributedby: customer_id, partitions: 2}\n"))
                .contains("r.orders_by_customer: PRIMARY KEY orders_by_customer_pkey (order_id) does not include the sharding key customer_id")
                .contains("set widen_unique: true")
                .contains("(order_id, customer_id)");
    }

    @Test
    void aShardingKeyThatIsNotAColumnIsNamedWithoutFollowOnAdvice() {
        // a new user's typo: the refusal named the column, then advised widening the key to include it
        assertThat(refusal("        - {name: orders_by_customer, type: sharded, distributedby: customer_idd, partitions: 2}\n"))
                .contains("customer_idd")
                .doesNotContain("widen_unique")
                .doesNotContain("(order_id, customer_idd)");
    }

    @Test
    void uniqueConstraintWithoutShardingKey() {
        assertThat(refusal("        - {name: seats, type: sharded, distributedby: ticket_no, partitions: 2}\n"))
                .contains("UNIQUE seats_flight_seat_key (flight_id, seat_no) does not include the sharding key ticket_no");
    }

    @Test
    void wideningIsAnExplicitOptInShownAsAWarning() throws SQLException {
        ClusterPlan plan = plan(spec("        - {name: seats, type: sharded, distributedby: ticket_no, partitions: 2, widen_unique: true}\n"));
        assertThat(plan.warnings()).singleElement().asString()
                .contains("seats_flight_seat_key (flight_id, seat_no)")
                .contains("becomes (flight_id, seat_no, ticket_no)")
                .contains("(flight_id, seat_no) alone is no longer enforced unique across the cluster");
        assertThat(plan.nodes().get(0).indexes()).anyMatch(d -> d.sql().contains("UNIQUE (\"flight_id\", \"seat_no\", \"ticket_no\")"));
    }

    @Test
    void foreignKeyBetweenShardedTablesNotColocated() {
        assertThat(refusal("""
                        - {name: customers, type: sharded, distributedby: cid, partitions: 2}
                        - {name: orders, type: sharded, distributedby: cid, partitions: 2}
                """))
                .contains("r.orders: foreign key orders_cid_fkey (cid) REFERENCES r.customers (cid) joins two sharded tables that are not colocated")
                .contains("r.orders is not colocated with r.customers")
                .contains("colocatewith: customers");
    }

    @Test
    void foreignKeyBetweenColocatedTablesThatDoesNotCarryTheKey() {
        assertThat(refusal("""
                        - {name: customers, type: sharded, distributedby: cid, partitions: 2}
                        - {name: parts, type: sharded, distributedby: id, colocatewith: customers}
                """))
                .contains("r.parts: foreign key parts_pid_fkey (pid) REFERENCES r.customers (cid) joins two sharded tables")
                .contains("does not map r.parts's sharding key id onto r.customers's cid");
    }

    @Test
    void colocatedTablesWithDifferentKeyTypes() {
        assertThat(refusal("""
                        - {name: customers, type: sharded, distributedby: cid, partitions: 2}
                        - {name: seats, type: sharded, distributedby: ticket_no, colocatewith: customers}
                """))
                .contains("r.seats: colocated with r.customers but its sharding key ticket_no has type(s) [TEXT]");
    }

    @Test
    void referenceTableReferencingAShardedOne() {
        assertThat(refusal("""
                        - {name: customers, type: sharded, distributedby: cid, partitions: 2}
                        - {name: notes, type: global}
                """))
                .contains("r.notes: is global but its foreign key notes_cid_fkey (cid) REFERENCES r.customers (cid) references the sharded table r.customers")
                .contains("make r.customers global");
    }

    @Test
    void shardingColumnThatDoesNotExist() {
        assertThat(refusal("        - {name: customers, type: sharded, distributedby: customer_id, partitions: 2}\n"))
                .contains("r.customers: sharding column customer_id (distributedby) does not exist; columns are cid, name");
    }

    @Test
    void nullableShardingColumn() {
        assertThat(refusal("        - {name: regions, type: sharded, distributedby: region, partitions: 2, widen_unique: true}\n"))
                .contains("r.regions: sharding column region is nullable")
                .contains("ALTER COLUMN \"region\" SET NOT NULL");
    }

    @Test
    void unhashableShardingColumn() {
        assertThat(refusal("        - {name: docs, type: sharded, distributedby: body, partitions: 2, widen_unique: true}\n"))
                .contains("r.docs: sharding column body has type jsonb, which shardlift cannot hash");
    }

    @Test
    void foreignKeyToATableOutsideTheSpecAndAMissingTable() {
        String message = refusal("""
                        - {name: orders, type: global}
                        - {name: nosuch, type: global}
                """);
        assertThat(message)
                .contains("r.orders: foreign key orders_cid_fkey (cid) REFERENCES r.customers (cid) references r.customers, which is not in the spec")
                .contains("r.nosuch: the spec lists this table but the source has no table \"r\".\"nosuch\"")
                .contains("(2 problems)");
    }

    @Test
    void colocateWithMissingOrGlobalTableIsRefusedByTheSpec() {
        assertThatThrownBy(() -> spec("""
                        - {name: customers, type: global}
                        - {name: orders, type: sharded, distributedby: cid, colocatewith: customers}
                        - {name: parts, type: sharded, distributedby: pid, colocatewith: nosuch}
                """)).isInstanceOf(SpecException.class)
                .hasMessageContaining("colocatewith")
                .hasMessageContaining("customers")
                .hasMessageContaining("nosuch");
    }
}
