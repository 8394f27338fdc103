package io.shardlift.cdc.event;

import static io.shardlift.cdc.event.Columns.col;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shardlift.core.TableId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Measures the binary codec against the obvious alternative, a JSON object per event (column names as keys,
 * Jackson), on the sensor dataset's events rows. Prints; asserts only that both round-trip.
 */
class CodecSizeSpeedTest {

    static final TableId EVENTS = new TableId("public", "events");
    static final TableCodec CODEC = TableCodec.of(EVENTS, List.of(
            col("event_id", "bigint", "int8"),
            col("device_id", "integer", "int4"),
            col("payload", "jsonb", "jsonb"),
            col("created_at", "timestamp without time zone", "timestamp")), List.of("event_id"));
    static final ObjectMapper JSON = new ObjectMapper();

    static List<ChangeEvent> sample(int n) {
        List<ChangeEvent> l = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long id = 1_000_000L + i;
            Row after = Row.of(id, (long) (1 + i % 1000),
                    "{\"humidity\": " + (30 + i % 60) + "." + (i % 100) + ", \"temperature\": " + (40 + i % 40) + "." + (i % 97) + "}",
                    1_735_689_600_000_000L + i * 2_592_000L);
            l.add(ChangeEvent.row(Op.INSERT, EVENTS, Row.of(id), after, new Position(0x3_0000_0000L + i * 300L, 0x3_0000_0000L + i * 300L + 120, 1),
                    10_000 + i, 1_735_689_600_000_000L + i));
        }
        return l;
    }

    static byte[] json(ChangeEvent e) throws Exception {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("op", e.op().name());
        m.put("prevCommitLsn", e.position().previousCommitLsn());
        m.put("lsn", e.position().lsn());
        m.put("seq", e.position().seq());
        m.put("txId", e.txId());
        m.put("commitMicros", e.commitTimeMicros());
        Map<String, Object> after = new LinkedHashMap<>();
        for (int i = 0; i < CODEC.columns().size(); i++) {
            after.put(CODEC.column(i).name(), e.after().get(i));
        }
        m.put("after", after);
        return JSON.writeValueAsBytes(m);
    }

    @Test
    void binaryVersusJson() throws Exception {
        int n = 50_000;
        List<ChangeEvent> events = sample(n);
        byte[][] bin = new byte[n][];
        byte[][] js = new byte[n][];
        for (int round = 0; round < 3; round++) { // the last round is measured, the first two warm up
            long t0 = System.nanoTime();
            long binBytes = 0;
            for (int i = 0; i < n; i++) {
                bin[i] = CODEC.encode(events.get(i));
                binBytes += bin[i].length + CODEC.encodeKey(events.get(i).key()).length;
            }
            long t1 = System.nanoTime();
            long check = 0;
            for (int i = 0; i < n; i++) {
                check += CODEC.decode(bin[i]).after().size();
            }
            long t2 = System.nanoTime();
            long jsBytes = 0;
            for (int i = 0; i < n; i++) {
                js[i] = json(events.get(i));
                jsBytes += js[i].length + JSON.writeValueAsBytes(Map.of("event_id", events.get(i).key().get(0))).length;
            }
            long t3 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                JsonNode node = JSON.readTree(js[i]);
                check += node.get("after").size();
            }
            long t4 = System.nanoTime();
            assertThat(check).isEqualTo(2L * n * 4);
            if (round == 2) {
                System.out.printf("sensor events, key + value: binary %.1f bytes/event, encode %.0f k/s, decode %.0f k/s | "
                                + "JSON %.1f bytes/event, encode %.0f k/s, decode (tree) %.0f k/s%n",
                        (double) binBytes / n, n * 1e6 / (t1 - t0), n * 1e6 / (t2 - t1),
                        (double) jsBytes / n, n * 1e6 / (t3 - t2), n * 1e6 / (t4 - t3));
            }
        }
        assertThat(CODEC.decode(bin[7])).isEqualTo(events.get(7));
    }
}
