package io.shardlift.ops.workflow;

import io.shardlift.cdc.apply.ApplierStatus;
import io.shardlift.cdc.apply.NodeApplyStatus;
import io.shardlift.cdc.capture.Capture;
import io.shardlift.ops.control.ControlBackend;
import io.shardlift.ops.control.CutoverConflict;
import io.shardlift.ops.cutover.Cutover;
import io.shardlift.ops.cutover.CutoverState;
import io.shardlift.ops.cutover.CutoverReport;
import io.shardlift.ops.reverse.ReverseStream;
import io.shardlift.snapshotter.CopyProgress;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The running migration as the control plane sees it. */
public final class MigrationBackend implements ControlBackend {

    /** Phases kept in the history: a migration passes through a handful; a flapping one must not grow it without end. */
    static final int HISTORY = 50;

    /** The migration now: it is replaced when it takes tables created on the source on. */
    private final LiveMigration live;
    /** When the preflight of this run passed: it is made before the migration starts, and run refuses on a problem. */
    private final Instant preflightPassedAt = Instant.now();
    /** The phases this process has seen, each with when it was first seen: for people, not for decisions. */
    private final Deque<Map<String, Object>> history = new ArrayDeque<>();

    /** For a migration that is never replaced (the demo, tests). */
    public MigrationBackend(Migration m) {
        this(new LiveMigration(m, null, null));
    }

    public MigrationBackend(LiveMigration live) {
        this.live = live;
    }

    /** Refuses (409) while the migration is being replaced: the one a request would reach is closing. */
    private void refuseIfBusy(String what) throws CutoverConflict {
        java.util.Optional<String> b = live.takingOn();
        if (b.isPresent()) {
            throw new CutoverConflict(what + " refused: " + b.get(), new LinkedHashMap<>());
        }
    }

    @Override
    public String phase() {
        Migration m = live.current();
        String phase = m.phase().name();
        observe(phase);
        return phase;
    }

    private void observe(String phase) {
        synchronized (history) {
            if (!history.isEmpty() && history.peekLast().get("phase").equals(phase)) {
                return;
            }
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("phase", phase);
            e.put("since", Instant.now().toString());
            history.addLast(e);
            while (history.size() > HISTORY) {
                history.removeFirst();
            }
        }
    }

    private List<Map<String, Object>> history() {
        synchronized (history) {
            return new ArrayList<>(history);
        }
    }

