package io.shardlift.ops.cutover;

import static io.shardlift.router.Sql.ident;
import static io.shardlift.router.Sql.literal;

import io.shardlift.router.SourceException;
import io.shardlift.router.TargetException;
import io.shardlift.router.catalog.SequenceInfo;
import io.shardlift.router.plan.ClusterPlan;
import io.shardlift.router.plan.ControlSchema;
import io.shardlift.router.plan.LayoutApplier;
import io.shardlift.router.plan.TablePlan;
import io.shardlift.router.spec.ConnInfo;
import io.shardlift.ops.cutover.CutoverReport.Outcome;
import io.shardlift.ops.cutover.CutoverReport.Step;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cutover as named steps, each with a dry-run twin, in this order:
 * <ol>
 *   <li>{@code gate}: refuses, with the reason, unless the copy is done and the lag is within bounds;</li>
 *   <li>{@code fence}: LOCK the migrated tables on the source IN EXCLUSIVE MODE (reads go on) with a short
 *       lock_timeout, retried; the transaction holding the lock stays open;</li>
 *   <li>{@code marker}: a logical message into the WAL, after every write the lock waited for;</li>
 *   <li>{@code drain}: wait until every partition of every topic has applied past the marker on every node;</li>
 *   <li>{@code verify}: rows per table on the source (fenced) and on the cluster must be equal;</li>
 *   <li>{@code foreign-keys}: created on the nodes, NOT VALID (no scan inside the freeze);</li>
 *   <li>{@code sequences}: every node's sequence moved past the source's value, interleaved across nodes;</li>
 *   <li>{@code write-fence}: a trigger on every migrated source table refusing writes with a message that
 *       says where the table went, in the fence transaction;</li>
 *   <li>{@code release} — THE POINT OF NO RETURN: COMMIT. The lock goes and the trigger takes over atomically;</li>
 *   <li>{@code validate}: VALIDATE the foreign keys, writes flowing again.</li>
 * </ol>
 * Before {@code release} any failure rolls back: the fence transaction is rolled back (no lock, no trigger) and
 * what was done on the nodes (NOT VALID foreign keys, sequences moved ahead) is harmless. The state is kept on
 * node 0 ({@code shardlift.meta}, key {@code cutover}); a process that died mid-cutover settles it on restart
 * from what the source says: triggers present means it committed.
 */
public final class Cutover {

    private static final Logger log = LoggerFactory.getLogger(Cutover.class);

    public static final String META_KEY = "cutover";
    static final String TRIGGER = "shardlift_moved";
    static final String FENCE_FUNCTION = "\"shardlift\".\"refuse_writes_moved\"";

    /** What the gate needs to know about the pipeline, and how strict it is. */
    public record Gate(boolean copyDone, long commitLagMs, long queuedRecords, long maxLagMs) {
    }

    /** @param markerPartitions partitions across every table topic: each must apply past the marker */
    public record Options(long maxLagMs, Duration lockTimeout, int lockAttempts, Duration drainTimeout, int markerPartitions) {
        public static Options defaults(int markerPartitions) {
            return new Options(5_000, Duration.ofMillis(200), 25, Duration.ofSeconds(30), markerPartitions);
        }
    }

    private final ClusterPlan plan;
    private final Options options;
    private final ConnInfo source;
    private final List<Step> steps = new ArrayList<>();

    public Cutover(ClusterPlan plan, Options options) {
        this.plan = plan;
        this.options = options;
        this.source = plan == null ? null : plan.spec().source();
    }

