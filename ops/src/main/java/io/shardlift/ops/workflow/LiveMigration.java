package io.shardlift.ops.workflow;

import io.micrometer.core.instrument.MeterRegistry;
import io.shardlift.core.TableId;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.plan.PlanException;
import io.shardlift.core.plan.TablePlan;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The migration {@code shardlift run} keeps going, replaced in the same process when tables created on the source during
 * the migration are to be taken on (issue 15 item 3). A migration's plan, publication, topics, capture and applier are
 * fixed when it starts, and a start takes every such table on (it plans from the catalog, lays the table out as its schema's
 * {@code unlisted:} rule says, global by default, adds it to the publication, copies it under a snapshot of its own and streams it: the path a restart of
 * {@code run} takes). So the running migration is closed (what every stage finished is durable) and started again with
 * the new plan; the control plane answers for whichever is current, and refuses a cutover, rollback or complete while the
 * swap runs. The stream pauses for the seconds the swap takes; nothing else stops.
 */
public final class LiveMigration implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(LiveMigration.class);

    /** How often the source is asked for tables to take on. */
    static final long LOOK_EVERY_MILLIS = 5_000;

    private final Migration.Options options;
    private final MeterRegistry registry;
    private volatile Migration current;
    private volatile String takingOn;
    /**
     * The tables the last take-on could not plan, and why: planned again when the set of tables changes, or after
     * {@link #RETRY_REFUSED_MILLIS} (the operator may have fixed what the planner named, a column type say).
     */
    private Set<TableId> refused = Set.of();
    private long refusedAt;
    static final long RETRY_REFUSED_MILLIS = 30_000;
    private volatile String refusal;
    private long nextLook;
    /**
     * How long the migration a take-on starts again waits out a node or the source away (its layout, or the new tables'
     * copy, failing), as the stream rides out such an outage instead of ending {@code run}.
     */
    static final long RESTART_BUDGET_MILLIS = 10 * 60_000;
    static final long RESTART_BACKOFF_MILLIS = 5_000;
    /** The plan and the left-out tables the current migration was started again with by a take-on; null for the first. */
    private volatile ClusterPlan takenOnWith;
    private volatile Map<TableId, List<String>> takenOnRefused = Map.of();
    private long failingSince = -1;
    private volatile boolean closed;

    public LiveMigration(Migration first, Migration.Options options, MeterRegistry registry) {
        this.current = first;
        this.options = options;
        this.registry = registry;
    }

    public Migration current() {
        return current;
    }

    /** While tables are being taken on: what is happening, for the control plane's refusals and the status. */
    public Optional<String> takingOn() {
        return Optional.ofNullable(takingOn);
    }

    /** Why the tables created on the source could not be taken on (the planner's refusal), until that changes. */
    public Optional<String> takeOnRefusal() {
        return Optional.ofNullable(refusal);
    }

    /**
     * Looks (at most every {@link #LOOK_EVERY_MILLIS}) for tables to take on and, if there are any, replaces the migration
     * with one that carries them. Called from {@code run}'s loop; {@code say} tells the operator.
     *
     * @return the tables taken on; empty when there were none, or they cannot be taken on now
     * @throws RuntimeException the new migration could not start (as a restart of {@code run} would fail)
     */
    public List<TableId> takeOnNewTables(Consumer<String> say) {
        long now = System.currentTimeMillis();
        if (options == null || now < nextLook) { // a migration that is never replaced (the demo, tests)
            return List.of();
        }
        nextLook = now + LOOK_EVERY_MILLIS;
        Migration m = current;
        List<TableId> waiting = m.tablesToTakeOn();
        if (waiting.isEmpty()) {
            if (refusal != null && m.notCarriedTables().isEmpty()) {
                clearRefusal(); // the refused tables were dropped on the source
            }
            return List.of();
        }
        if (refused.equals(new TreeSet<>(waiting)) && now - refusedAt < RETRY_REFUSED_MILLIS) {
            return List.of();
        }
        Planning.TakeOn takeOn;
        try {
            takeOn = Planning.planTakingOn(m.plan().spec(), new TreeSet<>(waiting));
        } catch (io.shardlift.core.SourceException e) {
            // the source away for a moment: the migration rides it out, and the next look plans again
            log.debug("cannot plan the tables to take on now: {}", e.getMessage());
            return List.of();
        } catch (PlanException e) {
            // a problem of a table the migration carries: leaving new tables out does not help
            String why = "cannot take on " + waiting + ", created on the source during the migration: " + String.join("; ", e.problems());
            Map<TableId, List<String>> theirs = new TreeMap<>(e.problemsByTable());
            theirs.keySet().retainAll(waiting);
            refuse(waiting, theirs, why, now, say);
            return List.of();
        }
        ClusterPlan plan = takeOn.plan();
        List<String> relaid = relaidOut(m.plan(), plan);
        if (!relaid.isEmpty()) {
            // not in `refused`: undoing the change on the source lifts it, with the same tables waiting; said once
            String why = "cannot take on " + waiting + ", created on the source during the migration: planned from the source's"
                    + " catalog now, " + String.join("; ", relaid) + " — the nodes hold it as planned when the migration"
                    + " started; undo that change on the source, then the tables are taken on";
            if (!why.equals(refusal)) {
                log.warn("{}", why);
                say.accept(why);
            }
            refusal = why;
            return List.of();
        }
        List<TableId> planned = plan.tables().stream().map(TablePlan::id).toList();
        List<TableId> taken = new ArrayList<>(waiting.stream().filter(planned::contains).toList());
        if (!takeOn.refused().isEmpty()) {
            // the others are taken on without them; each is named with why until the planner takes it
            refuse(List.copyOf(takeOn.refused().keySet()), takeOn.refused(), leftOut(takeOn.refused()), now, say);
        }
        if (taken.isEmpty()) {
            if (takeOn.refused().isEmpty()) {
                refuse(waiting, Map.of(), "cannot take on " + waiting + ", created on the source during the migration: the"
                        + " planner left them out", now, say);
            }
            return List.of();
        }
        if (takeOn.refused().isEmpty()) {
            clearRefusal();
        }
        takingOn = "taking on " + taken + ", created on the source during the migration: the migration starts again with them";
        try {
            if (!m.retire()) {
                return List.of(); // a cutover, rollback or complete runs: next time
            }
            log.info("{}", takingOn);
            say.accept(takingOn + " (the stream pauses meanwhile)");
            long t0 = System.nanoTime();
            m.close(); // its meters go with it; the new one registers its own (a restart of the process would too)
            takenOnWith = plan;
            takenOnRefused = takeOn.refused();
            current = startWaitingOut(plan, takeOn.refused(), say);
            String done = "took on " + taken + " in " + (System.nanoTime() - t0) / 1_000_000 + " ms: laid out as "
                    + layouts(plan, taken) + "; they are copied under a snapshot of their own, then streamed";
            log.info("{}", done);
            say.accept(done);
            return taken;
        } finally {
            takingOn = null;
        }
    }

    /**
     * The tables the start of this process left out of its migration (a restart of {@code run}, {@link
     * Planning#checkedRun}): created on the source during the migration and refused by the planner, with its problems of
     * each. Named as the take-on names those it leaves out (log, status, the cutover's refusal), and planned again every
     * {@link #RETRY_REFUSED_MILLIS} from the moment the migration's copy is done.
     */
    public void startedWithout(Map<TableId, List<String>> leftOut, Consumer<String> say) {
        if (!leftOut.isEmpty()) {
            refuse(List.copyOf(leftOut.keySet()), leftOut, leftOut(leftOut), System.currentTimeMillis(), say);
        }
    }

    /** Why tables created on the source are left out while the others are taken on: the planner's problems of each. */
    private static String leftOut(Map<TableId, List<String>> refused) {
        List<TableId> left = List.copyOf(refused.keySet());
        return "cannot take on " + left + ", created on the source during the migration: "
                + refused.values().stream().flatMap(List::stream).collect(Collectors.joining("; "))
                + " — planned again every " + RETRY_REFUSED_MILLIS / 1000 + " s and taken on once the planner accepts "
                + (left.size() == 1 ? "it" : "them") + "; the other tables created on the source are not held by "
                + (left.size() == 1 ? "it" : "them");
    }

    /**
     * Records a refusal of {@code tables}, each with the planner's problems of it where it has some (the migration's
     * message for a table not carried says them); says it only when it is news (it is planned again every
     * {@link #RETRY_REFUSED_MILLIS}).
     */
    private void refuse(List<TableId> tables, Map<TableId, List<String>> problems, String why, long now, Consumer<String> say) {
        refused = new TreeSet<>(tables);
        refusedAt = now;
        current.takeOnRefused(problems);
        if (!why.equals(refusal)) {
            log.warn("{}", why);
            say.accept(why);
        }
        refusal = why;
    }

    private void clearRefusal() {
        refused = Set.of();
        refusal = null;
        current.takeOnRefused(Map.of());
    }

    /**
     * The migrated tables that {@code now} lays out otherwise than {@code running} (global instead of sharded, another
     * key): a schema's {@code unlisted:} rule decides per table from the catalog, so a schema change of the source (a
     * unique index without the key) can turn a table the nodes hold sharded into a global one. Each with the plan's
     * warning that says why.
     */
    static List<String> relaidOut(ClusterPlan running, ClusterPlan now) {
        List<String> out = new ArrayList<>();
        for (TablePlan before : running.tables()) {
            Optional<TablePlan> after = now.table(before.id());
            if (after.isEmpty() || layout(after.get()).equals(layout(before))) {
                continue;
            }
            String why = now.warnings().stream().filter(w -> w.startsWith(before.id() + ": ")).findFirst()
                    .map(w -> " (" + w.substring(before.id().toString().length() + 2) + ")").orElse("");
            out.add(before.id() + " would be " + layout(after.get()) + " instead of " + layout(before) + why);
        }
        return out;
    }

    private static String layout(TablePlan t) {
        return t.sharded() ? "sharded by " + String.join(", ", t.keyColumns()) + " (" + t.partitions() + " partitions"
                + (t.colocationRoot().equals(t.id()) ? "" : ", colocated with " + t.colocationRoot()) + ")" : "global";
    }

    /** How each table taken on is laid out, as its schema's {@code unlisted:} rule made it: global or sharded. */
    static String layouts(ClusterPlan plan, List<TableId> taken) {
        List<String> out = new ArrayList<>();
        for (TableId id : taken) {
            TablePlan t = plan.table(id).orElseThrow();
            out.add(id + " " + layout(t));
        }
        return String.join(", ", out);
    }

    /**
     * Starts the migration again with {@code plan}; a node or the source that cannot be reached (its layout, its state)
     * is tried again every {@link #RESTART_BACKOFF_MILLIS} for {@link #RESTART_BUDGET_MILLIS}, the control plane
     * refusing meanwhile, as {@code run}'s stream waits out the same outage.
     */
    private Migration startWaitingOut(ClusterPlan plan, Map<TableId, List<String>> left, Consumer<String> say) {
        long since = System.currentTimeMillis();
        while (true) {
            try {
                Migration next = Migration.start(plan, options, registry);
                next.takeOnRefused(left);
                return next;
            } catch (io.shardlift.core.TargetException | io.shardlift.core.SourceException e) {
                if (closed || System.currentTimeMillis() - since > RESTART_BUDGET_MILLIS) {
                    throw e;
                }
                String why = "the migration started again to take on tables cannot start: " + e.getMessage()
                        + " — trying again in " + RESTART_BACKOFF_MILLIS / 1000 + " s (a node or the source away is waited out for "
                        + RESTART_BUDGET_MILLIS / 60_000 + " min)";
                log.warn("{}", why);
                say.accept(why);
                try {
                    Thread.sleep(RESTART_BACKOFF_MILLIS);
                } catch (InterruptedException stop) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    /**
     * A migration a take-on started again that failed in its copy because a node or the source went away (the copy of
     * the tables it took on) is started again, as long as it has been failing for less than {@link #RESTART_BUDGET_MILLIS}:
     * the tables carried before go on once it runs, as they would through the same outage without a take-on. Called
     * from {@code run}'s loop before it looks at the migration's failure.
     *
     * @return whether the migration was started again
     */
    public boolean restartFailedTakeOn(Consumer<String> say) {
        Migration m = current;
        ClusterPlan plan = takenOnWith;
        if (plan == null || closed) {
            return false;
        }
        if (m.snapshotResult().isPresent()) {
            failingSince = -1; // its copy is done: from here on the stream rides out outages itself
            return false;
        }
        Optional<Throwable> failure = m.failure();
        if (failure.isEmpty() || !(failure.get() instanceof io.shardlift.core.TargetException
                || failure.get() instanceof io.shardlift.core.SourceException)) {
            return false;
        }
        long now = System.currentTimeMillis();
        if (failingSince < 0) {
            failingSince = now;
        } else if (now - failingSince > RESTART_BUDGET_MILLIS) {
            return false;
        }
        takingOn = "starting the migration again: the copy of the tables it took on failed (" + failure.get().getMessage() + ")";
        try {
            String why = takingOn + " — a node or the source away is waited out for " + RESTART_BUDGET_MILLIS / 60_000 + " min";
            log.warn("{}", why);
            say.accept(why);
            m.close();
            try {
                Thread.sleep(RESTART_BACKOFF_MILLIS);
            } catch (InterruptedException stop) {
                Thread.currentThread().interrupt();
                return false;
            }
            current = startWaitingOut(plan, takenOnRefused, say);
            return true;
        } finally {
            takingOn = null;
        }
    }

    @Override
    public void close() {
        closed = true;
        current.close();
    }
}
