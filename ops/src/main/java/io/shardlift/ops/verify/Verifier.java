package io.shardlift.ops.verify;

import io.shardlift.ops.verify.VerifyReport.ChunkReport;
import io.shardlift.ops.verify.VerifyReport.DiffKind;
import io.shardlift.ops.verify.VerifyReport.KeyDiff;
import io.shardlift.ops.verify.VerifyReport.TableReport;
import io.shardlift.core.Lsn;
import io.shardlift.core.TargetException;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.TableId;
import io.shardlift.core.plan.TablePlan;
import io.shardlift.core.spec.MigrationSpec;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Compares every table of a plan row by row between the source and the cluster, now, and reports what differs.
 *
 * <p>Each table is split into key ranges on its source primary key's first column. Per range, the source and
 * every node compute {@code count(*)} and the sum of a 64-bit hash of each row's canonical text (as
 * {@code numeric}, so it cannot overflow); a node reads only its own rows (a sharded table's local partitions,
 * never through postgres_fdw; a reference table's own copy). Sums add up: a sharded table's node checksums
 * summed must equal the source's, and each node's reference copy must equal the source's on its own. Ranges that
 * differ are drilled down: both sides streamed in key order with a fetch size, merged, up to the key limit per
 * kind listed as missing, extra or different.
 *
 * <p>Nothing is fenced: each query reads the side as it stands when it runs. While the change stream runs the
 * cluster lags the source, and the report says so when it finds differences; with writes fenced (at cutover)
 * equal data always compares equal.
 *
 * <p>Its size (about 450 lines) is the orchestration of the lanes, ranges and drill-downs; the per-row work is in
 * {@link ChunkComparer}, {@link KeyMerge} and {@link TableSql}.
 */
public final class Verifier {

    private static final Logger log = LoggerFactory.getLogger(Verifier.class);

    private final ClusterPlan plan;
    private final VerifyOptions options;
    private final Optional<RowHash> hash;
    private final boolean globalCopies;

    public Verifier(ClusterPlan plan, VerifyOptions options) {
        this(plan, options, Optional.empty());
    }

    /**
     * Compares every node's copy of each global table with node 0's, the source left out: after the cutover the
     * source is fenced and the copies are what must agree. The same chunked checksums and drill-downs, with node 0 in
     * the source's place.
     */
    /** A comparison of {@code tables} only (of {@code plan}'s). */
    public static Verifier ofTables(ClusterPlan plan, java.util.Set<io.shardlift.core.TableId> tables, VerifyOptions options) {
        ClusterPlan some = new ClusterPlan(plan.spec(), plan.tables().stream().filter(t -> tables.contains(t.id())).toList(),
                plan.types(), plan.sequences(), plan.nodes(), plan.warnings());
        return new Verifier(some, options);
    }

    public static Verifier globalCopies(ClusterPlan plan, VerifyOptions options) {
        MigrationSpec s = plan.spec();
        MigrationSpec node0 = new MigrationSpec(s.version(), s.nodes().get(0), s.jobs(), s.batch(), s.options(), s.schemas(),
                s.nodes(), s.kafka(), s.replication(), s.control());
        ClusterPlan globals = new ClusterPlan(node0, plan.tables().stream().filter(t -> !t.sharded()).toList(), plan.types(),
                plan.sequences(), plan.nodes(), plan.warnings());
        return new Verifier(globals, options, Optional.empty(), true);
    }

    /** With the row hash forced rather than chosen from the source's version (tests of the PostgreSQL 10 path). */
    Verifier(ClusterPlan plan, VerifyOptions options, Optional<RowHash> hash) {
        this(plan, options, hash, false);
    }

    private Verifier(ClusterPlan plan, VerifyOptions options, Optional<RowHash> hash, boolean globalCopies) {
        this.plan = Objects.requireNonNull(plan, "plan");
        this.options = Objects.requireNonNull(options, "options");
        this.hash = Objects.requireNonNull(hash, "hash");
        this.globalCopies = globalCopies;
    }

    /**
     * Runs the comparison.
     *
     * @throws io.shardlift.core.SourceException when the source cannot be read
     * @throws io.shardlift.core.TargetException when a node cannot be read (e.g. not laid out)
     */
    public VerifyReport run() throws InterruptedException {
        Instant started = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        int nodes = plan.nodeCount();
        Endpoint source = new Endpoint(-1, plan.spec().source());
        List<Endpoint> nodeEndpoints = new ArrayList<>();
        for (int k = 0; k < nodes; k++) {
            nodeEndpoints.add(new Endpoint(k, plan.spec().nodes().get(k)));
        }
        int jobs = options.jobs();
        List<Lane> lanes = new ArrayList<>();
        for (int i = 0; i < jobs; i++) {
            lanes.add(new Lane(source, nodeEndpoints));
        }
        ExecutorService workers = Executors.newFixedThreadPool(jobs, threads("shardlift-verify"));
        ExecutorService sides = Executors.newFixedThreadPool(jobs * (nodes + 1), threads("shardlift-verify-side"));
        try {
            Lane first = lanes.get(0);
            for (int k = 0; k < nodes; k++) {
                requireLayout(first, k);
            }
            Optional<Lsn> lsnBefore = sourceLsn(first);
            RowHash rowHash = hash.orElseGet(() -> RowHash.forSourceVersion(sourceVersion(first)));
            List<String> notes = new ArrayList<>();
            List<TableSql> tables = new ArrayList<>();
            List<List<KeyRange>> ranges = new ArrayList<>();
            List<String> shapes = new ArrayList<>();
            for (TablePlan t : plan.tables()) {
                List<String> differ = ShapeCompare.differences(t, first);
                if (!differ.isEmpty()) {
                    // its rows would be compared on columns one side lacks
                    shapes.addAll(differ);
                    notes.add("The rows of " + t.id() + " were not compared: its shape differs on the cluster (see above).");
                    continue;
                }
                TableSql sql = new TableSql(t, nodes, rowHash, keyNeedsCOrder(first, t, notes));
                tables.add(sql);
                ranges.add(split(first, sql));
            }
            log.info("verify: comparing {} tables in {} key ranges, {} at once, source {} against {} nodes", tables.size(),
                    ranges.stream().mapToInt(List::size).sum(), jobs, source.info().label(), nodes);

            BlockingQueue<Lane> free = new ArrayBlockingQueue<>(jobs, false, lanes);
            ChunkComparer comparer = new ChunkComparer(sides, nodes);
            List<List<ChunkCheck>> checks = checksums(workers, free, comparer, tables, ranges);
            List<List<Drilled>> drilled = drillDowns(workers, free, comparer, checks);
            List<TableReport> reports = new ArrayList<>();
            for (int i = 0; i < tables.size(); i++) {
                reports.add(tableReport(tables.get(i), checks.get(i), drilled.get(i), nodes));
            }
            Optional<Lsn> lsnAfter = sourceLsn(first);
            boolean equal = reports.stream().allMatch(TableReport::equal) && shapes.isEmpty();
            if (globalCopies) {
                notes.add(0, "Compared every node's copy of the " + tables.size() + " global tables with node 0's (shown as the"
                        + " source).");
                if (!equal) {
                    notes.add("Each range is read on node 0 and on the other nodes at nearly the same moment: a write"
                            + " between the two reads shows as a difference once. Compare again; a difference that stays is"
                            + " real: a node stopped between the commits of one write (README, Global tables after the cutover).");
                }
            } else if (!equal) {
                notes.add(lagNote(started, lsnBefore, lsnAfter));
            }
            VerifyReport report = new VerifyReport(started, Instant.now().truncatedTo(ChronoUnit.MILLIS), lsnBefore,
                    lsnAfter, nodes, options.keyLimit(), reports, notes, shapes);
            log.info("verify: {} in {} ms", equal ? "equal" : "differences found", report.duration().toMillis());
            return report;
        } finally {
            workers.shutdownNow();
            sides.shutdownNow();
            lanes.forEach(Lane::close);
        }
    }

    /** Phase 1: every key range of every table, {@code jobs} at once; per table, in key order. */
    private static List<List<ChunkCheck>> checksums(ExecutorService workers, BlockingQueue<Lane> free,
            ChunkComparer comparer, List<TableSql> tables, List<List<KeyRange>> ranges) throws InterruptedException {
        List<List<Future<ChunkCheck>>> running = new ArrayList<>();
        List<Future<?>> all = new ArrayList<>();
        for (int i = 0; i < tables.size(); i++) {
            TableSql t = tables.get(i);
            List<Future<ChunkCheck>> fs = new ArrayList<>();
            for (KeyRange r : ranges.get(i)) {
                fs.add(workers.submit(onLane(free, lane -> comparer.checksum(lane, t, r))));
            }
            running.add(fs);
            all.addAll(fs);
        }
        List<List<ChunkCheck>> checks = new ArrayList<>();
        for (List<Future<ChunkCheck>> fs : running) {
            checks.add(awaitAll(fs, all));
        }
        return checks;
    }

    /** Phase 2: the keys of every differing range, {@code jobs} at once; per table, in key order. */
    private List<List<Drilled>> drillDowns(ExecutorService workers, BlockingQueue<Lane> free, ChunkComparer comparer,
            List<List<ChunkCheck>> checks) throws InterruptedException {
        List<List<Future<Drilled>>> running = new ArrayList<>();
        List<Future<?>> all = new ArrayList<>();
        for (List<ChunkCheck> tableChecks : checks) {
            AtomicIntegerArray found = new AtomicIntegerArray(DiffKind.values().length);
            List<Future<Drilled>> fs = new ArrayList<>();
            for (ChunkCheck c : tableChecks) {
                if (c.differs()) {
                    fs.add(workers.submit(onLane(free, lane -> drill(comparer, lane, c, found))));
                }
            }
            running.add(fs);
            all.addAll(fs);
        }
        List<List<Drilled>> drilled = new ArrayList<>();
        for (List<Future<Drilled>> fs : running) {
            drilled.add(awaitAll(fs, all));
        }
        return drilled;
    }

    /** A drill-down's outcome; not drilled when the table's key lists were full before it started. */
    private record Drilled(ChunkCheck check, boolean drilled, KeyMerge.Result result) {
    }

    private Drilled drill(ChunkComparer comparer, Lane lane, ChunkCheck check, AtomicIntegerArray found)
            throws InterruptedException {
        int limit = options.keyLimit();
        boolean full = true;
        for (int k = 0; k < found.length(); k++) {
            full &= found.get(k) >= limit;
        }
        if (full) {
            return new Drilled(check, false, new KeyMerge.Result(List.of(), true));
        }
        KeyMerge.Result r = comparer.drill(lane, check, limit);
        r.found().forEach(f -> found.incrementAndGet(f.kind().ordinal()));
        return new Drilled(check, true, r);
    }

    private TableReport tableReport(TableSql t, List<ChunkCheck> checks, List<Drilled> drilled, int nodes) {
        long sourceRows = 0;
        long[] nodeRows = new long[nodes];
        for (ChunkCheck c : checks) {
            sourceRows += c.source().rows();
            for (int k = 0; k < nodes; k++) {
                nodeRows[k] += c.nodes().get(k).rows();
            }
        }
        int limit = options.keyLimit();
        Map<DiffKind, Integer> listed = new EnumMap<>(DiffKind.class);
        List<KeyDiff> keys = new ArrayList<>();
        List<ChunkReport> chunks = new ArrayList<>();
        boolean truncated = false;
        for (Drilled d : drilled) {
            ChunkCheck c = d.check();
            KeyRange r = c.range();
            truncated |= d.result().truncated();
            for (KeyMerge.Found f : d.result().found()) {
                int n = listed.getOrDefault(f.kind(), 0);
                if (n >= limit) {
                    truncated = true;
                    continue;
                }
                listed.put(f.kind(), n + 1);
                keys.add(new KeyDiff(f.kind(), List.of(f.key()), r.index(),
                        f.node() < 0 ? OptionalInt.empty() : OptionalInt.of(f.node()), Optional.ofNullable(f.relation())));
            }
            chunks.add(new ChunkReport(r.index(), r.lo(), r.hi(), c.source().rows(), c.nodeRows(), c.differingNodes(),
                    d.drilled(), d.result().found().size()));
        }
        List<Long> rows = new ArrayList<>();
        for (long n : nodeRows) {
            rows.add(n);
        }
        return new TableReport(t.plan.id(), t.plan.kind(), t.keyColumn, t.sourceKey, sourceRows, rows, checks.size(),
                chunks, keys, truncated);
    }

    static String lagNote(Instant started, Optional<Lsn> before, Optional<Lsn> after) {
        String written = before.isPresent() && after.isPresent() && after.get().isAfter(before.get())
                ? " The source was written while it ran (WAL " + before.get() + " to " + after.get() + ")."
                : "";
        return "Compared at " + started + "." + written + " While the change stream runs the cluster lags the source,"
                + " so a difference can be a change not applied yet: compare again, or at cutover with writes fenced,"
                + " where equal data always compares equal.";
    }

    /** Refuses a node that lacks a table it should hold, naming what is missing, before anything is compared. */
    private void requireLayout(Lane lane, int node) {
        List<String> expected = plan.localTables(node).stream().map(TableId::quoted).toList();
        Connection c = lane.connection(node);
        List<String> missing = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT r FROM unnest(CAST(? AS text[])) r WHERE to_regclass(r) IS NULL")) {
            ps.setArray(1, c.createArrayOf("text", expected.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    missing.add(rs.getString(1));
                }
            }
        } catch (SQLException e) {
            throw lane.endpoint(node).failure("cannot look up the migrated tables", e);
        } finally {
            ChunkComparer.rollback(c);
        }
        if (!missing.isEmpty()) {
            throw new TargetException(lane.endpoint(node).label() + ": " + String.join(", ", missing)
                    + (missing.size() == 1 ? " does" : " do") + " not exist: the node is not laid out for this spec"
                    + " (shardlift schema lays it out, shardlift snapshot copies the rows)");
        }
    }

    /**
     * Whether the key ranges must be compared in {@code "C"} order: when the key column is collatable and sorts
     * under a different collation on some node than on the source, the same range would select different rows.
     * The column's own order is preferred because the primary key's index serves it.
     */
    private static boolean keyNeedsCOrder(Lane lane, TablePlan t, List<String> notes) {
        String column = t.source().primaryKey().orElseThrow().columns().get(0);
        String onSource = keyCollation(lane, -1, t, column);
        if (onSource == null) {
            return false;
        }
        for (int k = 0; k < lane.nodes(); k++) {
            String onNode = keyCollation(lane, k, t, column);
            if (!onSource.equals(onNode)) {
                notes.add(t.id() + ": key column " + column + " sorts under " + onSource + " on the source but under "
                        + onNode + " on node " + k + ", so its key ranges compare in \"C\" order, which no index serves:"
                        + " slower on a big table.");
                return true;
            }
        }
        return false;
    }

    /** The collation that orders {@code column} on a side, e.g. {@code default (c en_US.UTF-8)}; null when none. */
    private static String keyCollation(Lane lane, int node, TablePlan t, String column) {
        Connection c = lane.connection(node);
        try (PreparedStatement ps = c.prepareStatement(TableSql.KEY_COLLATION_SQL)) {
            ps.setString(1, t.id().quoted());
            ps.setString(2, column);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new SQLException("column " + column + " is missing");
                }
                if (!rs.getBoolean(1)) {
                    return null;
                }
                String collation = rs.getString(2);
                return collation.equals("default") ? "default (" + rs.getString(3) + ")" : collation;
            }
        } catch (SQLException e) {
            throw lane.endpoint(node).failure("cannot read the key column " + column + " of " + t.id(), e);
        } finally {
            ChunkComparer.rollback(c);
        }
    }

    /** Key ranges of about {@code chunkRows} rows from a repeatable block sample of the source. */
    private List<KeyRange> split(Lane lane, TableSql t) {
        long estimated = Math.max(t.plan.source().estimatedRows(), t.plan.source().totalBytes() / 128);
        int wanted = Chunking.wanted(estimated, options.chunkRows());
        if (wanted <= 1) {
            return List.of(KeyRange.all());
        }
        Connection c = lane.connection(-1);
        try (PreparedStatement ps = c.prepareStatement(t.sampleSql(Chunking.samplePercent(estimated)))) {
            ps.setArray(1, c.createArrayOf("float8", Chunking.fractions(wanted)));
            List<String> bounds = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    Array a = rs.getArray(1);
                    if (a != null) {
                        for (Object o : (Object[]) a.getArray()) {
                            bounds.add((String) o);
                        }
                    }
                }
            }
            return Chunking.ranges(bounds);
        } catch (SQLException e) {
            throw lane.endpoint(-1).failure("cannot sample " + t.plan.id() + " to split it into key ranges", e);
        } finally {
            ChunkComparer.rollback(c);
        }
    }

    private static int sourceVersion(Lane lane) {
        Connection c = lane.connection(-1);
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT current_setting('server_version_num')::int")) {
            rs.next();
            return rs.getInt(1);
        } catch (SQLException e) {
            throw lane.endpoint(-1).failure("cannot read the server version", e);
        } finally {
            ChunkComparer.rollback(c);
        }
    }

    /** The source's WAL position; empty where there is none to read (a standby). */
    private static Optional<Lsn> sourceLsn(Lane lane) {
        Connection c = lane.connection(-1);
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_current_wal_lsn()::text")) {
            rs.next();
            return Optional.of(Lsn.parse(rs.getString(1)));
        } catch (SQLException e) {
            return Optional.empty();
        } finally {
            ChunkComparer.rollback(c);
        }
    }

    private interface LaneWork<T> {
        T run(Lane lane) throws InterruptedException;
    }

    /** A task that borrows a free lane for its work: as many tasks run as there are lanes. */
    private static <T> Callable<T> onLane(BlockingQueue<Lane> free, LaneWork<T> work) {
        return () -> {
            Lane lane = free.take();
            try {
                return work.run(lane);
            } finally {
                free.add(lane);
            }
        };
    }

    /** The results in order; on the first failure every other task is cancelled and the failure thrown. */
    private static <T> List<T> awaitAll(List<Future<T>> fs, List<Future<?>> all) throws InterruptedException {
        List<T> results = new ArrayList<>();
        try {
            for (Future<T> f : fs) {
                results.add(ChunkComparer.await(f));
            }
        } catch (RuntimeException | Error | InterruptedException e) {
            all.forEach(f -> f.cancel(true));
            throw e;
        }
        return results;
    }

    private static ThreadFactory threads(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
