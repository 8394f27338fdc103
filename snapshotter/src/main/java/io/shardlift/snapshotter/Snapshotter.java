package io.shardlift.snapshotter;

import io.shardlift.core.SourceException;
import io.shardlift.core.TableId;
import io.shardlift.core.ledger.CopyLedger.Chunk;
import io.shardlift.core.ledger.MetaLedger;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.plan.LayoutApplier;
import io.shardlift.core.plan.TablePlan;
import io.shardlift.core.spec.MigrationSpec;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consistent, parallel, resumable copy of the source into the cluster.
 *
 * <ol>
 *   <li>Lays the tables out on the nodes if needed (keys and indexes come after the data).</li>
 *   <li>Creates the publication, then the slot, and imports the slot's exported snapshot into every copy
 *       job; records the consistent point on node 0.</li>
 *   <li>Copies tables in priority order (higher first; equal priorities side by side), each split into key
 *       ranges, with {@code jobs} jobs; each chunk commits on each node together with its marker.</li>
 *   <li>Builds each table's keys and indexes and ANALYZEs it as soon as its last chunk is in.</li>
 * </ol>
 * Durable state decides what is left: a restart skips every chunk all nodes hold and copies the rest.
 */
public final class Snapshotter {

    private static final Logger log = LoggerFactory.getLogger(Snapshotter.class);

    private final ClusterPlan plan;
    private final MigrationSpec spec;
    private final SnapshotOptions options;
    private final CopyProgress progress;
    private final ControlStore store;
    private Runnable onSlotReady = () -> { };

    public Snapshotter(ClusterPlan plan, SnapshotOptions options, CopyProgress progress) {
        this.plan = plan;
        this.spec = plan.spec();
        this.options = options;
        this.progress = progress;
        this.store = new ControlStore(spec.nodes());
    }

    /**
     * Called once the publication and the slot exist, before the first row is copied: where {@code run} starts
     * streaming changes, so WAL does not pile up on the source during a long copy.
     */
    public Snapshotter onSlotReady(Runnable hook) {
        this.onSlotReady = hook;
        return this;
    }

    public SnapshotResult run() throws InterruptedException {
        try {
            return copyAll();
        } finally {
            store.close();
        }
    }

