package io.shardlift.snapshotter;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.shardlift.core.TableId;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Copy progress per table, as Micrometer meters ({@code shardlift.copy.*}) and as one line for a terminal:
 * rows and bytes, rate, ETA from the estimated row count.
 */
public final class CopyProgress {

    /** Where a table is in the copy. */
    public enum State { WAITING, COPYING, INDEXING, DONE }

    /** A table's progress at one moment. */
    public record TableView(TableId table, State state, long rows, long bytes, long estimatedRows, int chunksDone, int chunks) {
    }

    private final class Table {
        final TableId id;
        final AtomicLong rows = new AtomicLong();
        final AtomicLong bytes = new AtomicLong();
        final AtomicInteger chunksDone = new AtomicInteger();
        final AtomicInteger chunks = new AtomicInteger();
        final AtomicLong estimatedRows = new AtomicLong();
        final AtomicReference<State> state = new AtomicReference<>(State.WAITING);
        final Counter rowsCounter;
        final Counter bytesCounter;

        Table(TableId id) {
            this.id = id;
            String tag = id.toString();
            rowsCounter = Counter.builder("shardlift.copy.rows").tag("table", tag).description("rows copied from the source")
                    .register(registry);
            bytesCounter = Counter.builder("shardlift.copy.bytes").tag("table", tag).baseUnit("bytes")
                    .description("binary COPY bytes copied from the source").register(registry);
            Gauge.builder("shardlift.copy.chunks.done", chunksDone, AtomicInteger::get).tag("table", tag).register(registry);
            Gauge.builder("shardlift.copy.chunks", chunks, AtomicInteger::get).tag("table", tag).register(registry);
            Gauge.builder("shardlift.copy.rows.estimated", estimatedRows, AtomicLong::get).tag("table", tag).register(registry);
            Gauge.builder("shardlift.copy.state", state, s -> s.get().ordinal()).tag("table", tag)
                    .description("0 waiting, 1 copying, 2 indexing, 3 done").register(registry);
        }
    }

    private final MeterRegistry registry;
    private final Map<TableId, Table> tables = new LinkedHashMap<>();
    private final long startNanos = System.nanoTime();

    public CopyProgress(MeterRegistry registry, List<TableId> order) {
        this.registry = registry;
        order.forEach(t -> tables.put(t, new Table(t)));
    }

    void plan(TableId table, int chunks, int alreadyDone, long estimatedRows) {
        Table t = tables.get(table);
        t.chunks.set(chunks);
        t.chunksDone.set(alreadyDone);
        t.estimatedRows.set(estimatedRows);
    }

    void state(TableId table, State state) {
        tables.get(table).state.set(state);
    }

    void add(TableId table, long rows, long bytes) {
        Table t = tables.get(table);
        t.rows.addAndGet(rows);
        t.bytes.addAndGet(bytes);
        t.rowsCounter.increment(rows);
        if (bytes > 0) {
            t.bytesCounter.increment(bytes);
        }
    }

    void chunkDone(TableId table) {
        tables.get(table).chunksDone.incrementAndGet();
    }

    public List<TableView> tables() {
        return tables.values().stream().map(t -> new TableView(t.id, t.state.get(), t.rows.get(), t.bytes.get(),
                t.estimatedRows.get(), t.chunksDone.get(), t.chunks.get())).toList();
    }

    /** One line: overall percentage, rows, MB, rates, ETA, and the tables being worked on. */
    public String line() {
        if (tables().stream().allMatch(t -> t.chunks() == 0 && t.state() == State.WAITING)) {
            // no table is planned yet: nothing is known of the copy, neither a share done nor a time to go
            return "copy preparing (layout, publication, slot, chunk plans)";
        }
        long rows = 0;
        long bytes = 0;
        long est = 0;
        StringBuilder active = new StringBuilder();
        for (TableView t : tables()) {
            rows += t.rows();
            bytes += t.bytes();
            // a finished table's real count replaces the estimate
            est += t.state() == State.DONE || t.state() == State.INDEXING ? t.rows() : Math.max(t.estimatedRows(), t.rows());
            if (t.state() == State.COPYING || t.state() == State.INDEXING) {
                active.append(' ').append(t.table().name()).append(' ')
                        .append(t.state() == State.INDEXING ? "indexing" : t.chunksDone() + "/" + t.chunks());
            }
        }
        double secs = Math.max(1e-3, (System.nanoTime() - startNanos) / 1e9);
        double rate = rows / secs;
        // no row yet: no rate, so no ETA to tell
        String eta = est <= rows ? "0 s" : rate > 0 ? Math.round((est - rows) / rate) + " s" : "-";
        return String.format("copy %5.1f%% | %,d rows %,.1f MB | %,.0f rows/s %,.1f MB/s | ETA %s |%s",
                est == 0 ? 100.0 : Math.min(100.0, 100.0 * rows / est), rows, bytes / 1e6, rate, bytes / 1e6 / secs, eta,
                active.length() == 0 ? " -" : active.toString());
    }
}
