package io.shardlift.cdc.event;

import static io.shardlift.cdc.event.Columns.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlift.core.TableId;
import io.shardlift.core.catalog.ColumnInfo;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TableCodecTest {

    static final TableId T = new TableId("public", "all_types");
    static final List<ColumnInfo> COLUMNS = List.of(
            col("id", "bigint", "int8"),
            col("s", "smallint", "int2"),
            col("i", "integer", "int4"),
            col("n", "numeric(30,10)", "numeric"),
            col("r", "real", "float4"),
            col("d", "double precision", "float8"),
            col("t", "text", "text"),
            col("b", "bytea", "bytea"),
            col("ok", "boolean", "bool"),
            col("day", "date", "date"),
            col("tm", "time without time zone", "time"),
            col("ts", "timestamp without time zone", "timestamp"),
            col("tstz", "timestamp with time zone", "timestamptz"),
            col("ia", "integer[]", "_int4"),
            col("ta", "text[]", "_text"),
            col("m", "public.mood", "mood", 'e', "public"),
            col("ma", "public.mood[]", "_mood", 'b', "public"));
    static final TableCodec CODEC = TableCodec.of(T, COLUMNS, List.of("id"));

    static Row fullRow(long id) {
        return Row.of(id, (long) Short.MIN_VALUE, (long) Integer.MAX_VALUE, "-12345678901234567890.0123456789",
                Float.NaN, Double.NEGATIVE_INFINITY, "héllo ☃ \"q\" \\ {x}", new byte[] {0, -1, 16},
                true, -735160L, 86_400_000_000L, -62_135_596_800_000_001L, "2024-02-29T10:34:56.789012Z",
                "{{1,NULL},{-3,4}}", "[0:2]={\"a b\",NULL,\"c\\\"d\"}", "happy", "{sad}");
    }

    @Test
    void everyOpRoundTrips() {
        Position p = new Position(0x16_B374D848L, 0x16_B374D900L, 1);
        List<ChangeEvent> events = List.of(
                ChangeEvent.row(Op.INSERT, T, Row.of(7L), fullRow(7), p, 745, 1_709_210_096_789_012L),
                ChangeEvent.row(Op.UPDATE, T, Row.of(7L), withUnchangedAndNulls(fullRow(7)), p, 746, 1L),
                ChangeEvent.delete(T, Row.of(Long.MIN_VALUE), p, Long.MAX_VALUE >>> 1, -5L),
                ChangeEvent.truncate(T, p, 1, 2),
                ChangeEvent.truncatePartition(T, new io.shardlift.core.TableId(T.schema(), T.name() + "_3"), p, 1, 2),
                ChangeEvent.marker(T, "cutover-1 ☃", p, 1, 2));
        for (ChangeEvent e : events) {
            ChangeEvent back = CODEC.decode(CODEC.encode(e));
            assertThat(back).as(e.op().name()).isEqualTo(e);
            // readable whatever the layout: how the applier tells a change sent again in a retired shape
            assertThat(TableCodec.positionOf(CODEC.encode(e))).isEqualTo(p);
        }
        assertThat(Position.parse(p.toString())).isEqualTo(p);
        assertThat(Position.parse(new Position(0, 0x1967850L, 0).toString())).isEqualTo(new Position(0, 0x1967850L, 0));
    }

    @Test
    void aPartitionsTruncateKeepsThePartitionAndAWholeTruncateNamesNone() {
        Position p = new Position(1, 2, 0);
        io.shardlift.core.TableId part = new io.shardlift.core.TableId(T.schema(), T.name() + "_3");
        assertThat(CODEC.decode(CODEC.encode(ChangeEvent.truncatePartition(T, part, p, 1, 2))).truncatedPartition()).contains(part);
        assertThat(CODEC.decode(CODEC.encode(ChangeEvent.truncate(T, p, 1, 2))).truncatedPartition()).isEmpty();
    }

    private static Row withUnchangedAndNulls(Row r) {
        Object[] v = new Object[r.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.get(i);
        }
        v[3] = null;
        v[6] = Row.UNCHANGED;
        v[7] = Row.UNCHANGED;
        v[13] = null;
        return Row.of(v);
    }

    @Test
    void unchangedIsNeitherNullNorAValue() {
        Row back = CODEC.decode(CODEC.encode(ChangeEvent.row(Op.UPDATE, T, Row.of(7L),
                withUnchangedAndNulls(fullRow(7)), Position.ZERO, 1, 1))).after();
        assertThat(back.isUnchanged(6)).isTrue();
        assertThat(back.isNull(6)).isFalse();
        assertThat(back.isNull(3)).isTrue();
        assertThat(back.isUnchanged(3)).isFalse();
        assertThat(back.hasUnchanged()).isTrue();
        assertThatThrownBy(() -> CODEC.text(back, 6)).hasMessageContaining("column t is UNCHANGED");
    }

    @Test
    void rendersPostgresInputText() {
        Row r = fullRow(7);
        String[] expected = {"7", "-32768", "2147483647", "-12345678901234567890.0123456789", "NaN", "-Infinity",
                "héllo ☃ \"q\" \\ {x}", "\\x00ff10", "t", "0044-03-15 BC", "24:00:00", "0001-12-31 23:59:59.999999 BC",
                "2024-02-29T10:34:56.789012Z", "{{1,NULL},{-3,4}}", "[0:2]={\"a b\",NULL,\"c\\\"d\"}",
                "happy", "{sad}"};
        for (int i = 0; i < expected.length; i++) {
            assertThat(CODEC.text(r, i)).as(CODEC.column(i).toString()).isEqualTo(expected[i]);
        }
        assertThat(CODEC.column(3).placeholder()).isEqualTo("?::numeric(30,10)");
        // arrays travel as PostgreSQL's own text, dimensions and lower bounds included
        assertThat(CODEC.column(13).kind()).isEqualTo(ValueKind.TEXT);
        assertThat(CODEC.column(13).rawText()).isTrue();
        assertThat(CODEC.column(15).rawText()).isFalse();
        assertThat(CODEC.column(16).rawText()).isTrue();
    }

    @ParameterizedTest
    @CsvSource({
            "0, 1970-01-01",
            "-1, 1969-12-31",
            "2932896, 9999-12-31",
            "2932897, 10000-01-01",
            "-719528, 0001-01-01 BC",
            "-719163, 0001-12-31 BC",
            "-719162, 0001-01-01"})
    void datesIncludingBcAndFiveDigitYears(long days, String text) {
        assertThat(ValueCodec.DATE.toText(days)).isEqualTo(text);
    }

    @ParameterizedTest
    @CsvSource({
            "0, 1970-01-01 00:00:00",
            "1, 1970-01-01 00:00:00.000001",
            "-1, 1969-12-31 23:59:59.999999",
            "1709210096789000, 2024-02-29 12:34:56.789",
            "1709210096789012, 2024-02-29 12:34:56.789012"})
    void timestampsKeepMicroseconds(long micros, String text) {
        assertThat(ValueCodec.TIMESTAMP.toText(micros)).isEqualTo(text.endsWith(".789") ? text + "000" : text);
    }

    @Test
    void keysThatPostgresCallsEqualPartitionTogether() {
        TableCodec numKey = TableCodec.of(T, List.of(col("k", "numeric", "numeric"), col("f", "double precision", "float8")),
                List.of("k", "f"));
        assertThat(numKey.encodeKey(Row.of("1.50", 0.0))).isEqualTo(numKey.encodeKey(Row.of("1.5", -0.0)));
        assertThat(numKey.encodeKey(Row.of("10", 1.0))).isNotEqualTo(numKey.encodeKey(Row.of("1", 1.0)));
        assertThat(ValueCodec.canonicalNumeric("100.000")).isEqualTo("100");
        assertThat(ValueCodec.canonicalNumeric("-0.00")).isEqualTo("0");
        assertThat(ValueCodec.canonicalNumeric("NAN")).isEqualTo("NaN");
        assertThat(ValueCodec.canonicalNumeric("1000")).isEqualTo("1000");
    }

    @Test
    void readerWithAnotherLayoutRefuses() {
        TableCodec other = TableCodec.of(T, List.of(col("id", "bigint", "int8"), col("x", "text", "text")), List.of("id"));
        byte[] bytes = other.encode(ChangeEvent.row(Op.INSERT, T, Row.of(1L), Row.of(1L, "x"), Position.ZERO, 1, 1));
        assertThatThrownBy(() -> CODEC.decode(bytes))
                .hasMessageContaining("written for column layout")
                .hasMessageContaining("different column lists");
    }

    @Test
    void aSchemaChangeIsReadByTheCodecOfEitherShape() {
        // written by the codec of the shape before it, read after a restart by that of the shape after it
        TableCodec before = TableCodec.of(T, List.of(col("id", "bigint", "int8"), col("x", "text", "text")), List.of("id"));
        String content = "{\"tag\": \"ALTER TABLE\", \"old\": {}, \"new\": {}}";
        byte[] bytes = before.encode(ChangeEvent.ddl(T, content, new Position(1, 2, 0), 9, 10));
        ChangeEvent e = CODEC.decode(bytes);
        assertThat(e.op()).isEqualTo(Op.DDL);
        assertThat(e.marker()).contains(content);
        assertThat(e.position()).isEqualTo(new Position(1, 2, 0));
        assertThat(e.key().size()).isZero();
    }

    @Test
    void truncatedOrTrailingBytesRefused() {
        byte[] good = CODEC.encode(ChangeEvent.row(Op.INSERT, T, Row.of(7L), fullRow(7), Position.ZERO, 1, 1));
        assertThatThrownBy(() -> CODEC.decode(Arrays.copyOf(good, good.length - 3))).hasMessageContaining("truncated");
        assertThatThrownBy(() -> CODEC.decode(Arrays.copyOf(good, good.length + 1))).hasMessageContaining("unread bytes");
    }

    @Test
    void typesDebeziumWouldChangeTravelAsTextAndRefusedOnesAreAllNamedAtOnce() {
        TableCodec codec = TableCodec.of(T, List.of(col("id", "integer", "int4"), col("p", "point", "point"),
                col("v", "bit varying(8)", "varbit"), col("na", "numeric[]", "_numeric"), col("tv", "tsvector", "tsvector"),
                col("g", "public.geometry", "geometry", 'b', "public")), List.of("id"));
        assertThat(codec.columns().subList(1, 6)).allSatisfy(c -> assertThat(c.rawText()).as(c.toString()).isTrue());
        assertThatThrownBy(() -> TableCodec.of(T, List.of(col("id", "integer", "int4"), col("x", "xml", "xml"),
                col("tz", "time with time zone", "timetz"), col("rc", "regclass[]", "_regclass")), List.of("id", "nope")))
                .hasMessageContaining("column x has type xml, which shardlift cannot carry exactly: PostgreSQL's xml output")
                .hasMessageContaining("column tz has type time with time zone")
                .hasMessageContaining("column rc has type regclass[], which shardlift cannot carry exactly: an array of regclass")
                .hasMessageContaining("key column nope is not a column");
    }

    @Test
    void eventInvariantsAreChecked() {
        assertThatThrownBy(() -> ChangeEvent.row(Op.DELETE, T, Row.of(1L), Row.of(1L), Position.ZERO, 1, 1))
                .hasMessageContaining("DELETE cannot have a row image");
        assertThatThrownBy(() -> CODEC.keyOf(Row.of(new Object[COLUMNS.size()]))).hasMessageContaining("primary-key column id is NULL");
    }

    @Test
    void positionsOrderByPreviousCommitThenLsnThenSeq() {
        Position a = new Position(100, 900, 0);
        Position b = new Position(200, 150, 0); // a later transaction may hold lower LSNs
        Position c = new Position(200, 150, 1);
        assertThat(List.of(c, b, a).stream().sorted().toList()).containsExactly(a, b, c);
        assertThat(io.shardlift.core.Lsn.format(0x16_B374D848L)).isEqualTo("16/B374D848");
        assertThat(io.shardlift.core.Lsn.parse("16/B374D848").value()).isEqualTo(0x16_B374D848L);
        assertThat(new Position(-1L, 0, 0).isAfter(new Position(1L, 0, 0))).as("LSNs are unsigned").isTrue();
    }

    @Test
    void topicNamesAreKafkaLegalAndDistinct() {
        assertThat(Topics.forTable("shardlift", new TableId("public", "events"))).isEqualTo("shardlift.public.events");
        String odd = Topics.forTable("shardlift", new TableId("public", "my table"));
        String odd2 = Topics.forTable("shardlift", new TableId("public", "my?table"));
        assertThat(odd).startsWith("shardlift.public.my_table-").matches("[a-zA-Z0-9._-]+");
        assertThat(odd).isNotEqualTo(odd2);
        assertThat(Topics.forTable("p", new TableId("s", "x".repeat(300)))).hasSizeLessThanOrEqualTo(249);
        assertThat("x".getBytes(StandardCharsets.UTF_8)).hasSize(1);
    }
}