    /** Runs the cutover (or its dry run). Only one runs at a time; the caller serialises. */
    public CutoverReport run(Supplier<Gate> gateSupplier, boolean dryRun) {
        String id = (dryRun ? "dry-" : "c-") + UUID.randomUUID().toString().substring(0, 8);
        steps.clear();
        Gate gate = gateSupplier.get();
        long t = System.nanoTime();
        Optional<String> refusal = refusal(gate);
        step("gate", refusal.isPresent() ? "refused" : "passed", t, refusal.orElse("commit lag " + gate.commitLagMs()
                + " ms, " + gate.queuedRecords() + " records queued (allowed " + options.maxLagMs() + " ms)"));
        if (refusal.isPresent()) {
            return report(id, Outcome.REFUSED, refusal, 0, false);
        }
        if (!dryRun) {
            saveState(id, "CUTTING_OVER", null);
        }
        Connection fence = null;
        long fencedAt = 0;
        try {
            fence = DriverManager.getConnection(source.jdbcUrl(), source.jdbcProperties());
            fence.setAutoCommit(false);
            t = System.nanoTime();
            int attempts = lock(fence);
            fencedAt = System.nanoTime();
            step("fence", "done", t, "LOCK ... IN EXCLUSIVE MODE on " + plan.tables().size() + " tables after " + attempts
                    + " attempt(s); reads go on");
            if (dryRun) {
                fence.rollback();
                long freeze = (System.nanoTime() - fencedAt) / 1_000_000;
                step("marker", "dry-run", System.nanoTime(), "would emit a WAL marker and wait for " + options.markerPartitions()
                        + " partitions to apply past it");
                step("verify", "dry-run", System.nanoTime(), "would compare row counts of " + plan.tables().size() + " tables");
                step("foreign-keys", "dry-run", System.nanoTime(), plan.nodes().get(0).foreignKeys().size() + " per node, NOT VALID");
                step("sequences", "dry-run", System.nanoTime(), plan.sequences().size() + " sequences");
                step("write-fence", "dry-run", System.nanoTime(), "would refuse writes to " + plan.tables().size() + " source tables");
                step("release", "dry-run", System.nanoTime(), "lock released; nothing changed");
                return report(id, Outcome.DRY_RUN, Optional.empty(), freeze, false);
            }

            t = System.nanoTime();
            String marker = "cutover-" + id;
            String lsn = emitMarker(marker);
            step("marker", "done", t, marker + " at " + lsn);

            t = System.nanoTime();
            awaitMarker(marker);
            step("drain", "done", t, "every one of " + options.markerPartitions() + " partitions applied past " + lsn);

            t = System.nanoTime();
            String counts = verifyCounts(fence);
            step("verify", "done", t, counts);

            t = System.nanoTime();
            LayoutApplier.apply(plan, EnumSet.of(LayoutApplier.Stage.FOREIGN_KEYS));
            step("foreign-keys", "done", t, plan.nodes().get(0).foreignKeys().size() + " per node, NOT VALID");

            t = System.nanoTime();
            String seqs = moveSequences(fence);
            step("sequences", "done", t, seqs);

            t = System.nanoTime();
            installWriteFence(fence, id);
            step("write-fence", "done", t, "writes to the " + plan.tables().size() + " source tables now fail with a message naming the cluster");

            t = System.nanoTime();
            fence.commit(); // the point of no return
            long freeze = (System.nanoTime() - fencedAt) / 1_000_000;
            step("release", "done", t, "POINT OF NO RETURN passed: the cluster is the database now; writes were frozen " + freeze + " ms");
            saveState(id, "CUT_OVER", null);
            log.info("cutover {} done: writes frozen {} ms", id, freeze);

            t = System.nanoTime();
            try {
                LayoutApplier.apply(plan, EnumSet.of(LayoutApplier.Stage.VALIDATE_FOREIGN_KEYS));
                step("validate", "done", t, "foreign keys validated");
            } catch (RuntimeException e) {
                step("validate", "failed", t, e.getMessage() + " — the data is in place; validate by hand (ALTER TABLE ... VALIDATE CONSTRAINT)");
            }
            return report(id, Outcome.DONE, Optional.empty(), freeze, true);
        } catch (SQLException | RuntimeException | InterruptedException e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            long freeze = fencedAt == 0 ? 0 : (System.nanoTime() - fencedAt) / 1_000_000;
            rollback(fence);
            String reason = e.getMessage();
            step("rollback", "done", System.nanoTime(), "released the source; nothing was cut over: " + reason);
            if (!dryRun) {
                saveState(id, "ROLLED_BACK", reason);
            }
            return report(id, dryRun ? Outcome.REFUSED : Outcome.ROLLED_BACK, Optional.ofNullable(reason), freeze, false);
        } finally {
            if (fence != null) {
                try {
                    fence.close();
                } catch (SQLException ignored) {
                    // closing rolls back whatever is left
                }
            }
        }
    }

