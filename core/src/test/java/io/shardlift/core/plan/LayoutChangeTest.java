package io.shardlift.core.plan;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlift.core.TableId;
import io.shardlift.core.catalog.KeyConstraint;
import io.shardlift.core.catalog.TableInfo;
import io.shardlift.core.ddl.TableShape;
import io.shardlift.core.hash.KeyType;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The difference between two shapes of a table as each node's statements, or the reason it is not carried. */
class LayoutChangeTest {

    static final TableId T = new TableId("public", "items");

    static String shape(String columns, String extra) {
        return "{\"name\": \"public.items\", \"relkind\": \"r\", \"columns\": [" + columns + "],"
                + " \"constraints\": [{\"name\": \"items_pkey\", \"type\": \"p\", \"columns\": [\"id\"], \"def\": \"PRIMARY KEY (id)\"}"
                + extra + "], \"indexes\": [], \"enums\": [], \"partitions\": []}";
    }

    static String col(String name, int attnum, String type, String more) {
        return "{\"name\": \"" + name + "\", \"attnum\": " + attnum + ", \"type\": \"" + type + "\", \"typname\": \"x\","
                + " \"typtype\": \"b\", \"typschema\": \"pg_catalog\", \"notnull\": false, \"identity\": \"\", \"generated\": \"\","
                + " \"hasmissing\": false" + more + "}";
    }

    static final String ID = col("id", 1, "bigint", ", \"notnull\": true");
    static final String V = col("v", 2, "integer", "");

    static TablePlan plan(TableShape s) {
        TableInfo info = s.applyTo(new TableInfo(T, 'r', 'd', List.of(), Optional.empty(), List.of(), List.of(), List.of(),
                List.of(), List.of(), 0, 0));
        KeyConstraint pk = info.primaryKey().orElseThrow();
        return new TablePlan(T, TableKind.SHARDED, info, List.of("id"), List.of(KeyType.BIGINT), 4, T, pk, List.of(), List.of(), 0);
    }

    static LayoutChange.Result change(String before, String after) {
        TableShape b = TableShape.parse(before);
        return new LayoutChange(plan(b), 2).translate("ALTER TABLE", b, after == null ? null : TableShape.parse(after));
    }

    @Test
    void columnChangesRunOnTheParentOfEveryNode() {
        String before = shape(ID + ", " + V + ", " + col("note", 3, "text", ""), "");
        String after = shape(ID + ", " + col("v", 2, "bigint", ", \"notnull\": true, \"expr\": \"5\"") + ", "
                + col("remark", 3, "text", "") + ", " + col("qty", 4, "integer", ", \"expr\": \"1\", \"hasmissing\": true"), "");
        LayoutChange.Result r = change(before, after);
        assertThat(r.refusal()).isEmpty();
        assertThat(r.perNode()).hasSize(2);
        assertThat(r.perNode().get(1).stream().map(Ddl::sql)).containsExactly(
                "ALTER TABLE \"public\".\"items\" RENAME COLUMN \"note\" TO \"remark\"",
                "ALTER TABLE \"public\".\"items\" ALTER COLUMN \"v\" TYPE bigint",
                "ALTER TABLE \"public\".\"items\" ALTER COLUMN \"v\" SET DEFAULT 5",
                LayoutChange.setNotNull("\"public\".\"items\"", "v"),
                "ALTER TABLE \"public\".\"items\" ADD COLUMN IF NOT EXISTS \"qty\" integer DEFAULT 1");
        assertThat(r.plan().source().columnNames()).containsExactly("id", "v", "remark", "qty");
    }

