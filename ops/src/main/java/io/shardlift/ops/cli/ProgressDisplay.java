package io.shardlift.ops.cli;

import io.shardlift.snapshotter.CopyProgress.State;
import io.shardlift.snapshotter.CopyProgress.TableView;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * What {@code run} shows while it works. On a terminal: a block redrawn in place every second, a bar, rate and ETA per
 * table while copying, then one summary line while streaming; log lines (stderr) print above the block, which is drawn
 * again under them. Otherwise (a file, a pipe, a service's journal): a plain status line every few seconds, no control
 * characters, so the log holds no per-second noise and reads the same in any viewer.
 */
abstract class ProgressDisplay implements AutoCloseable {

    /** What there is to show at one moment. */
    record Frame(List<TableView> tables, boolean copyDone, String statusLine) {
    }

    /** Shows a frame if it is time to (only then is {@code frame} asked for one); called every 200 ms or so. */
    abstract void tick(Supplier<Frame> frame, long nanos);

    @Override
    public void close() {
    }

    /** The terminal form when stdout is a terminal (Java 17: {@code System.console()} exists only then), else plain lines. */
    static ProgressDisplay choose(PrintWriter err, int statusIntervalSeconds) {
        if (statusIntervalSeconds > 0 && System.console() != null && !"dumb".equals(System.getenv("TERM"))) {
            return new Terminal(System.out, width());
        }
        return new Plain(err, statusIntervalSeconds);
    }

    private static int width() {
        try {
            int w = Integer.parseInt(System.getenv().getOrDefault("COLUMNS", "120"));
            return Math.max(60, Math.min(w, 300));
        } catch (NumberFormatException e) {
            return 120;
        }
    }

    /** A status line every {@code interval} seconds: the form for logs. */
    static final class Plain extends ProgressDisplay {
        private final PrintWriter out;
        private final long intervalNanos;
        private long next;

        Plain(PrintWriter out, int intervalSeconds) {
            this.out = out;
            this.intervalNanos = intervalSeconds * 1_000_000_000L;
        }

        @Override
        void tick(Supplier<Frame> frame, long nanos) {
            if (intervalNanos <= 0 || nanos < next) {
                return;
            }
            out.println(frame.get().statusLine());
            out.flush();
            next = nanos + intervalNanos;
        }
    }

    /**
     * The block redrawn in place. stderr is routed through {@link #logs} while it lives, so a log line first erases the
     * block, prints, and the block is drawn again below it: the two never overwrite each other.
     */
    static final class Terminal extends ProgressDisplay {
        private static final String ESC = "\u001b[";
        private static final long REDRAW_NANOS = 1_000_000_000L;

        private final PrintStream out;
        private final int width;
        private final Rates rates = new Rates();
        private final PrintStream originalErr = System.err;
        private List<String> shown = List.of();
        private long next;

        Terminal(PrintStream out, int width) {
            this.out = out;
            this.width = width;
            System.setErr(new PrintStream(logs(), true));
        }

        @Override
        synchronized void tick(Supplier<Frame> frames, long nanos) {
            if (nanos < next) {
                return;
            }
            next = nanos + REDRAW_NANOS;
            Frame frame = frames.get();
            List<String> lines = render(frame, rates.update(frame.tables(), nanos), width);
            erase();
            draw(lines);
        }

        private void erase() {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < shown.size(); i++) {
                b.append(ESC).append("1A").append(ESC).append("2K");
            }
            b.append('\r');
            out.print(b);
        }

        private void draw(List<String> lines) {
            StringBuilder b = new StringBuilder();
            for (String l : lines) {
                b.append(l).append('\n');
            }
            out.print(b);
            out.flush();
            shown = lines;
        }

        /** stderr while the display lives: whole lines go out above the block, which is then drawn again. */
        private OutputStream logs() {
            return new OutputStream() {
                private final java.io.ByteArrayOutputStream pending = new java.io.ByteArrayOutputStream();

                @Override
                public void write(int b) {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    synchronized (Terminal.this) {
                        pending.write(b, off, len);
                        byte[] all = pending.toByteArray();
                        int end = all.length;
                        while (end > 0 && all[end - 1] != '\n') {
                            end--;
                        }
                        if (end == 0) {
                            return; // a line in parts: wait for its end, so the block is not redrawn in its middle
                        }
                        List<String> block = shown;
                        erase();
                        out.flush();
                        originalErr.write(all, 0, end);
                        originalErr.flush();
                        pending.reset();
                        pending.write(all, end, all.length - end);
                        shown = List.of();
                        draw(block);
                    }
                }

                @Override
                public void flush() {
                    originalErr.flush();
                }
            };
        }

        @Override
        public synchronized void close() {
            System.setErr(originalErr);
        }
    }

    /** Per-table copy rates over the last 10 s, for the rate and the ETA. */
    static final class Rates {
        private static final long WINDOW = 10_000_000_000L;
        private final Map<String, Deque<long[]>> samples = new HashMap<>();

        /** Rows per second per table; a table without two samples in the window is absent. */
        Map<String, Double> update(List<TableView> tables, long nanos) {
            Map<String, Double> out = new HashMap<>();
            for (TableView t : tables) {
                Deque<long[]> d = samples.computeIfAbsent(t.table().toString(), k -> new ArrayDeque<>());
                d.addLast(new long[] {nanos, t.rows()});
                while (d.size() > 2 && d.peekFirst()[0] < nanos - WINDOW) {
                    d.removeFirst();
                }
                long[] first = d.peekFirst();
                if (first[0] < nanos) {
                    out.put(t.table().toString(), (t.rows() - first[1]) / ((nanos - first[0]) / 1e9));
                }
            }
            return out;
        }
    }

    /** The block: per table while copying, one line once the copy is done. */
    static List<String> render(Frame f, Map<String, Double> rates, int width) {
        List<String> lines = new ArrayList<>();
        if (f.copyDone()) {
            lines.add(fit("streaming || " + f.statusLine().replaceFirst("^copy done \\|\\| ", ""), width));
            return lines;
        }
        int nameWidth = Math.min(32, f.tables().stream().mapToInt(t -> t.table().toString().length()).max().orElse(10));
        // what follows the bar takes up to 80 columns (percentage, rows, MB, rate, the longest ETA)
        int barWidth = Math.max(10, Math.min(40, width - nameWidth - 80));
        for (TableView t : f.tables()) {
            boolean done = t.state() == State.DONE || t.state() == State.INDEXING;
            long est = done ? t.rows() : Math.max(t.estimatedRows(), t.rows());
            double share = est > 0 ? Math.min(1.0, (double) t.rows() / est) : (done ? 1.0 : 0.0);
            Double rate = rates.get(t.table().toString());
            String eta = done ? "done" : t.state() == State.WAITING ? "waiting"
                    : rate == null || rate <= 0 || est <= t.rows() ? "ETA -" : "ETA " + duration((est - t.rows()) / rate);
            int filled = (int) Math.round(share * barWidth);
            String name = t.table().toString();
            lines.add(fit(String.format("%-" + nameWidth + "s [%s%s] %5.1f%% %,13d rows %9s %,9.0f rows/s %s",
                    name.length() > nameWidth ? name.substring(0, nameWidth) : name, "#".repeat(filled), ".".repeat(barWidth - filled),
                    100 * share, t.rows(), mb(t.bytes()), rate == null ? 0 : rate,
                    t.state() == State.INDEXING ? "indexing" : eta), width));
        }
        String stream = f.statusLine();
        int cut = stream.indexOf(" || ");
        lines.add(fit(cut >= 0 ? stream.substring(cut + 4) : stream, width));
        return lines;
    }

    private static String mb(long bytes) {
        return String.format("%,.1f MB", bytes / 1e6);
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s < 60) {
            return s + " s";
        }
        if (s < 3600) {
            return s / 60 + " min " + s % 60 + " s";
        }
        return s / 3600 + " h " + s % 3600 / 60 + " min";
    }

    private static String fit(String line, int width) {
        return line.length() <= width ? line : line.substring(0, width - 1) + "…";
    }
}