    Optional<String> refusal(Gate g) {
        if (!g.copyDone()) {
            return Optional.of("the copy is not done yet (or the change stream is not flowing): cut over once every table is"
                    + " copied and caught up");
        }
        if (g.commitLagMs() > options.maxLagMs()) {
            return Optional.of("lag " + g.commitLagMs() + " ms is above the allowed " + options.maxLagMs() + " ms");
        }
        return Optional.empty();
    }

    private int lock(Connection fence) throws SQLException, InterruptedException {
        String tables = plan.tables().stream().map(t -> t.id().quoted()).collect(Collectors.joining(", "));
        for (int attempt = 1; ; attempt++) {
            try (Statement st = fence.createStatement()) {
                st.execute("SAVEPOINT fence");
                st.execute("SET LOCAL lock_timeout = '" + options.lockTimeout().toMillis() + "ms'");
                st.execute("LOCK TABLE " + tables + " IN EXCLUSIVE MODE");
                st.execute("SET LOCAL lock_timeout = 0");
                return attempt;
            } catch (SQLException e) {
                if (!"55P03".equals(e.getSQLState()) || attempt >= options.lockAttempts()) {
                    throw new SourceException("source: could not fence writes (" + e.getMessage() + ") after " + attempt
                            + " attempts — a long transaction holds the tables; retry the cutover when it ends", e);
                }
                try (Statement st = fence.createStatement()) {
                    st.execute("ROLLBACK TO SAVEPOINT fence");
                }
                Thread.sleep(Math.min(500, 20L * attempt));
            }
        }
    }

    private String emitMarker(String marker) throws SQLException {
        try (Connection c = DriverManager.getConnection(source.jdbcUrl(), source.jdbcProperties());
             PreparedStatement ps = c.prepareStatement("SELECT pg_logical_emit_message(true, 'shardlift', ?)::text")) {
            ps.setString(1, marker);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    private void awaitMarker(String marker) throws SQLException, InterruptedException {
        long deadline = System.nanoTime() + options.drainTimeout().toNanos();
        ConnInfo n0 = plan.spec().nodes().get(0);
        try (Connection c = DriverManager.getConnection(n0.jdbcUrl(), n0.jdbcProperties());
             PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM " + ControlSchema.MARKER + " WHERE marker = ?")) {
            ps.setString(1, marker);
            while (true) {
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    long seen = rs.getLong(1);
                    if (seen >= options.markerPartitions()) {
                        return;
                    }
                    if (System.nanoTime() > deadline) {
                        throw new TargetException("only " + seen + " of " + options.markerPartitions() + " partitions applied past the"
                                + " cutover marker in " + options.drainTimeout().toSeconds() + " s — check the applier (shardlift status)");
                    }
                }
                Thread.sleep(2);
            }
        }
    }

    /** Row counts per table: the source inside the fence, the cluster per node (local tables only), in parallel. */
    private String verifyCounts(Connection fence) throws SQLException {
        int n = plan.nodeCount();
        List<CompletableFuture<long[]>> perNode = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            int node = k;
            perNode.add(CompletableFuture.supplyAsync(() -> nodeCounts(node)));
        }
        long[] src = new long[plan.tables().size()];
        try (Statement st = fence.createStatement()) {
            for (int i = 0; i < src.length; i++) {
                try (ResultSet rs = st.executeQuery("SELECT count(*) FROM " + plan.tables().get(i).id().quoted())) {
                    rs.next();
                    src[i] = rs.getLong(1);
                }
            }
        }
        long[][] nodes = new long[n][];
        try {
            for (int k = 0; k < n; k++) {
                nodes[k] = perNode.get(k).join();
            }
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new TargetException(e.getCause().getMessage(), e.getCause());
        }
        List<String> diffs = new ArrayList<>();
        long total = 0;
        for (int i = 0; i < src.length; i++) {
            TablePlan t = plan.tables().get(i);
            if (t.sharded()) {
                long sum = 0;
                for (long[] c : nodes) {
                    sum += c[i];
                }
                if (sum != src[i]) {
                    diffs.add(t.id() + ": source " + src[i] + " rows, cluster " + sum);
                }
            } else {
                for (int k = 0; k < n; k++) {
                    if (nodes[k][i] != src[i]) {
                        diffs.add(t.id() + ": source " + src[i] + " rows, node " + k + " " + nodes[k][i]);
                    }
                }
            }
            total += src[i];
        }
        if (!diffs.isEmpty()) {
            throw new TargetException("verify found differences with writes fenced: " + String.join("; ", diffs)
                    + " — run `shardlift verify` for the keys");
        }
        return total + " rows in " + src.length + " tables equal on the source and the cluster";
    }