    @Test
    void aRenameOfAColumnAGeneratedOneReadsIsCarriedAndAChangedExpressionIsNot() {
        String before = shape(ID + ", " + V + ", " + col("g", 3, "bigint", ", \"generated\": \"s\", \"expr\": \"(v * 2)\""), "");
        String renamed = shape(ID + ", " + col("Weird v", 2, "integer", "") + ", "
                + col("g", 3, "bigint", ", \"generated\": \"s\", \"expr\": \"(\\\"Weird v\\\" * 2)\""), "");
        LayoutChange.Result r = change(before, renamed);
        assertThat(r.refusal()).isEmpty();
        assertThat(r.perNode().get(0).stream().map(Ddl::sql))
                .containsExactly("ALTER TABLE \"public\".\"items\" RENAME COLUMN \"v\" TO \"Weird v\"");
        String renamedBack = renamed.replace("\"Weird v\", \"attnum\"", "\"v2\", \"attnum\"").replace("(\\\"Weird v\\\" * 2)", "(v2 * 2)");
        assertThat(change(renamed, renamedBack).refusal()).isEmpty();
        String otherExpression = shape(ID + ", " + V + ", " + col("g", 3, "bigint", ", \"generated\": \"s\", \"expr\": \"(v * 3)\""), "");
        assertThat(change(before, otherExpression).refusal()).hasValueSatisfying(m -> assertThat(m)
                .contains("it changes the generation or identity of column g, which is not carried"));
        String renamedAndOther = shape(ID + ", " + col("w", 2, "integer", "") + ", "
                + col("g", 3, "bigint", ", \"generated\": \"s\", \"expr\": \"(w * 3)\""), "");
        assertThat(change(before, renamedAndOther).refusal()).isPresent();
    }

    @Test
    void aTypeChangeByAUsingExpressionIsRefusedAndAPlainOneCarried() {
        String before = shape(ID + ", " + V, "");
        String after = shape(ID + ", " + col("v", 2, "bigint", ""), "");
        assertThat(change(before, after).refusal()).isEmpty();
        String byExpression = after.substring(0, after.length() - 1) + ", \"typeUsing\": true}";
        assertThat(change(before, byExpression).refusal()).hasValueSatisfying(m -> assertThat(m)
                .startsWith("ALTER TABLE on public.items cannot be carried to the cluster: it changes the type of column v from"
                        + " integer to bigint with a USING expression, which the nodes cannot run")
                .contains("a change without USING, or with USING v::bigint alone, is carried"));
        // an expression that changes no type (another column's statement) stops nothing
        String sameTypes = before.substring(0, before.length() - 1) + ", \"typeUsing\": true}";
        assertThat(change(before, sameTypes).refusal()).isEmpty();
    }

    @Test
    void anAddedForeignKeyIsPlannedForTheCutoverWhenTheNodesCanEnforceIt() {
        String before = shape(ID + ", " + V, "").replace("\"partitions\": []", "\"partitions\": [], \"foreignKeys\": []");
        String fk = "{\"name\": \"items_v_fkey\", \"columns\": [\"v\"], \"refschema\": \"public\", \"reftable\": \"%s\","
                + " \"refcolumns\": [\"%s\"], \"onupdate\": \"a\", \"ondelete\": \"c\", \"match\": \"s\", \"deferrable\": false,"
                + " \"deferred\": false}";
        TableShape b = TableShape.parse(before);
        TablePlan items = plan(b);
        TableId kindsId = new TableId("public", "kinds");
        TableId otherId = new TableId("public", "other");
        TablePlan kinds = new TablePlan(kindsId, TableKind.REFERENCE, items.source(), List.of(), List.of(), 1, kindsId,
                items.primaryKey(), List.of(), List.of(), 0);
        TablePlan other = new TablePlan(otherId, TableKind.SHARDED, items.source(), List.of("k"), List.of(KeyType.BIGINT), 4, otherId,
                items.primaryKey(), List.of(), List.of(), 0);
        java.util.function.Function<TableId, Optional<TablePlan>> lookup = id -> id.equals(kindsId) ? Optional.of(kinds)
                : id.equals(otherId) ? Optional.of(other) : Optional.empty();

        TableShape toGlobal = TableShape.parse(before.replace("\"foreignKeys\": []", "\"foreignKeys\": [" + fk.formatted("kinds", "k") + "]"));
        LayoutChange.Result carried = new LayoutChange(items, 2).withTables(lookup).translate("ALTER TABLE", b, toGlobal);
        assertThat(carried.refusal()).isEmpty();
        assertThat(carried.perNode().get(0)).isEmpty(); // created at the cutover, not now
        assertThat(carried.plan().foreignKeys()).singleElement().satisfies(k -> {
            assertThat(k.referenced()).isEqualTo(kindsId);
            assertThat(k.onDelete()).isEqualTo("CASCADE");
        });
        // dropped again: the cutover does not create it
        assertThat(new LayoutChange(carried.plan(), 2).withTables(lookup).translate("ALTER TABLE", toGlobal, b).plan().foreignKeys())
                .isEmpty();

        TableShape toSharded = TableShape.parse(before.replace("\"foreignKeys\": []", "\"foreignKeys\": [" + fk.formatted("other", "k") + "]"));
        assertThat(new LayoutChange(items, 2).withTables(lookup).translate("ALTER TABLE", b, toSharded).refusal())
                .hasValueSatisfying(m -> assertThat(m).startsWith("ALTER TABLE on public.items cannot be carried to the cluster: it adds"
                        + " the foreign key items_v_fkey (v) REFERENCES public.other (k) between two sharded tables that are not"
                        + " colocated on that key"));
        TableShape toMissing = TableShape.parse(before.replace("\"foreignKeys\": []", "\"foreignKeys\": [" + fk.formatted("gone", "k") + "]"));
        assertThat(new LayoutChange(items, 2).withTables(lookup).translate("ALTER TABLE", b, toMissing).refusal())
                .hasValueSatisfying(m -> assertThat(m).contains("which references a table that is not in the migration"));
    }