    @Override
    public Map<String, Object> status() {
        Migration m = live.current();
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("phase", phase());
        s.put("serverTime", System.currentTimeMillis());
        // as this process observed them (on each status request and readiness check): the durable state decides the phase
        s.put("phaseHistory", history());
        // tables created on the source being taken on: the stream pauses while the migration starts again with them
        s.put("takingOn", live.takingOn().orElse(null));
        List<Map<String, Object>> tables = new ArrayList<>();
        for (CopyProgress.TableView t : m.copyProgress().tables()) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("table", t.table().toString());
            row.put("copy", m.snapshotResult().isPresent() ? "DONE" : t.state().name());
            row.put("rows", t.rows());
            row.put("bytes", t.bytes());
            row.put("estimatedRows", t.estimatedRows());
            row.put("chunksDone", t.chunksDone());
            row.put("chunks", t.chunks());
            tables.add(row);
        }
        s.put("tables", tables);
        // a marker's round trip through the whole stream; null until one has gone all the way
        s.put("endToEndLagMs", m.endToEndProbeMillis().isPresent() ? m.endToEndProbeMillis().getAsLong() : null);
        Capture.Status cs = m.captureStatus();
        Map<String, Object> capture = new LinkedHashMap<>();
        capture.put("state", cs.state().name());
        capture.put("events", cs.events());
        capture.put("lagMs", cs.lagMillis());
        capture.put("ackedLsn", cs.ackedLsn());
        // null until the capture's first batch is acknowledged: unknown then, not 0
        capture.put("walLagBytes", cs.ackedLsn() == 0 ? null : m.walLagBytes());
        cs.error().ifPresent(e -> capture.put("error", e));
        List<String> keyChanges = m.shardingKeyWarnings();
        if (!keyChanges.isEmpty()) {
            capture.put("shardingKeyChanges", keyChanges);
        }
        s.put("capture", capture);
        ApplierStatus as = m.applierStatus();
        Map<String, Object> apply = new LinkedHashMap<>();
        apply.put("state", as.state().name());
        apply.put("readyTables", as.readyTables().size());
        apply.put("events", as.eventsApplied());
        apply.put("queued", as.consumerLag());
        apply.put("commitLagMs", as.commitLagMs());
        as.lastError().ifPresent(e -> apply.put("error", e));
        as.retrying().ifPresent(e -> apply.put("retrying", e));
        List<String> notCarried = new ArrayList<>(m.notCarriedTables());
        live.takeOnRefusal().ifPresent(r -> notCarried.add(0, r));
        if (!notCarried.isEmpty()) {
            apply.put("notCarried", notCarried);
        }
        s.put("apply", apply);
        List<Map<String, Object>> nodes = new ArrayList<>();
        for (NodeApplyStatus n : m.applierNodes()) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("node", n.node());
            row.put("label", n.label());
            row.put("rowsApplied", n.rowsApplied());
            row.put("batches", n.batches());
            row.put("lagMs", n.lastBatchLagMs() < 0 && n.failingForMs() == 0 ? null : n.lagMs());
            row.put("lastAppliedAt", n.lastAppliedAtMillis() == 0 ? null : Instant.ofEpochMilli(n.lastAppliedAtMillis()).toString());
            row.put("error", n.failing().orElse(null));
            nodes.add(row);
        }
        s.put("nodes", nodes);
        Map<String, Object> preflight = new LinkedHashMap<>();
        // run starts only once its preflight found nothing; what goes wrong while it runs is in capture, nodes and lastError
        preflight.put("passedAt", preflightPassedAt.toString());
        preflight.put("problems", List.of());
        s.put("preflight", preflight);
        // what stopped a stage, else what is failing right now (a node down: which, what, since when), else the tables
        // whose stream a schema change stopped (the page shows lastError, not apply.error: it said nothing of them), else null
        s.put("lastError", m.failure().map(Throwable::getMessage).or(as::retrying).or(as::lastError)
                .or(() -> m.reverseStatus().flatMap(ReverseStream.Status::waiting))
                .or(() -> notCarried.stream().findFirst()).orElse(null));
        s.put("cutover", cutoverState());
        // from the point of no return on: the way back, and what it costs (slots on the nodes retain WAL)
        s.put("rollbackWindow", m.reverseStatus().isPresent() ? "open" : null);
        s.put("reverse", m.reverseStatus().map(r -> {
            Map<String, Object> rev = new LinkedHashMap<>();
            rev.put("state", r.state());
            rev.put("lagMs", r.lagMillis());
            rev.put("queued", r.queued());
            rev.put("events", r.eventsApplied());
            rev.put("captures", r.captures());
            rev.put("slots", r.slots()); // what the window costs: the WAL each node's reverse slot retains
            r.error().ifPresent(e -> rev.put("error", e));
            r.waiting().ifPresent(w -> rev.put("waiting", w));
            return rev;
        }).orElse(null));
        return s;
    }

    @Override
    public boolean ready() {
        Migration m = live.current();
        // in the rollback window the forward stream is stopped by design: ready means the reverse stream caught up
        return switch (m.phase()) {
            case CUT_OVER -> m.reverseCaughtUp();
            case COMPLETED -> true;
            default -> m.caughtUp();
        };
    }

    @Override
    public CutoverReport cutover(boolean dryRun) throws CutoverConflict {
        refuseIfBusy(dryRun ? "cutover dry run" : "cutover");
        try {
            return live.current().cutover(dryRun);
        } catch (Cutover.Conflict e) {
            throw new CutoverConflict(e.getMessage(), stateMap(e.state()));
        } catch (IllegalStateException e) {
            throw new CutoverConflict((dryRun ? "cutover dry run" : "cutover") + " refused: " + e.getMessage(), new LinkedHashMap<>());
        }
    }

    @Override
    public CutoverReport rollback(boolean dryRun) throws CutoverConflict {
        refuseIfBusy(dryRun ? "rollback dry run" : "rollback");
        try {
            return live.current().rollback(dryRun);
        } catch (Cutover.Conflict e) {
            throw new CutoverConflict(e.getMessage(), e.state() == null ? new LinkedHashMap<>() : stateMap(e.state()));
        } catch (IllegalStateException e) {
            throw new CutoverConflict((dryRun ? "rollback dry run" : "rollback") + " refused: " + e.getMessage(), new LinkedHashMap<>());
        }
    }

    @Override
    public Map<String, Object> complete() throws CutoverConflict {
        refuseIfBusy("complete");
        try {
            io.shardlift.ops.cutover.Completion.Result r = live.current().complete();
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("state", "COMPLETED");
            out.put("cutover", r.cutoverId());
            out.put("done", r.done());
            out.put("leftOnSource", r.left());
            return out;
        } catch (Cutover.Conflict e) {
            throw new CutoverConflict(e.getMessage(), e.state() == null ? new LinkedHashMap<>() : stateMap(e.state()));
        }
    }

    @Override
    public Map<String, Object> cutoverState() {
        Migration m = live.current();
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("state", m.cutoverState().map(MigrationBackend::stateMap).orElse(null));
        m.lastCutover().ifPresent(r -> s.put("last", r.toMap()));
        m.lastRollback().ifPresent(r -> s.put("lastRollback", r.toMap()));
        return s;
    }

    /** The recorded cutover as the control plane answers it. */
    static Map<String, Object> stateMap(CutoverState st) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("state", st.state().name());
        s.put("id", st.id());
        s.put("at", st.at().toString());
        s.put("note", st.note().orElse(null));
        return s;
    }
}