    private SnapshotResult copyAll() throws InterruptedException {
        long t0 = System.nanoTime();
        LayoutApplier.apply(plan, EnumSet.of(LayoutApplier.Stage.TABLES));
        List<TableId> ids = plan.tables().stream().map(TablePlan::id).toList();

        Optional<io.shardlift.core.Lsn> point;
        int copied = 0;
        int skipped = 0;
        long rows = 0;
        long bytes = 0;
        try (SourceSnapshot snapshot = SourceSnapshot.open(spec.source(), spec.replication().slot(),
                spec.replication().publication(), ids,
                plan.tables().stream().flatMap(t -> t.source().partitions().stream()).toList(),
                spec.replication().replicateDdl(),
                spec.schemas().stream().filter(io.shardlift.core.spec.SchemaSpec::all).map(io.shardlift.core.spec.SchemaSpec::name).toList())) {
            point = snapshot.consistentPoint();
            if (point.isPresent()) {
                store.putMeta(MetaLedger.SLOT, spec.replication().slot());
                store.putMeta(MetaLedger.CONSISTENT_POINT, point.get().toString());
            }
            onSlotReady.run();
            Map<TableId, TableCopy> copies = chunkPlans();
            Map<TableId, List<Task>> tasks = new LinkedHashMap<>();
            for (TableCopy t : copies.values()) {
                List<Task> todo = pendingChunks(t);
                tasks.put(t.plan.id(), todo);
                skipped += t.chunks.size() - todo.size();
                progress.plan(t.plan.id(), t.chunks.size(), t.chunks.size() - todo.size(), t.estimatedRows);
            }
            boolean anyCopy = tasks.values().stream().anyMatch(l -> !l.isEmpty());
            ExecutorService indexPool = Executors.newFixedThreadPool(Math.max(2, plan.nodeCount()), daemon("shardlift-index"));
            ExecutorService tablePool = Executors.newSingleThreadExecutor(daemon("shardlift-index-table"));
            List<CopyWorker> workers = new ArrayList<>();
            IndexBuilder indexes = new IndexBuilder(plan, store, indexPool);
            try {
                if (anyCopy) {
                    for (int j = 0; j < options.jobs(); j++) {
                        workers.add(new CopyWorker(j, spec.source(), store, snapshot.snapshotName()));
                    }
                }
                // every job has imported the snapshot: the exporting connection may go
                snapshot.close();
                List<Future<?>> indexJobs = new ArrayList<>();
                AtomicReference<Throwable> failure = new AtomicReference<>();

                for (List<TableCopy> group : priorityGroups(copies)) {
                    ConcurrentLinkedQueue<Task> queue = new ConcurrentLinkedQueue<>();
                    Map<TableId, AtomicInteger> remaining = new LinkedHashMap<>();
                    for (TableCopy t : group) {
                        List<Task> todo = tasks.get(t.plan.id());
                        queue.addAll(todo);
                        remaining.put(t.plan.id(), new AtomicInteger(todo.size()));
                        if (todo.isEmpty()) {
                            markCopied(t.plan.id());
                            indexJobs.add(tablePool.submit(() -> finishTable(t, indexes)));
                        } else {
                            store.markStarted(t.plan.id());
                            progress.state(t.plan.id(), CopyProgress.State.COPYING);
                        }
                    }
                    List<Thread> threads = new ArrayList<>();
                    for (CopyWorker w : workers) {
                        Thread th = new Thread(() -> {
                            Task task;
                            while (failure.get() == null && (task = queue.poll()) != null) {
                                try {
                                    w.copy(task.table, task.chunk, task.needed, progress);
                                    progress.chunkDone(task.table.plan.id());
                                    if (remaining.get(task.table.plan.id()).decrementAndGet() == 0) {
                                        TableCopy done = task.table;
                                        // recorded before this priority group ends, so the next one starts after it
                                        markCopied(done.plan.id());
                                        indexJobs.add(tablePool.submit(() -> finishTable(done, indexes)));
                                    }
                                } catch (InterruptedException e) {
                                    Thread.currentThread().interrupt();
                                    failure.compareAndSet(null, e);
                                } catch (Throwable e) {
                                    failure.compareAndSet(null, e);
                                }
                            }
                        }, "shardlift-copy-" + w.id());
                        th.start();
                        threads.add(th);
                    }
                    for (Thread th : threads) {
                        th.join();
                    }
                    if (failure.get() != null) {
                        break;
                    }
                }
                rethrow(failure.get());
                for (Future<?> f : indexJobs) {
                    try {
                        f.get();
                    } catch (java.util.concurrent.ExecutionException e) {
                        rethrow(e.getCause());
                    }
                }
            } finally {
                workers.forEach(CopyWorker::close);
                tablePool.shutdownNow();
                indexPool.shutdownNow();
                indexes.close();
            }
            for (CopyProgress.TableView v : progress.tables()) {
                rows += v.rows();
                bytes += v.bytes();
            }
            copied = tasks.values().stream().mapToInt(List::size).sum();
        }
        store.putMeta(MetaLedger.SNAPSHOT_DONE, java.time.OffsetDateTime.now().toString());
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        log.info("snapshot complete: {} rows, {} chunks copied, {} already there, in {} ms", rows, copied, skipped, took.toMillis());
        return new SnapshotResult(point, rows, bytes, copied, skipped, took, progress.tables());
    }

    /** The copy of {@code table} is in; the source's DDL capture then lets a rewrite of it go on (SourceDdlLog). */
    private void markCopied(TableId table) {
        store.markCopied(table);
        if (spec.replication().replicateDdl()) {
            try (Connection c = spec.source().connect()) {
                io.shardlift.core.ddl.SourceDdlLog.copied(c, table);
            } catch (SQLException e) {
                throw new SourceException("source " + spec.source().label() + ": cannot record that the copy of " + table
                        + " is done: " + e.getMessage(), e);
            }
        }
    }