    @Test
    void anIndexIsBuiltOnEachLocalPartition() {
        String before = shape(ID + ", " + V, "");
        String after = before.replace("\"indexes\": []", "\"indexes\": [{\"name\": \"items_v\", \"def\": \"CREATE INDEX items_v ON"
                + " public.items USING btree (v)\", \"unique\": false, \"columns\": [\"v\"], \"plain\": true}]");
        LayoutChange.Result r = change(before, after);
        assertThat(r.perNode().get(0).stream().map(Ddl::sql)).containsExactly(
                "CREATE INDEX IF NOT EXISTS \"items_v_0\" ON \"public\".\"items_0\" USING btree (v)",
                "CREATE INDEX IF NOT EXISTS \"items_v_2\" ON \"public\".\"items_2\" USING btree (v)");
        LayoutChange.Result back = change(after, before);
        assertThat(back.perNode().get(1).stream().map(Ddl::sql)).containsExactly(
                "DROP INDEX IF EXISTS \"public\".\"items_v_1\"", "DROP INDEX IF EXISTS \"public\".\"items_v_3\"");
    }

    @Test
    void columnsTheSourceFilledPerRowAreAddedBareFilledFromTheSourceThenGivenTheirDefault() {
        String before = shape(ID + ", " + V, "");
        String seq = ", \"sequences\": [{\"schema\": \"public\", \"name\": \"items_n_seq\", \"column\": \"n\", \"identity\": true,"
                + " \"type\": \"bigint\", \"start\": 1, \"increment\": 1, \"min\": 1, \"max\": 9223372036854775807, \"cycle\": false}]}";
        String after = shape(ID + ", " + V + ", " + col("n", 3, "bigint", ", \"identity\": \"a\", \"notnull\": true")
                + ", " + col("r", 4, "double precision", ", \"expr\": \"random()\"")
                + ", " + col("at", 5, "timestamp with time zone", ", \"expr\": \"now()\", \"hasmissing\": true")
                + ", " + col("k", 6, "text", ", \"expr\": \"'x'::text\", \"hasmissing\": true"), "");
        after = after.substring(0, after.length() - 1) + seq;
        LayoutChange.Result r = change(before, after);
        assertThat(r.refusal()).isEmpty();
        assertThat(r.backfill()).containsExactly("n", "r", "at");
        // node 1 of 2 draws 2, 4, 6, ... from its own sequence: the cutover moves it past the source's
        assertThat(r.perNode().get(1).stream().map(Ddl::sql)).containsExactly(
                "CREATE SEQUENCE IF NOT EXISTS \"public\".\"items_n_seq\" AS bigint INCREMENT BY 2 MINVALUE 1 MAXVALUE"
                        + " 9223372036854775807 START WITH 2 NO CYCLE",
                "ALTER TABLE \"public\".\"items\" ADD COLUMN IF NOT EXISTS \"n\" bigint",
                "ALTER TABLE \"public\".\"items\" ADD COLUMN IF NOT EXISTS \"r\" double precision",
                "ALTER TABLE \"public\".\"items\" ADD COLUMN IF NOT EXISTS \"at\" timestamp with time zone",
                "ALTER TABLE \"public\".\"items\" ADD COLUMN IF NOT EXISTS \"k\" text DEFAULT 'x'::text");
        assertThat(r.afterBackfill().stream().map(Ddl::sql)).containsExactly(
                "ALTER TABLE \"public\".\"items\" ALTER COLUMN \"n\" SET DEFAULT nextval('\"public\".\"items_n_seq\"'::regclass)",
                LayoutChange.setNotNull("\"public\".\"items\"", "n"),
                "ALTER TABLE \"public\".\"items\" ALTER COLUMN \"r\" SET DEFAULT random()",
                "ALTER TABLE \"public\".\"items\" ALTER COLUMN \"at\" SET DEFAULT now()",
                "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = '\"public\".\"items\"'::regclass"
                        + " AND attname = 'n' AND NOT attisdropped) THEN ALTER SEQUENCE \"public\".\"items_n_seq\" OWNED BY"
                        + " \"public\".\"items\".\"n\"; END IF; END $$");
        assertThat(r.plan().source().sequences()).extracting(q -> q.id().name()).containsExactly("items_n_seq");
        // without a primary key the nodes' rows cannot be matched with the source's
        String pk = "{\"name\": \"items_pkey\", \"type\": \"p\", \"columns\": [\"id\"], \"def\": \"PRIMARY KEY (id)\"}";
        TableShape keylessBefore = TableShape.parse(before.replace(pk, ""));
        TablePlan keyed = plan(TableShape.parse(before));
        assertThat(new LayoutChange(keyed, 2).translate("ALTER TABLE", keylessBefore, TableShape.parse(after.replace(pk, ""))).refusal())
                .hasValueSatisfying(m -> assertThat(m).contains("without a primary key"));
    }

