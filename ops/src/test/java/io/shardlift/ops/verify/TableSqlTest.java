package io.shardlift.ops.verify;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlift.core.TableId;
import io.shardlift.core.catalog.ColumnInfo;
import io.shardlift.core.catalog.KeyConstraint;
import io.shardlift.core.catalog.TableInfo;
import io.shardlift.core.hash.KeyType;
import io.shardlift.core.plan.TableKind;
import io.shardlift.core.plan.TablePlan;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class TableSqlTest {

    static final TableId EVENTS = new TableId("public", "events");
    static final TableId TYPES = new TableId("public", "device_types");

    static ColumnInfo column(String name, int attnum, String type, String typname, Optional<String> generated) {
        return new ColumnInfo(name, attnum, type, typname, 'b', "pg_catalog", true, Optional.empty(), '0', generated,
                Optional.empty(), true, Optional.empty());
    }

    /** events as the sensor dataset has it, plus a generated column; keyed by event_id, sharded on device_id. */
    static TablePlan events() {
        TableInfo info = new TableInfo(EVENTS, 'r', 'd', List.of(
                column("event_id", 1, "bigint", "int8", Optional.empty()),
                column("device_id", 2, "integer", "int4", Optional.empty()),
                column("payload", 3, "jsonb", "jsonb", Optional.empty()),
                column("doubled", 4, "integer", "int4", Optional.of("(device_id * 2)"))),
                Optional.of(new KeyConstraint("events_pkey", KeyConstraint.Kind.PRIMARY_KEY, List.of("event_id"), false, false)),
                List.of(), List.of(), List.of(), List.of(), List.of(), 50_000, 8_000_000);
        return new TablePlan(EVENTS, TableKind.SHARDED, info, List.of("device_id"), List.of(KeyType.INTEGER), 8, EVENTS,
                new KeyConstraint("events_pkey", KeyConstraint.Kind.PRIMARY_KEY, List.of("event_id", "device_id"), false, false),
                List.of(), List.of(), 1);
    }

    static TablePlan deviceTypes() {
        TableInfo info = new TableInfo(TYPES, 'r', 'd', List.of(
                column("device_type_id", 1, "integer", "int4", Optional.empty()),
                column("name", 2, "text", "text", Optional.empty())),
                Optional.of(new KeyConstraint("device_types_pkey", KeyConstraint.Kind.PRIMARY_KEY, List.of("name"), false, false)),
                List.of(), List.of(), List.of(), List.of(), List.of(), 10, 8192);
        return new TablePlan(TYPES, TableKind.REFERENCE, info, List.of(), List.of(), 1, TYPES,
                info.primaryKey().orElseThrow(), List.of(), List.of(), 3);
    }

    static final KeyRange MIDDLE = new KeyRange(1, Optional.of("100"), Optional.of("200"));

    @Test
    void aNodeReadsOnlyItsLocalPartitionsNeverTheParent() {
        TableSql t = new TableSql(events(), 4, RowHash.HASHTEXTEXTENDED, false);
        String node1 = t.nodeChecksum(1, MIDDLE);
        assertThat(node1)
                .contains("FROM ONLY \"public\".\"events_1\" t", "FROM ONLY \"public\".\"events_5\" t")
                .doesNotContain("\"public\".\"events\" ", "events_0", "events_2", "events_3");
        assertThat(t.branches(1)).isEqualTo(2);
        assertThat(t.nodeRows(1, MIDDLE)).contains("FROM ONLY \"public\".\"events_1\" t").doesNotContain("\"public\".\"events\" ");
        assertThat(t.sourceChecksum(MIDDLE)).isEqualTo("SELECT count(*), coalesce(sum(h), 0) FROM (SELECT hashtextextended("
                + "ROW(t.\"event_id\", t.\"device_id\", t.\"payload\")::text, 0) AS h FROM \"public\".\"events\" t"
                + " WHERE t.\"event_id\" >= CAST(? AS bigint) AND t.\"event_id\" < CAST(? AS bigint)) u");
    }

    @Test
    void sourceColumnsOnlyGeneratedOnesExcludedAndTheSourceKeyRangesAndOrders() {
        TableSql t = new TableSql(events(), 4, RowHash.HASHTEXTEXTENDED, false);
        assertThat(t.columns).containsExactly("event_id", "device_id", "payload");
        assertThat(t.keyColumn).isEqualTo("event_id");
        assertThat(t.sourceKey).containsExactly("event_id");
        assertThat(t.sourceRows(new KeyRange(2, Optional.of("200"), Optional.empty())))
                .startsWith("SELECT u.k0::text, u.h FROM (SELECT t.\"event_id\" AS k0, hashtextextended(")
                .contains("WHERE t.\"event_id\" >= CAST(? AS bigint)) u ORDER BY u.k0")
                .doesNotContain("< CAST");
        assertThat(t.nodeRows(0, KeyRange.all())).contains("'public.events_0' AS rel FROM ONLY \"public\".\"events_0\" t")
                .contains("'public.events_4' AS rel").doesNotContain("WHERE");
    }

    @Test
    void aReferenceTableIsReadOnEveryNodeAsItsOwnCopy() {
        TableSql t = new TableSql(deviceTypes(), 3, RowHash.HASHTEXTEXTENDED, false);
        for (int k = 0; k < 3; k++) {
            assertThat(t.onNode(k)).isTrue();
            assertThat(t.branches(k)).isEqualTo(1);
            assertThat(t.nodeChecksum(k, MIDDLE)).contains("FROM ONLY \"public\".\"device_types\" t");
        }
        // a text key orders drill-downs by code point, whatever the collation
        assertThat(t.sourceRows(MIDDLE)).endsWith("ORDER BY (u.k0::text) COLLATE \"C\"");
        assertThat(t.sourceChecksum(MIDDLE)).contains("t.\"name\" >= CAST(? AS text)").doesNotContain("COLLATE");
    }

    @Test
    void differingCollationsCompareRangesInCOrderAndTheSampleSortsTheSameWay() {
        TableSql t = new TableSql(deviceTypes(), 3, RowHash.HASHTEXTEXTENDED, true);
        assertThat(t.nodeChecksum(2, MIDDLE)).contains("t.\"name\" COLLATE \"C\" >= CAST(? AS text)");
        assertThat(t.sampleSql(100)).contains("ORDER BY t.\"name\" COLLATE \"C\")").doesNotContain("TABLESAMPLE");
        assertThat(t.sampleSql(2.5)).endsWith(" t TABLESAMPLE SYSTEM (2.5) REPEATABLE (0)");
    }

    @Test
    void theRowHashIsChosenFromTheSourceVersion() {
        assertThat(RowHash.forSourceVersion(100023)).isEqualTo(RowHash.MD5);
        assertThat(RowHash.forSourceVersion(110000)).isEqualTo(RowHash.HASHTEXTEXTENDED);
        assertThat(new TableSql(events(), 4, RowHash.MD5, false).sourceChecksum(KeyRange.all()))
                .contains("('x' || left(md5(ROW(t.\"event_id\", t.\"device_id\", t.\"payload\")::text), 16))::bit(64)::bigint");
    }
}
