package io.shardlift.ops.cutover;

import io.shardlift.core.ledger.Markers;
import static io.shardlift.core.Sql.ident;
import static io.shardlift.core.Sql.literal;

import io.shardlift.cdc.apply.ChangeJournal;
import io.shardlift.core.SourceException;
import io.shardlift.core.TableId;
import io.shardlift.core.TargetException;
import io.shardlift.core.catalog.SequenceInfo;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.ledger.LedgerSchema;
import io.shardlift.core.plan.LayoutApplier;
import io.shardlift.core.spec.ConnInfo;
import io.shardlift.ops.cutover.CutoverReport.Outcome;
import io.shardlift.ops.cutover.CutoverReport.Step;
import java.sql.Connection;
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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cutover as named steps, each with a dry-run twin, in this order:
 * <ol>
 *   <li>{@code gate}: refuses, with the reason, unless the copy is done and the lag is within bounds;</li>
 *   <li>{@code pre-drain}: a first marker through the whole change stream with writes still flowing, so that the
 *       freeze drains only the changes of the last pipeline latency, not a backlog; a stalled stream refuses here,
 *       before any write waits;</li>
 *   <li>{@code fence-function}: the function the write-fence triggers will call, created before the freeze;</li>
 *   <li>{@code fence-wait}: waits, without queueing behind anything, until no transaction older than a few tens of
 *       milliseconds holds a lock on the migrated tables (refuses, naming it, if one stays), so that the LOCK that
 *       follows waits only for short transactions already in flight instead of stalling every writer behind a long
 *       one;</li>
 *   <li>{@code fence}: LOCK the migrated tables on the source IN EXCLUSIVE MODE (reads go on) with a lock_timeout long
 *       enough for those to finish; the transaction holding the lock stays open. The write freeze counts from the
 *       first LOCK attempt: writers queue behind a LOCK that waits, so that is when they stop;</li>
 *   <li>{@code marker}: a logical message into the WAL, after every write the lock waited for;</li>
 *   <li>{@code drain}: wait until every partition of every topic has applied past the marker on every node (the
 *       source's rows are counted meanwhile);</li>
 *   <li>{@code verify}: rows per table on the source (fenced) and on the cluster must be equal; alongside it,</li>
 *   <li>{@code foreign-keys}: created on the nodes, NOT VALID (no scan inside the freeze), and</li>
 *   <li>{@code sequences}: every node's sequence moved past the source's value, interleaved across nodes;</li>
 *   <li>{@code write-fence}: a trigger on every migrated source table refusing writes with a message that
 *       says where the table went, in the fence transaction;</li>
 *   <li>{@code release} — THE POINT OF NO RETURN: COMMIT. The lock goes and the trigger takes over atomically;</li>
 *   <li>{@code validate}: VALIDATE the foreign keys, writes flowing again.</li>
 * </ol>
 * Before {@code release} any failure rolls back: the fence transaction is rolled back (no lock, no trigger) and
 * what was done on the nodes (NOT VALID foreign keys, sequences moved ahead) is harmless. The state is kept on
 * node 0 ({@code shardlift.meta}, key {@code cutover}, see {@link CutoverState}); a process that died mid-cutover
 * settles it on restart from what the source says: triggers present means it committed. Once CUT_OVER, every later
 * request (real or dry run) is refused with {@link Conflict} and changes nothing.
 */
public final class Cutover {

    private static final Logger log = LoggerFactory.getLogger(Cutover.class);

    public static final String META_KEY = "cutover";
    static final String TRIGGER = "shardlift_moved";
    static final String FENCE_FUNCTION = "\"shardlift\".\"refuse_writes_moved\"";

    /** What the gate needs to know about the pipeline, and how strict it is. */
    /**
     * @param warnings what the operator should know before passing the point of no return without it being a reason to
     *                 refuse (e.g. sharding-key changes the source accepted and the cluster will refuse)
     */
    public record Gate(boolean copyDone, long commitLagMs, long queuedRecords, long maxLagMs, List<String> warnings) {
        public Gate {
            warnings = List.copyOf(warnings);
        }

        public Gate(boolean copyDone, long commitLagMs, long queuedRecords, long maxLagMs) {
            this(copyDone, commitLagMs, queuedRecords, maxLagMs, List.of());
        }
    }

    /**
     * @param markerPartitions partitions across every table topic: each must apply past the marker
     * @param lockTimeout      how long the LOCK waits for the short transactions in flight: writers behind it wait as long
     * @param lockAttempts     LOCK attempts, each after the tables were found quiet again; a failed one stalled writers
     * @param quietAge         a transaction holding the tables for longer than this is waited for before the LOCK
     * @param quietBound       how long to wait for such transactions before refusing (nothing fenced)
     */
    public record Options(long maxLagMs, Duration lockTimeout, int lockAttempts, Duration drainTimeout, int markerPartitions,
                          Duration quietAge, Duration quietBound) {
        public Options(long maxLagMs, Duration lockTimeout, int lockAttempts, Duration drainTimeout, int markerPartitions) {
            this(maxLagMs, lockTimeout, lockAttempts, drainTimeout, markerPartitions, Duration.ofMillis(50), Duration.ofSeconds(5));
        }

        public static Options defaults(int markerPartitions) {
            return new Options(5_000, Duration.ofMillis(500), 3, Duration.ofSeconds(30), markerPartitions);
        }
    }

    /** A pre-drain round longer than this is followed by another, up to {@link #PRE_DRAIN_ROUNDS} rounds. */
    static final long PRE_DRAIN_ROUND_MS = 1_000;
    static final int PRE_DRAIN_ROUNDS = 10;

    /** A step found it cannot go on now (the stream too slow, the tables held too long); nothing was fenced. */
    static final class Refusal extends RuntimeException {
        final String step;

        Refusal(String step, String message) {
            super(message);
            this.step = step;
        }
    }

    /**
     * The request does not fit the durable state: the cutover is done (CUT_OVER) or one is under way. Nothing was
     * changed; the message names the cutover and when it was recorded.
     */
    public static final class Conflict extends IllegalStateException {
        private final transient CutoverState state;

        Conflict(CutoverState state, String message) {
            super(message);
            this.state = state;
        }

        public CutoverState state() {
            return state;
        }
    }

    /** What the fence step did: when the first LOCK attempt began, how many it took, the stalls of the failed ones. */
    private record Fenced(long firstAttemptAt, int attempts, List<Long> stallsMs, long waitedMs) {
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
    public CutoverReport run(Supplier<Gate> gateSupplier, ChangeJournal journal, boolean journalComplete, boolean dryRun) {
        String id = (dryRun ? "dry-" : "c-") + UUID.randomUUID().toString().substring(0, 8);
        steps.clear();
        refuseUnlessStartable(dryRun); // durable state decides: nothing below runs once a cutover is done
        Gate gate = gateSupplier.get();
        long t = System.nanoTime();
        Optional<String> refusal = refusal(gate);
        step("gate", refusal.isPresent() ? "refused" : "passed", t, refusal.orElse("commit lag " + gate.commitLagMs()
                + " ms, " + gate.queuedRecords() + " records queued (allowed " + options.maxLagMs() + " ms)")
                + gate.warnings().stream().map(w -> "; WARNING: " + w).collect(Collectors.joining()));
        gate.warnings().forEach(w -> log.warn("cutover {}: {}", id, w));
        if (refusal.isPresent()) {
            return report(id, Outcome.REFUSED, refusal, 0, false);
        }
        if (!dryRun) {
            try {
                transition(id, CutoverState.State.CUTTING_OVER, null);
            } catch (CutoverState.IllegalTransition e) {
                // another cutover got there between the check above and now
                throw conflict(e.current().orElseThrow(), dryRun);
            }
        }
        long fencedAt = 0;
        boolean committed = false;
        // every connection the freeze needs is opened before it, and the work inside it runs on its own threads
        // (the common pool has one thread on a 2-core machine)
        ExecutorService pool = Executors.newFixedThreadPool(4 + 3 * plan.nodeCount() + plan.tables().size(), r -> {
            Thread th = new Thread(r, "shardlift-cutover");
            th.setDaemon(true);
            return th;
        });
        try (Links links = Links.open(plan, 1 + Math.min(plan.tables().size(), 8));
             ContentProof proof = new ContentProof(plan, journal, journalComplete)) {
            proof.begin(); // before the pre-drain: its marker rounds carry whatever was routed before the journal opened
            // the change stream catches up to now while writes still flow: the freeze only drains what
            // arrives after this point, a pipeline latency's worth of changes instead of the whole backlog
            // a round carries a marker end to end; while a round is slow there was a backlog, and the changes written
            // during it are the next round's backlog: repeat until a round is short, as its length is the drain's
            t = System.nanoTime();
            String preLsn;
            long roundMs;
            int rounds = 0;
            do {
                rounds++;
                long r0 = System.nanoTime();
                String pre = "pre-" + id + "-" + rounds;
                preLsn = emitMarker(links.source(0), pre);
                awaitMarker(links.node(0), pre);
                roundMs = (System.nanoTime() - r0) / 1_000_000;
            } while (roundMs > PRE_DRAIN_ROUND_MS && rounds < PRE_DRAIN_ROUNDS);
            if (roundMs > options.maxLagMs()) {
                throw new Refusal("pre-drain", "the change stream took " + roundMs + " ms to carry a marker to every node, " + rounds
                        + " times in a row; the freeze would last as long: cut over once it keeps up (shardlift status)");
            }
            step("pre-drain", "done", t, rounds + " round(s), the last " + roundMs + " ms: every one of " + options.markerPartitions()
                    + " partitions applied past " + preLsn + " with writes flowing; the drain inside the freeze takes about as long");

            t = System.nanoTime();
            int[] contentRounds = {0};
            String checked = proof.beforeFreeze(() -> {
                // a marker name per round: a second round under the first one's name would find its rows and not wait
                String m = "content-" + id + "-" + ++contentRounds[0];
                emitMarker(links.source(0), m);
                awaitMarker(links.node(0), m);
            });
            step("content", "done", t, checked);

            if (!dryRun) {
                t = System.nanoTime();
                createFenceFunction(links.source(0), id); // before the freeze: the triggers inside it only point here
                step("fence-function", "done", t, FENCE_FUNCTION + " created; no trigger uses it yet");
            }

            t = System.nanoTime();
            Fenced fenced = lock(links, t);
            // writers queue behind a LOCK that waits, so they stop at the first attempt: that is where the freeze starts,
            // the stalls of attempts that timed out included
            fencedAt = fenced.firstAttemptAt();
            step("fence", "done", fencedAt, "LOCK ... IN EXCLUSIVE MODE on " + plan.tables().size() + " tables granted "
                    + (System.nanoTime() - fencedAt) / 1_000_000 + " ms after the first attempt, " + fenced.attempts() + " attempt(s)"
                    + (fenced.stallsMs().isEmpty() ? "" : " (" + fenced.stallsMs().size() + " timed out after "
                    + fenced.stallsMs().stream().map(ms -> ms + " ms").collect(Collectors.joining(", ")) + ", stalling writers that long;"
                    + " the freeze counts from the first; " + fenced.waitedMs() + " ms waiting for quiet tables in all)") + "; reads go on"
                    + (dryRun ? "; dry run: the lock is taken for real, to prove the fence can be taken, and released at once" : ""));
            if (dryRun) {
                links.fence().rollback();
                long released = System.nanoTime();
                long freeze = (released - fencedAt) / 1_000_000;
                step("marker", "dry-run", System.nanoTime(), "would emit a WAL marker and wait for " + options.markerPartitions()
                        + " partitions to apply past it");
                step("verify", "dry-run", System.nanoTime(), "would compare by key the rows changed since the content check");
                step("foreign-keys", "dry-run", System.nanoTime(), plan.nodes().get(0).foreignKeys().size() + " per node, NOT VALID");
                step("sequences", "dry-run", System.nanoTime(), plan.sequences().size() + " sequences");
                step("write-fence", "dry-run", System.nanoTime(), "would refuse writes to " + plan.tables().size() + " source tables");
                step("release", "dry-run", released, released, "lock released after " + freeze + " ms (writers waited for it); nothing changed");
                return report(id, Outcome.DRY_RUN, Optional.empty(), freeze, false);
            }

            t = System.nanoTime();
            String marker = "cutover-" + id;
            String lsn = emitMarker(links.source(0), marker);
            step("marker", "done", t, marker + " at " + lsn);

            t = System.nanoTime();
            Failpoints.hang("cutover.drain");
            awaitMarker(links.node(0), marker);
            step("drain", "done", t, "every one of " + options.markerPartitions() + " partitions applied past " + lsn);

            // verify, foreign keys and sequences touch different things and run side by side: verify reads rows by key,
            // NOT VALID keys take no scan, sequences are their own objects. Should verify fail, the keys and the moved
            // sequences are harmless (see the class comment)
            long after = System.nanoTime();
            CompletableFuture<Long> fks = CompletableFuture.supplyAsync(() -> timed(() -> foreignKeys(links, pool)), pool);
            CompletableFuture<String> seqs = CompletableFuture.supplyAsync(() -> moveSequences(links, pool), pool);
            String content = proof.insideFreeze();
            step("verify", "done", after, content);
            long fkMillis = join(fks);
            steps.add(new Step("foreign-keys", "done", fkMillis, plan.nodes().get(0).foreignKeys().size()
                    + " per node, NOT VALID (alongside verify)"));
            log.info("cutover step foreign-keys: done ({} ms)", fkMillis);
            t = System.nanoTime();
            String moved = join(seqs);
            step("sequences", "done", t, moved + " (alongside verify)");

            t = System.nanoTime();
            installWriteFence(links.fence());
            step("write-fence", "done", t, "writes to the " + plan.tables().size() + " source tables now fail with a message naming the cluster");

            t = System.nanoTime();
            links.fence().commit(); // the point of no return
            long released = System.nanoTime();
            long freeze = (released - fencedAt) / 1_000_000;
            step("release", "done", t, released, "POINT OF NO RETURN passed: the cluster is the database now; writes were frozen "
                    + freeze + " ms, from the first LOCK attempt");
            committed = true;
            Failpoints.hang("cutover.released");
            try {
                transition(id, CutoverState.State.CUT_OVER, null);
            } catch (RuntimeException e) {
                // the source's triggers say it committed: the next start settles the state (recover())
                log.warn("cutover {} committed but its state could not be recorded on node 0 ({}); the next start records it", id,
                        e.getMessage());
            }
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
            if (committed) { // past the point of no return only the validation can fail, and it does not throw
                throw new IllegalStateException("cutover " + id + " committed, then: " + e.getMessage(), e);
            }
            long freeze = fencedAt == 0 ? 0 : (System.nanoTime() - fencedAt) / 1_000_000;
            // closing the links (try-with-resources, before this block) rolled the fence transaction back
            String reason = e.getMessage();
            if (e instanceof Refusal r) {
                step(r.step, "refused", t, reason);
            } else {
                step("rollback", "done", System.nanoTime(), "released the source; nothing was cut over: " + reason);
            }
            if (!dryRun) {
                transition(id, CutoverState.State.ROLLED_BACK, reason);
            }
            // nothing was fenced yet: a refusal, to ask again, like the gate's
            Outcome outcome = dryRun || fencedAt == 0 ? Outcome.REFUSED : Outcome.ROLLED_BACK;
            return report(id, outcome, Optional.ofNullable(reason), freeze, false);
        } finally {
            pool.shutdownNow();
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

    /**
     * Takes the fence. A LOCK that waits makes every writer queue behind it, so it is asked for only once no
     * transaction older than {@code quietAge} holds the tables (found by polling, which queues nobody): then it waits
     * for short transactions only. An attempt that times out anyway (a transaction began just before it and ran long)
     * stalled the writers for its timeout; that stall is reported and counted in the freeze.
     */
    private Fenced lock(Links links, long t) throws SQLException, InterruptedException {
        String tables = plan.tables().stream().map(tp -> tp.id().quoted()).collect(Collectors.joining(", "));
        Connection fence = links.fence();
        List<Long> stalls = new ArrayList<>();
        long first = 0;
        long waited = 0;
        for (int attempt = 1; ; attempt++) {
            long w = System.nanoTime();
            String quiet = awaitQuiet(links.source(0));
            waited += (System.nanoTime() - w) / 1_000_000;
            if (attempt == 1) {
                step("fence-wait", "done", t, quiet + "; writes flowing meanwhile");
            }
            long at = System.nanoTime();
            if (first == 0) {
                first = at;
            }
            try (Statement st = fence.createStatement()) {
                st.execute("SAVEPOINT fence");
                st.execute("SET LOCAL lock_timeout = '" + options.lockTimeout().toMillis() + "ms'");
                st.execute("LOCK TABLE " + tables + " IN EXCLUSIVE MODE");
                st.execute("SET LOCAL lock_timeout = 0");
                return new Fenced(first, attempt, List.copyOf(stalls), waited);
            } catch (SQLException e) {
                if (!"55P03".equals(e.getSQLState())) {
                    throw new SourceException("source " + source.label() + ": could not fence writes: " + e.getMessage(), e);
                }
                stalls.add((System.nanoTime() - at) / 1_000_000);
                try (Statement st = fence.createStatement()) {
                    st.execute("ROLLBACK TO SAVEPOINT fence");
                }
                if (attempt >= options.lockAttempts()) {
                    throw new Refusal("fence", "the LOCK on the source's tables timed out " + attempt + " times after "
                            + options.lockTimeout().toMillis() + " ms (writers stalled " + stalls.stream().map(ms -> ms + " ms")
                            .collect(Collectors.joining(", ")) + "), each time a transaction that began just before it held"
                            + " them longer; nothing was fenced: cut over again, or when the writes are shorter");
                }
            }
        }
    }

    /**
     * Transactions that hold a lock conflicting with EXCLUSIVE (anything but a plain read's) on a migrated table and
     * began more than {@code ?} ms ago, the oldest first. Sessions of other roles show no xact_start to a user
     * without pg_read_all_stats: those are not waited for here, the LOCK's timeout bounds them.
     */
    static final String HOLDERS = "SELECT a.pid, (extract(epoch FROM clock_timestamp() - a.xact_start) * 1000)::bigint,"
            + " coalesce(a.application_name, ''), coalesce(a.state, ''), coalesce(a.backend_type, '')"
            + " FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid"
            + " WHERE l.locktype = 'relation' AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())"
            + " AND l.relation = ANY (?::regclass[]) AND l.mode <> 'AccessShareLock' AND l.pid <> pg_backend_pid()"
            + " AND a.xact_start < clock_timestamp() - ? * interval '1 millisecond'"
            + " ORDER BY a.xact_start LIMIT 1";

    /** Polls until no transaction older than {@code quietAge} holds the tables; refuses if one stays past the bound. */
    private String awaitQuiet(Connection source) throws SQLException, InterruptedException {
        long start = System.nanoTime();
        long deadline = start + options.quietBound().toNanos();
        int polls = 0;
        long longest = 0;
        try (PreparedStatement ps = source.prepareStatement(HOLDERS)) {
            // a write naming one partition of a partitioned table locks that partition, not the table
            ps.setArray(1, source.createArrayOf("text", plan.tables().stream().flatMap(tp -> tp.source().relations().stream())
                    .map(TableId::quoted).toArray()));
            ps.setLong(2, options.quietAge().toMillis());
            while (true) {
                polls++;
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return polls == 1 ? "no transaction older than " + options.quietAge().toMillis() + " ms held the tables"
                                : "waited " + (System.nanoTime() - start) / 1_000_000 + " ms until no transaction older than "
                                + options.quietAge().toMillis() + " ms held the tables (the longest had held them " + longest + " ms)";
                    }
                    long age = rs.getLong(2);
                    longest = Math.max(longest, age);
                    if (System.nanoTime() > deadline) {
                        int pid = rs.getInt(1);
                        throw new Refusal("fence-wait", "a transaction on the source has held the migrated tables for " + age
                                + " ms: pid " + pid + " (" + (rs.getString(5).equals("client backend") ? "" : rs.getString(5) + ", ")
                                + "application_name '" + rs.getString(3) + "', state '" + rs.getString(4) + "'); the fence would stall every writer until it ends, so nothing was fenced: cut over once it"
                                + " has ended (or end it: SELECT pg_terminate_backend(" + pid + "))");
                    }
                }
                Thread.sleep(10);
            }
        }
    }

    private static String emitMarker(Connection source, String marker) throws SQLException {
        return Markers.emit(source, marker);
    }

    /** Waits until node 0 holds the marker's row for every partition (woken by the applier's NOTIFY). */
    private void awaitMarker(Connection node0, String marker) throws SQLException, InterruptedException {
        try {
            Markers.await(node0, marker, options.markerPartitions(), options.drainTimeout());
        } catch (Markers.NotThrough e) {
            throw new TargetException(e.getMessage() + " — check the applier (shardlift status)");
        }
    }

    /**
     * Node k continues at base + k*inc, stepping N*inc: no two nodes ever hand out the same value. The base is past
     * the source's next value and past every node's own, so no sequence ever moves backwards (a node that already
     * handed out values, or one moved by an earlier attempt, keeps going forwards).
     */
    private String moveSequences(Links links, ExecutorService pool) {
        List<SequenceInfo> seqs = plan.sequences();
        if (seqs.isEmpty()) {
            return "no sequences";
        }
        long[] base = new long[seqs.size()];
        String read = seqs.stream().map(s -> "(SELECT CASE WHEN is_called THEN last_value + " + s.increment()
                + " ELSE last_value END FROM " + s.id().quoted() + ")").collect(Collectors.joining(", "));
        synchronized (links.fence()) {
            try (Statement st = links.fence().createStatement(); ResultSet rs = st.executeQuery("SELECT " + read)) {
                rs.next();
                for (int i = 0; i < base.length; i++) {
                    base[i] = rs.getLong(i + 1);
                }
            } catch (SQLException e) {
                throw new SourceException("source " + source.label() + ": reading sequences: " + e.getMessage(), e);
            }
        }
        long[] sourceNext = base.clone();
        // each node's next value, with the node's own (interleaved) increment
        String nodeRead = seqs.stream().map(s -> "(SELECT CASE WHEN q.is_called THEN q.last_value + p.seqincrement ELSE q.last_value END"
                + " FROM " + s.id().quoted() + " q, pg_catalog.pg_sequence p WHERE p.seqrelid = " + literal(s.id().quoted())
                + "::regclass)").collect(Collectors.joining(", "));
        List<CompletableFuture<long[]>> nexts = new ArrayList<>();
        for (int k = 0; k < plan.nodeCount(); k++) {
            int node = k;
            Connection c = links.nodeSeq(node);
            nexts.add(CompletableFuture.supplyAsync(() -> {
                synchronized (c) {
                    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT " + nodeRead)) {
                        rs.next();
                        long[] out = new long[seqs.size()];
                        for (int i = 0; i < out.length; i++) {
                            out[i] = rs.getLong(i + 1);
                        }
                        return out;
                    } catch (SQLException e) {
                        throw new TargetException("node " + node + ": reading sequences: " + e.getMessage(), e);
                    }
                }
            }, pool));
        }
        for (CompletableFuture<long[]> f : nexts) {
            long[] next = join(f);
            for (int i = 0; i < base.length; i++) {
                base[i] = seqs.get(i).increment() > 0 ? Math.max(base[i], next[i]) : Math.min(base[i], next[i]);
            }
        }
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int k = 0; k < plan.nodeCount(); k++) {
            int node = k;
            String set = java.util.stream.IntStream.range(0, seqs.size()).mapToObj(i -> "setval(" + literal(seqs.get(i).id().quoted())
                    + "::regclass, " + (base[i] + (long) node * seqs.get(i).increment()) + ", false)").collect(Collectors.joining(", "));
            Connection c = links.nodeSeq(node);
            all.add(CompletableFuture.runAsync(() -> {
                synchronized (c) {
                    try (Statement st = c.createStatement()) {
                        st.execute("SELECT " + set);
                    } catch (SQLException e) {
                        throw new TargetException("node " + node + ": moving sequences: " + e.getMessage(), e);
                    }
                }
            }, pool));
        }
        all.forEach(Cutover::join);
        List<String> done = new ArrayList<>();
        for (int i = 0; i < seqs.size(); i++) {
            done.add(seqs.get(i).id() + " from " + base[i] + (base[i] == sourceNext[i] ? ""
                    : " (the nodes were already past the source's " + sourceNext[i] + ")"));
        }
        return String.join(", ", done);
    }

    private static long timed(Runnable r) {
        long t = System.nanoTime();
        r.run();
        return (System.nanoTime() - t) / 1_000_000;
    }

    /** Every node's foreign keys, NOT VALID, each node in one transaction on its second connection. */
    private void foreignKeys(Links links, ExecutorService pool) {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int k = 0; k < plan.nodeCount(); k++) {
            int node = k;
            List<io.shardlift.core.plan.Ddl> ddl = plan.nodes().get(k).foreignKeys();
            if (ddl.isEmpty()) {
                continue;
            }
            Connection c = links.nodeAux(node);
            all.add(CompletableFuture.runAsync(() -> {
                synchronized (c) {
                    try (Statement st = c.createStatement()) {
                        c.setAutoCommit(false);
                        st.execute("SET LOCAL lock_timeout = '10s'");
                        st.execute(ddl.stream().map(io.shardlift.core.plan.Ddl::sql).collect(Collectors.joining(";\n")));
                        c.commit();
                    } catch (SQLException e) {
                        try {
                            c.rollback();
                        } catch (SQLException ignored) {
                            // the connection is closed with the cutover
                        }
                        throw new TargetException("node " + node + " (" + plan.spec().nodes().get(node).label()
                                + "): creating foreign keys: " + e.getMessage(), e);
                    } finally {
                        try {
                            c.setAutoCommit(true);
                        } catch (SQLException ignored) {
                            // closed with the cutover
                        }
                    }
                }
            }, pool));
        }
        all.forEach(Cutover::join);
    }

    /** The function the write-fence triggers call; created before the freeze, harmless while no trigger calls it. */
    private void createFenceFunction(Connection source, String id) throws SQLException {
        String where = plan.spec().nodes().stream().map(ConnInfo::label).collect(Collectors.joining(", "));
        try (Statement st = source.createStatement()) {
            st.execute("CREATE SCHEMA IF NOT EXISTS \"shardlift\";\n"
                    + "CREATE OR REPLACE FUNCTION " + FENCE_FUNCTION + "() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN"
                    + " RAISE EXCEPTION 'table %.% moved to the sharded cluster at cutover %', TG_TABLE_SCHEMA, TG_TABLE_NAME, "
                    + literal(id + " (" + OffsetDateTime.now() + ")")
                    + " USING ERRCODE = 'read_only_sql_transaction', HINT = " + literal("write to the cluster: " + where) + ";"
                    + " END $f$");
        }
    }

    /** The triggers, in the fence transaction: they take over from the lock when it commits. */
    private void installWriteFence(Connection fence) throws SQLException {
        StringBuilder sql = new StringBuilder();
        // a partitioned table's statement triggers do not fire for a statement naming one of its partitions
        for (TableId rel : plan.tables().stream().flatMap(t -> t.source().relations().stream()).toList()) {
            sql.append("DROP TRIGGER IF EXISTS " + ident(TRIGGER) + " ON " + rel.quoted() + ";\n");
            sql.append("CREATE TRIGGER " + ident(TRIGGER) + " BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON "
                    + rel.quoted() + " FOR EACH STATEMENT EXECUTE FUNCTION " + FENCE_FUNCTION + "();\n");
        }
        synchronized (fence) {
            try (Statement st = fence.createStatement()) {
                st.execute(sql.toString()); // one round trip
            }
        }
    }

    private static <T> T join(CompletableFuture<T> f) {
        try {
            return f.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
    }

    /**
     * Settles a cutover a crashed process left behind: if the source refuses writes (the trigger committed), it is
     * done; otherwise the fence transaction died with the process and nothing was cut over.
     */
    public Optional<String> recover() {
        Optional<CutoverState> state = readState();
        if (state.isPresent() && state.get().state() == CutoverState.State.CUT_OVER) {
            // CUT_OVER is recorded at the point of no return and the keys are validated after it, writes flowing:
            // a process stopped in between left them NOT VALID, and no later cutover would validate them
            if (unvalidatedForeignKeys() > 0) {
                LayoutApplier.apply(plan, EnumSet.of(LayoutApplier.Stage.VALIDATE_FOREIGN_KEYS));
                log.info("foreign keys left NOT VALID after the cutover by a stopped process: validated");
            }
            return Optional.empty();
        }
        if (state.isEmpty() || state.get().state() != CutoverState.State.CUTTING_OVER) {
            return Optional.empty();
        }
        boolean committed;
        try (Connection c = source.connect();
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
        String id = state.get().id();
        if (committed) {
            // keys first: CUT_OVER promises them validated, and a stop in between repeats this idempotent step
            LayoutApplier.apply(plan, EnumSet.of(LayoutApplier.Stage.FOREIGN_KEYS, LayoutApplier.Stage.VALIDATE_FOREIGN_KEYS));
            transition(id, CutoverState.State.CUT_OVER, "finished after a restart");
            log.info("cutover {} had passed its point of no return before the restart: done", id);
            return Optional.of("CUT_OVER");
        }
        transition(id, CutoverState.State.ROLLED_BACK, "the process stopped before the point of no return; the source stayed writable");
        log.info("cutover {} was interrupted before its point of no return: rolled back, the source is writable", id);
        return Optional.of("ROLLED_BACK");
    }

    /** Refuses a request once the durable state says a cutover is done or under way. */
    private void refuseUnlessStartable(boolean dryRun) {
        Optional<CutoverState> st = readState();
        if (st.isPresent() && !CutoverState.STARTABLE.contains(st.get().state())) {
            throw conflict(st.get(), dryRun);
        }
    }

    private static Conflict conflict(CutoverState st, boolean dryRun) {
        String what = dryRun ? "cutover dry run" : "cutover";
        return new Conflict(st, switch (st.state()) {
            case CUT_OVER -> what + " refused: the cutover " + st.id() + " is done (CUT_OVER, recorded " + st.at()
                    + "): the cluster is the database and the source is fenced; a cutover runs once, nothing was changed";
            case CUTTING_OVER -> what + " refused: the cutover " + st.id() + " is under way (CUTTING_OVER since " + st.at()
                    + "); if no shardlift run is running it, restart shardlift run: it settles the interrupted cutover first";
            case ROLLED_BACK -> what + " refused: the state is " + st.state() + " (" + st.id() + ")";
        });
    }

    /** The durable cutover state on node 0, if a cutover ever began. */
    public Optional<CutoverState> readState() {
        ConnInfo n0 = plan.spec().nodes().get(0);
        try (Connection c = n0.connect();
             Statement st = c.createStatement();
             ResultSet exists = st.executeQuery("SELECT to_regclass(" + literal(LedgerSchema.META) + ") IS NOT NULL")) {
            exists.next();
            if (!exists.getBoolean(1)) {
                return Optional.empty(); // not laid out yet: no cutover ever ran
            }
            return read(c, false);
        } catch (SQLException e) {
            throw new TargetException("node 0: cannot read the cutover state: " + e.getMessage(), e);
        }
    }

    private static Optional<CutoverState> read(Connection c, boolean forUpdate) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT value, updated_at FROM " + LedgerSchema.META + " WHERE key = ?"
                + (forUpdate ? " FOR UPDATE" : ""))) {
            ps.setString(1, META_KEY);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(CutoverState.parse(rs.getString(1), rs.getObject(2, OffsetDateTime.class).toInstant()))
                        : Optional.empty();
            }
        }
    }

    /** Foreign keys of the migrated tables that some node holds NOT VALID. */
    private long unvalidatedForeignKeys() {
        long n = 0;
        for (int k = 0; k < plan.nodeCount(); k++) {
            ConnInfo node = plan.spec().nodes().get(k);
            // the keys live on the local tables
            Object[] local = plan.localTables(k).stream().map(TableId::quoted).toArray();
            try (Connection c = node.connect();
                 PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM pg_catalog.pg_constraint WHERE contype = 'f'"
                         + " AND NOT convalidated AND conrelid = ANY (?::regclass[])")) {
                ps.setArray(1, c.createArrayOf("text", local));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    n += rs.getLong(1);
                }
            } catch (SQLException e) {
                throw new TargetException(node.label() + ": cannot read the foreign keys: " + e.getMessage(), e);
            }
        }
        return n;
    }

    /**
     * Moves the durable state to {@code to}, checked against what node 0 holds, in one transaction with the row locked.
     *
     * @throws CutoverState.IllegalTransition when the state does not allow it; nothing written
     */
    private void transition(String id, CutoverState.State to, String note) {
        ConnInfo n0 = plan.spec().nodes().get(0);
        try (Connection c = n0.connect()) {
            c.setAutoCommit(false);
            Optional<CutoverState> current = read(c, true);
            CutoverState.checkTransition(current, to, id);
            String value = new CutoverState(to, id, java.time.Instant.now(), Optional.ofNullable(note)).encode();
            // with no row there is nothing to lock: the insert itself must be the one that creates it
            try (PreparedStatement ps = c.prepareStatement(current.isEmpty()
                    ? "INSERT INTO " + LedgerSchema.META + " (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING"
                    : "UPDATE " + LedgerSchema.META + " SET value = ?, updated_at = now() WHERE key = ?")) {
                ps.setString(current.isEmpty() ? 1 : 2, META_KEY);
                ps.setString(current.isEmpty() ? 2 : 1, value);
                if (ps.executeUpdate() != 1) {
                    c.rollback();
                    Optional<CutoverState> now = read(c, false);
                    throw new CutoverState.IllegalTransition(now, to, "cutover state " + to + " for " + id
                            + ": expected no cutover but it is " + now.map(x -> x.state() + " (" + x.id() + ")").orElse("?"));
                }
            }
            c.commit();
            log.info("cutover {}: state {} -> {}", id, current.map(x -> x.state().name()).orElse("none"), to);
        } catch (SQLException e) {
            throw new TargetException("node 0: cannot record the cutover state: " + e.getMessage(), e);
        }
    }

    private void step(String name, String status, long startNanos, String detail) {
        step(name, status, startNanos, System.nanoTime(), detail);
    }

    private void step(String name, String status, long startNanos, long endNanos, String detail) {
        long ms = Math.max(0, (endNanos - startNanos) / 1_000_000);
        steps.add(new Step(name, status, ms, detail));
        log.info("cutover step {}: {} ({} ms) {}", name, status, ms, detail);
    }

    private CutoverReport report(String id, Outcome outcome, Optional<String> reason, long freeze, boolean passed) {
        return new CutoverReport(id, outcome, reason, steps, freeze, passed);
    }
}