    @Test
    void constantDefaultsAreToldFromOnesTheSourceComputed() {
        for (String constant : List.of("0", "'-1'::integer", "1.5", "'x'::text", "'{}'::integer[]", "NULL::date", "true",
                "'a''b'::character varying(20)", "'2020-01-01'::date", "'open'::\"Status\"")) {
            assertThat(LayoutChange.filledFromSource(column(constant))).as(constant).isFalse();
        }
        for (String computed : List.of("now()", "random()", "CURRENT_TIMESTAMP", "gen_random_uuid()",
                "nextval('items_s_seq'::regclass)", "ARRAY[1, 2]", "('x'::text || now())")) {
            assertThat(LayoutChange.filledFromSource(column(computed))).as(computed).isTrue();
        }
    }

    private static io.shardlift.core.catalog.ColumnInfo column(String dflt) {
        return TableShape.parse(shape(col("c", 1, "text", ", \"expr\": \"" + dflt.replace("\"", "\\\"") + "\""), "")).columns().get(0);
    }

    @Test
    void whatCannotBeCarriedIsRefusedWithTheReasonAndWhatToDo() {
        String before = shape(ID + ", " + V, "");
        assertThat(change(before, shape(col("id", 1, "numeric", ", \"notnull\": true") + ", " + V, "")).refusal()).hasValueSatisfying(m ->
                assertThat(m).contains("ALTER TABLE on public.items cannot be carried to the cluster",
                        "changes the type of the sharding key column id from bigint to numeric",
                        "The stream of public.items stopped before any later change of it; the other tables go on",
                        "Reverting the change on the source does not resume it", "start the migration over"));
        assertThat(change(before, null).refusal()).hasValueSatisfying(m -> assertThat(m).contains("the table was dropped",
                "start the migration over without public.items").doesNotContain("new definition"));
        assertThat(change(before, before.replace("\"name\": \"public.items\"", "\"name\": \"public.items2\"")).refusal())
                .hasValueSatisfying(m -> assertThat(m).contains("the table is now public.items2"));
        assertThat(change(before, before.replace("\"partitions\": []", "\"partitions\": [\"public.items_a\"]")).refusal())
                .hasValueSatisfying(m -> assertThat(m).contains("its partitioning on the source changed"));
    }

    @Test
    void enumLabelsAreAddedInOrderAndRenamedOnesRefused() {
        String before = shape(ID + ", " + col("m", 2, "public.mood", ", \"typtype\": \"e\""), "")
                .replace("\"enums\": []", "\"enums\": [{\"schema\": \"public\", \"name\": \"mood\", \"labels\": [\"sad\", \"ok\"]}]");
        String after = before.replace("[\"sad\", \"ok\"]", "[\"sad\", \"meh\", \"ok\"]");
        assertThat(change(before, after).perNode().get(0).stream().map(Ddl::sql)).contains(
                "ALTER TYPE \"public\".\"mood\" ADD VALUE IF NOT EXISTS 'meh' AFTER 'sad'");
        assertThat(change(before, before.replace("[\"sad\", \"ok\"]", "[\"ok\", \"sad\"]")).refusal())
                .hasValueSatisfying(m -> assertThat(m).contains("renamed or reordered labels are not carried"));
    }
}
