package io.shardlift.ops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlift.core.TableId;
import io.shardlift.snapshotter.CopyProgress.State;
import io.shardlift.snapshotter.CopyProgress.TableView;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ProgressDisplayTest {

    static final long S = 1_000_000_000L;
    static final TableId EVENTS = new TableId("public", "events");
    static final TableId DEVICES = new TableId("public", "devices");
    static final String LINE = "copy  40.0% | 400,000 rows 32.0 MB | 80,000 rows/s 6.4 MB/s | ETA 8 s | events 4/10 || capture STREAMING 12 events,"
            + " WAL lag 4,096 B || apply WAITING 1/2 tables, 0 events, 0 queued, commit lag 0 ms";

    static ProgressDisplay.Frame copying(long rows) {
        return new ProgressDisplay.Frame(List.of(new TableView(DEVICES, State.DONE, 1000, 46_000, 1000, 1, 1),
                new TableView(EVENTS, State.COPYING, rows, rows * 80, 1_000_000, 4, 10)), false, LINE);
    }

    @Test
    void notATerminalGetsAPlainLineEveryIntervalAndNoControlCharacters() {
        StringWriter out = new StringWriter();
        ProgressDisplay plain = new ProgressDisplay.Plain(new PrintWriter(out), 5);
        int[] asked = {0};
        for (long t = 0; t <= 12 * S; t += S / 5) {
            plain.tick(() -> {
                asked[0]++;
                return copying(400_000);
            }, t);
        }
        List<String> lines = out.toString().lines().toList();
        // at 0, 5 and 10 s: not every tick, so the log holds no per-second noise
        assertThat(lines).containsExactly(LINE, LINE, LINE);
        assertThat(asked[0]).as("the frame (a query on the source) is made only when shown").isEqualTo(3);
        assertThat(out.toString()).doesNotContain("\u001b", "\r");
    }

    @Test
    void intervalZeroPrintsNothing() {
        StringWriter out = new StringWriter();
        new ProgressDisplay.Plain(new PrintWriter(out), 0).tick(() -> copying(1), 0);
        assertThat(out.toString()).isEmpty();
    }

    @Test
    void whileCopyingEachTableHasABarRateAndEta() {
        ProgressDisplay.Rates rates = new ProgressDisplay.Rates();
        rates.update(copying(200_000).tables(), 0);
        Map<String, Double> r = rates.update(copying(400_000).tables(), 4 * S);
        assertThat(r.get("public.events")).isEqualTo(50_000.0);
        List<String> lines = ProgressDisplay.render(copying(400_000), r, 120);
        assertThat(lines).hasSize(3);
        assertThat(lines.get(0)).startsWith("public.devices").contains("100.0%", "done");
        // 600,000 rows to go at 50,000 rows/s
        assertThat(lines.get(1)).startsWith("public.events").contains("[", "]", " 40.0%", "400,000 rows", "50,000 rows/s", "ETA 12 s");
        assertThat(lines.get(1)).containsPattern("\\[#+\\.+\\]");
        assertThat(lines.get(2)).startsWith("capture STREAMING");
        assertThat(lines).allSatisfy(l -> assertThat(l.length()).isLessThanOrEqualTo(120));
    }

    @Test
    void onceCopiedOneSummaryLine() {
        ProgressDisplay.Frame f = new ProgressDisplay.Frame(copying(1_000_000).tables(), true,
                "copy done || capture STREAMING 1,234 events, WAL lag 0 B || apply APPLYING 2/2 tables, 1,200 events, 0 queued, commit lag 12 ms");
        List<String> lines = ProgressDisplay.render(f, Map.of(), 80);
        assertThat(lines).hasSize(1);
        assertThat(lines.get(0)).startsWith("streaming || capture STREAMING 1,234 events").hasSizeLessThanOrEqualTo(80).endsWith("…");
    }

    @Test
    void onATerminalTheBlockIsRedrawnInPlaceAndLogLinesPrintAboveIt() {
        java.io.ByteArrayOutputStream screen = new java.io.ByteArrayOutputStream();
        java.io.PrintStream before = System.err;
        java.io.ByteArrayOutputStream logs = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(logs, true));
        java.io.PrintStream wrapped;
        try (ProgressDisplay.Terminal t = new ProgressDisplay.Terminal(new java.io.PrintStream(screen, true), 120)) {
            wrapped = System.err;
            t.tick(() -> copying(200_000), 0);
            t.tick(() -> copying(300_000), S / 2); // not yet: once a second
            t.tick(() -> copying(400_000), S);
            System.err.println("12:00:00.000 WARN  NodeWriter - node 1: connection refused");
        } finally {
            System.setErr(before);
        }
        assertThat(wrapped).isNotSameAs(before);
        String out = screen.toString();
        // the first draw has 3 lines, the second erases them (up, clear) and draws again; so does the log line
        assertThat(out).contains(" 20.0%", " 40.0%").doesNotContain(" 30.0%");
        assertThat(out.split("\u001b\\[1A\u001b\\[2K", -1)).hasSize(1 + 3 + 3);
        assertThat(logs.toString()).isEqualTo("12:00:00.000 WARN  NodeWriter - node 1: connection refused" + System.lineSeparator());
        assertThat(out).endsWith(ProgressDisplay.render(copying(400_000), Map.of("public.events", 200_000.0), 120).get(2) + "\n");
    }

    @Test
    void durationsReadAtAGlance() {
        assertThat(ProgressDisplay.duration(12.4)).isEqualTo("12 s");
        assertThat(ProgressDisplay.duration(125)).isEqualTo("2 min 5 s");
        assertThat(ProgressDisplay.duration(7_260)).isEqualTo("2 h 1 min");
    }
}