    private long[] nodeCounts(int node) {
        ConnInfo ci = plan.spec().nodes().get(node);
        long[] out = new long[plan.tables().size()];
        try (Connection c = DriverManager.getConnection(ci.jdbcUrl(), ci.jdbcProperties()); Statement st = c.createStatement()) {
            for (int i = 0; i < out.length; i++) {
                TablePlan t = plan.tables().get(i);
                String from = t.partitionsOn(node, plan.nodeCount()).stream()
                        .map(p -> "SELECT count(*) AS c FROM ONLY " + t.partition(p).quoted()).collect(Collectors.joining(" UNION ALL "));
                try (ResultSet rs = st.executeQuery("SELECT coalesce(sum(c), 0) FROM (" + from + ") x")) {
                    rs.next();
                    out[i] = rs.getLong(1);
                }
            }
            return out;
        } catch (SQLException e) {
            throw new TargetException("node " + node + " (" + ci.label() + "): counting rows: " + e.getMessage(), e);
        }
    }

    /** Node k continues at base + k*inc, stepping N*inc: no two nodes ever hand out the same value. */
    private String moveSequences(Connection fence) throws SQLException {
        if (plan.sequences().isEmpty()) {
            return "no sequences";
        }
        List<String> done = new ArrayList<>();
        for (SequenceInfo s : plan.sequences()) {
            long last;
            boolean called;
            try (Statement st = fence.createStatement();
                 ResultSet rs = st.executeQuery("SELECT last_value, is_called FROM " + s.id().quoted())) {
                rs.next();
                last = rs.getLong(1);
                called = rs.getBoolean(2);
            }
            long base = called ? last + s.increment() : last;
            for (int k = 0; k < plan.nodeCount(); k++) {
                ConnInfo ci = plan.spec().nodes().get(k);
                try (Connection c = DriverManager.getConnection(ci.jdbcUrl(), ci.jdbcProperties());
                     PreparedStatement ps = c.prepareStatement("SELECT setval(?::regclass, ?, false)")) {
                    ps.setString(1, s.id().quoted());
                    ps.setLong(2, base + (long) k * s.increment());
                    ps.execute();
                }
            }
            done.add(s.id() + " from " + base);
        }
        return String.join(", ", done);
    }

    private void installWriteFence(Connection fence, String id) throws SQLException {
        String where = plan.spec().nodes().stream().map(ConnInfo::label).collect(Collectors.joining(", "));
        try (Statement st = fence.createStatement()) {
            st.execute("CREATE SCHEMA IF NOT EXISTS \"shardlift\"");
            st.execute("CREATE OR REPLACE FUNCTION " + FENCE_FUNCTION + "() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN"
                    + " RAISE EXCEPTION 'table %.% moved to the sharded cluster at cutover %', TG_TABLE_SCHEMA, TG_TABLE_NAME, "
                    + literal(id + " (" + OffsetDateTime.now() + ")")
                    + " USING ERRCODE = 'read_only_sql_transaction', HINT = " + literal("write to the cluster: " + where) + ";"
                    + " END $f$");
            for (TablePlan t : plan.tables()) {
                st.execute("DROP TRIGGER IF EXISTS " + ident(TRIGGER) + " ON " + t.id().quoted());
                st.execute("CREATE TRIGGER " + ident(TRIGGER) + " BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON "
                        + t.id().quoted() + " FOR EACH STATEMENT EXECUTE FUNCTION " + FENCE_FUNCTION + "()");
            }
        }
    }