    /** Chunk plans from node 0, or made now (and saved before any row moves) for tables that have none. */
    private Map<TableId, TableCopy> chunkPlans() {
        Map<TableId, TableCopy> out = new LinkedHashMap<>();
        try (Connection source = spec.source().connect()) {
            Map<TableId, String> streamShapes = streamShapes(source);
            for (TablePlan planned : plan.tables()) {
                TablePlan t = planned;
                String shape = streamShapes.get(t.id());
                if (shape != null) {
                    // the nodes still have the table as it was when the migration began: its schema changes since reach them
                    // through the stream after its copy, so the copy writes that shape, read through the catalog as it is now
                    t = io.shardlift.core.plan.LayoutChange.reshaped(t, io.shardlift.core.ddl.TableShape.parse(shape));
                }
                var state = store.tableState(t.id());
                if (shape != null && state.map(s -> !s.copied()).orElse(true)) {
                    // (a copy already done writes nothing: saying so for it after a take-on or a restart misled)
                    log.info("{}: its shape changed on the source since the migration began; the copy writes the shape the"
                            + " nodes have ({} columns), they follow the changes through the stream", t.id(), t.source().columns().size());
                }
                TableCopy copy;
                if (state.isPresent()) {
                    copy = new TableCopy(t, plan.nodeCount(), state.get().keyColumn(), state.get().chunks(), state.get().estimatedRows());
                } else {
                    ChunkPlanner.Plan p = ChunkPlanner.plan(source, t, options.chunkRows());
                    store.saveChunkPlan(t.id(), p.keyColumn(), p.chunks(), p.estimatedRows());
                    copy = new TableCopy(t, plan.nodeCount(), p.keyColumn(), p.chunks(), p.estimatedRows());
                    log.info("{}: {} chunks on {} (about {} rows)", t.id(), p.chunks().size(), p.keyColumn(), p.estimatedRows());
                }
                out.put(t.id(), copy);
            }
        } catch (SQLException e) {
            throw new SourceException("source " + spec.source().label() + ": " + e.getMessage(), e);
        }
        return out;
    }

    /**
     * The shape the nodes have of each table whose schema changed on the source since the migration began and none of
     * whose changes was carried to the nodes yet (a copy resumed by a restart after such a change: the restart planned
     * from the catalog as it is now). Empty without DDL capture.
     */
    private Map<TableId, String> streamShapes(Connection source) throws SQLException {
        if (!spec.replication().replicateDdl()) {
            return Map.of();
        }
        Map<TableId, String> logged = new java.util.HashMap<>(io.shardlift.core.ddl.SourceDdlLog.firstLoggedShapes(source,
                spec.replication().slot()));
        if (logged.isEmpty()) {
            return logged;
        }
        try (Connection node0 = spec.nodes().get(0).connect()) {
            for (TableId id : List.copyOf(logged.keySet())) {
                if (io.shardlift.core.plan.CarriedShapes.last(node0, id).isPresent()) {
                    logged.remove(id);
                }
            }
        } catch (SQLException e) {
            throw new io.shardlift.core.TargetException("node 0: cannot read the schema changes carried so far: " + e.getMessage(), e);
        }
        return logged;
    }

    /** Chunks some node still lacks, each with the nodes that lack it. */
    private List<Task> pendingChunks(TableCopy t) {
        List<Set<Integer>> done = new ArrayList<>();
        for (int n = 0; n < plan.nodeCount(); n++) {
            done.add(store.doneChunks(n, t.plan.id()));
        }
        List<Task> out = new ArrayList<>();
        for (Chunk c : t.chunks) {
            boolean[] needed = new boolean[plan.nodeCount()];
            boolean any = false;
            for (int n = 0; n < needed.length; n++) {
                needed[n] = !done.get(n).contains(c.index());
                any |= needed[n];
            }
            if (any) {
                out.add(new Task(t, c, needed));
            }
        }
        return out;
    }

    private void finishTable(TableCopy t, IndexBuilder indexes) {
        progress.state(t.plan.id(), CopyProgress.State.INDEXING);
        indexes.build(t.plan);
        progress.state(t.plan.id(), CopyProgress.State.DONE);
    }

    private static List<List<TableCopy>> priorityGroups(Map<TableId, TableCopy> copies) {
        TreeMap<Integer, List<TableCopy>> byPriority = new TreeMap<>(java.util.Comparator.reverseOrder());
        copies.values().forEach(t -> byPriority.computeIfAbsent(t.plan.priority(), k -> new ArrayList<>()).add(t));
        return new ArrayList<>(byPriority.values());
    }

    private static void rethrow(Throwable t) throws InterruptedException {
        if (t == null) {
            return;
        }
        if (t instanceof InterruptedException ie) {
            throw ie;
        }
        if (t instanceof RuntimeException re) {
            throw re;
        }
        if (t instanceof Error err) {
            throw err;
        }
        throw new IllegalStateException(t);
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** One chunk to copy, and the nodes that still need it. */
    private record Task(TableCopy table, Chunk chunk, boolean[] needed) {
    }
}