    private static void rollback(Connection fence) {
        if (fence == null) {
            return;
        }
        try {
            fence.rollback();
        } catch (SQLException ignored) {
            // closing the connection releases the lock too
        }
    }

    /**
     * Settles a cutover a crashed process left behind: if the source refuses writes (the trigger committed), it is
     * done; otherwise the fence transaction died with the process and nothing was cut over.
     */
    public Optional<String> recover() {
        Optional<String> state = readState();
        if (state.isEmpty() || !state.get().startsWith("CUTTING_OVER")) {
            return Optional.empty();
        }
        boolean committed;
        try (Connection c = DriverManager.getConnection(source.jdbcUrl(), source.jdbcProperties());
             PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM pg_trigger WHERE tgname = ? AND tgrelid = ANY (?::regclass[])")) {
            ps.setString(1, TRIGGER);
            ps.setArray(2, c.createArrayOf("text", plan.tables().stream().map(t -> t.id().quoted()).toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                committed = rs.getLong(1) == plan.tables().size();
            }
        } catch (SQLException e) {
            throw new SourceException("source " + source.label() + ": cannot settle the interrupted cutover: " + e.getMessage(), e);
        }
        String id = state.get().substring(state.get().indexOf(' ') + 1);
        if (committed) {
            saveState(id, "CUT_OVER", "finished after a restart");
            LayoutApplier.apply(plan, EnumSet.of(LayoutApplier.Stage.FOREIGN_KEYS, LayoutApplier.Stage.VALIDATE_FOREIGN_KEYS));
            log.info("cutover {} had passed its point of no return before the restart: done", id);
            return Optional.of("CUT_OVER");
        }
        saveState(id, "ROLLED_BACK", "the process stopped before the point of no return; the source stayed writable");
        log.info("cutover {} was interrupted before its point of no return: rolled back, the source is writable", id);
        return Optional.of("ROLLED_BACK");
    }

    /** {@code STATE id} from node 0, e.g. {@code CUT_OVER c-1a2b3c4d}. */
    public Optional<String> readState() {
        ConnInfo n0 = plan.spec().nodes().get(0);
        try (Connection c = DriverManager.getConnection(n0.jdbcUrl(), n0.jdbcProperties());
             PreparedStatement ps = c.prepareStatement("SELECT value FROM " + ControlSchema.META + " WHERE key = ?");
             Statement st = c.createStatement();
             ResultSet exists = st.executeQuery("SELECT to_regclass(" + literal(ControlSchema.META) + ") IS NOT NULL")) {
            exists.next();
            if (!exists.getBoolean(1)) {
                return Optional.empty(); // not laid out yet: no cutover ever ran
            }
            ps.setString(1, META_KEY);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new TargetException("node 0: cannot read the cutover state: " + e.getMessage(), e);
        }
    }

    private void saveState(String id, String state, String note) {
        ConnInfo n0 = plan.spec().nodes().get(0);
        try (Connection c = DriverManager.getConnection(n0.jdbcUrl(), n0.jdbcProperties());
             PreparedStatement ps = c.prepareStatement("INSERT INTO " + ControlSchema.META + " (key, value) VALUES (?, ?)"
                     + " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()")) {
            ps.setString(1, META_KEY);
            ps.setString(2, state + " " + id + (note == null ? "" : " " + note));
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new TargetException("node 0: cannot record the cutover state: " + e.getMessage(), e);
        }
    }

    private void step(String name, String status, long startNanos, String detail) {
        long ms = Math.max(0, (System.nanoTime() - startNanos) / 1_000_000);
        steps.add(new Step(name, status, ms, detail));
        log.info("cutover step {}: {} ({} ms) {}", name, status, ms, detail);
    }

    private CutoverReport report(String id, Outcome outcome, Optional<String> reason, long freeze, boolean passed) {
        return new CutoverReport(id, outcome, reason, steps, freeze, passed);
    }
}
