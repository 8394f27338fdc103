package io.shardlift.ops.cutover;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What one cutover (or its dry run) did: its outcome, the reason when it did not cut over, each named step with its
 * status and duration, and how long writes on the source were frozen. Its JSON form ({@link #toMap()},
 * {@link #fromMap(Map)}) is the body of {@code POST /cutover} and part of the interface.
 *
 * @param id           the cutover's id ({@code c-...}, {@code dry-...}); the JSON form does not carry it (GET /cutover's
 *                     recorded state does), so a report read back from it has ""
 * @param dryRun       whether this was a dry run
 * @param reason       why it did not cut over; empty when DONE or DRY_RUN
 * @param steps        the steps in the order they ran (or would have run)
 * @param freezeMillis how long writes on the source were blocked, from the first LOCK attempt to the release; 0 when
 *                     they never were
 * @param poolerPauseMillis with a pooler, the pause its clients saw: from PAUSE issued to RESUME done (a dry run pauses
 *                     too); empty when nothing was paused
 * @param probe        with a pooler, what the cutover probe's writer and reader felt through PgBouncer; empty when no
 *                     probe ran
 */
public record CutoverReport(String id, Outcome outcome, boolean dryRun, Optional<String> reason, List<Step> steps,
                            long freezeMillis, OptionalLong poolerPauseMillis, Optional<Probe> probe) {

    /**
     * What the cutover probe's writers and readers (one of each per switched alias) saw through PgBouncer, from before
     * the PAUSE to shortly after the RESUME: what the application felt.
     *
     * @param worstWriteMs the slowest write, the pause included
     * @param worstReadMs  the slowest {@code SELECT 1}
     * @param errors       statements that failed (or were still waiting when the probe stopped)
     * @param lastWriteOn  where the writers' last writes landed: {@code source}, {@code cluster}, {@code mixed} (aliases
     *                     differ) or {@code none}
     * @param firstError   the first error's message, if any
     */
    public record Probe(long writes, long reads, long errors, long worstWriteMs, long worstReadMs, String lastWriteOn,
                        Optional<String> firstError) {
        public Probe {
            Objects.requireNonNull(lastWriteOn, "lastWriteOn");
            firstError = Objects.requireNonNull(firstError, "firstError").filter(e -> !e.isBlank());
        }

        /** One line for the step's detail and the log. */
        public String describe() {
            return "probe through PgBouncer: " + errors + " error" + (errors == 1 ? "" : "s") + ", worst write " + worstWriteMs
                    + " ms, worst read " + worstReadMs + " ms (" + writes + " writes, " + reads + " reads; last write on the "
                    + lastWriteOn + ")" + firstError.map(e -> "; first error: " + e).orElse("");
        }

        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("errors", errors);
            m.put("worstWriteMs", worstWriteMs);
            m.put("worstReadMs", worstReadMs);
            m.put("writes", writes);
            m.put("reads", reads);
            m.put("lastWriteOn", lastWriteOn);
            m.put("firstError", firstError.orElse(null));
            return m;
        }

        static Probe fromMap(Map<String, ?> m) {
            Object last = m.get("lastWriteOn");
            Object first = m.get("firstError");
            return new Probe(longField(m, "writes"), longField(m, "reads"), longField(m, "errors"), longField(m, "worstWriteMs"),
                    longField(m, "worstReadMs"), last == null ? "none" : last.toString(), Optional.ofNullable(first).map(Object::toString));
        }
    }

    /** Without a pooler: no pause, no probe. */
    public CutoverReport(String id, Outcome outcome, boolean dryRun, Optional<String> reason, List<Step> steps, long freezeMillis) {
        this(id, outcome, dryRun, reason, steps, freezeMillis, OptionalLong.empty(), Optional.empty());
    }

    public enum Outcome {
        /** Cut over: the point of no return is passed. */
        DONE,
        /** A dry run that walked every step; nothing changed. */
        DRY_RUN,
        /** Refused before anything was fenced, or a dry run that could not go on; the reason says what to wait for. */
        REFUSED,
        /** A step failed once the source was fenced, before the point of no return: rolled back, the source writable. */
        FAILED;

        /**
         * The outcome in the JSON form: there a dry run that walked every step is DONE with {@code dryRun} true, as
         * every client since the control plane's first version reads it.
         */
        public String wire() {
            return this == DRY_RUN ? DONE.name() : name();
        }
    }

    public enum StepStatus {
        /** Ran and succeeded. */
        DONE,
        /** Walked in a dry run: checked, nothing changed. */
        DRY_RUN,
        /** A check that said no: nothing was changed by it. */
        REFUSED,
        /** Ran and failed (past the point of no return, where the cutover goes on; the detail says what to do). */
        FAILED
    }

    /**
     * @param name   a stable step name, e.g. {@code gate}, {@code fence}, {@code release}
     * @param status what became of it
     * @param millis how long it took
     * @param detail what it saw or did, for the operator ("commit lag 40 ms, ..."); may be empty
     */
    public record Step(String name, StepStatus status, long millis, String detail) {

        public Step {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("a cutover step needs a name");
            }
            Objects.requireNonNull(status, "status");
            if (millis < 0) {
                throw new IllegalArgumentException("step " + name + ": ms must be >= 0 but is " + millis);
            }
            detail = detail == null ? "" : detail;
        }

        public static Step of(String name, StepStatus status, long millis) {
            return new Step(name, status, millis, "");
        }
    }

    public CutoverReport {
        id = id == null ? "" : id;
        Objects.requireNonNull(outcome, "outcome");
        reason = Objects.requireNonNull(reason, "reason").filter(r -> !r.isBlank());
        steps = List.copyOf(Objects.requireNonNull(steps, "steps"));
        if (outcome == Outcome.DONE || outcome == Outcome.DRY_RUN) {
            if (reason.isPresent()) {
                throw new IllegalArgumentException("a cutover that is DONE has no reason, but got: " + reason.get());
            }
            if (dryRun != (outcome == Outcome.DRY_RUN)) {
                throw new IllegalArgumentException("a cutover that is " + outcome + " is " + (dryRun ? "" : "not ") + "a dry run");
            }
        } else if (reason.isEmpty()) {
            throw new IllegalArgumentException("a cutover that is " + outcome + " needs a reason");
        }
        if (freezeMillis < 0) {
            throw new IllegalArgumentException("writeFreezeMs must be >= 0 but is " + freezeMillis);
        }
        Objects.requireNonNull(poolerPauseMillis, "poolerPauseMillis");
        if (poolerPauseMillis.isPresent() && poolerPauseMillis.getAsLong() < 0) {
            throw new IllegalArgumentException("poolerPauseMs must be >= 0 but is " + poolerPauseMillis.getAsLong());
        }
        Objects.requireNonNull(probe, "probe");
    }

    /** Every step done (a real cutover), or walked (a dry run). */
    public static CutoverReport done(boolean dryRun, List<Step> steps, long freezeMillis) {
        return new CutoverReport("", dryRun ? Outcome.DRY_RUN : Outcome.DONE, dryRun, Optional.empty(), steps, freezeMillis);
    }

    public static CutoverReport refused(boolean dryRun, String reason, List<Step> steps) {
        return new CutoverReport("", Outcome.REFUSED, dryRun, Optional.ofNullable(reason), steps, 0);
    }

    public static CutoverReport failed(boolean dryRun, String reason, List<Step> steps, long freezeMillis) {
        return new CutoverReport("", Outcome.FAILED, dryRun, Optional.ofNullable(reason), steps, freezeMillis);
    }

    public boolean ok() {
        return outcome == Outcome.DONE || outcome == Outcome.DRY_RUN;
    }

    public boolean pointOfNoReturnPassed() {
        return outcome == Outcome.DONE;
    }

    /** The steps' durations added up. */
    public long stepsMs() {
        return steps.stream().mapToLong(Step::millis).sum();
    }

    /**
     * The JSON form: outcome, ok, dryRun, reason, writeFreezeMs, poolerPauseMs (null without a pause), stepsMs,
     * probe (null without one: errors, worstWriteMs, worstReadMs, writes, reads, lastWriteOn, firstError),
     * steps[name, status, ms, detail].
     */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("outcome", outcome.wire());
        m.put("ok", ok());
        m.put("dryRun", dryRun);
        m.put("reason", reason.orElse(null));
        m.put("writeFreezeMs", freezeMillis);
        m.put("poolerPauseMs", poolerPauseMillis.isPresent() ? poolerPauseMillis.getAsLong() : null);
        m.put("stepsMs", stepsMs());
        m.put("probe", probe.map(Probe::toMap).orElse(null));
        List<Map<String, Object>> s = new ArrayList<>(steps.size());
        for (Step step : steps) {
            Map<String, Object> sm = new LinkedHashMap<>();
            sm.put("name", step.name());
            sm.put("status", step.status().name());
            sm.put("ms", step.millis());
            sm.put("detail", step.detail());
            s.add(sm);
        }
        m.put("steps", s);
        return m;
    }

    /**
     * Reads the JSON form back (the CLI does); derived fields (ok, stepsMs) are ignored.
     *
     * @throws IllegalArgumentException naming the field when the map is not a cutover result
     */
    public static CutoverReport fromMap(Map<String, ?> m) {
        Outcome outcome = enumField(m, "outcome", Outcome.class, Outcome.DRY_RUN);
        boolean dryRun = Boolean.TRUE.equals(m.get("dryRun"));
        if (outcome == Outcome.DONE && dryRun) {
            outcome = Outcome.DRY_RUN;
        }
        Object reason = m.get("reason");
        long freeze = longField(m, "writeFreezeMs");
        Object rawSteps = m.get("steps");
        if (!(rawSteps instanceof List<?> list)) {
            throw new IllegalArgumentException("cutover result: steps must be a list but is " + rawSteps);
        }
        List<Step> steps = new ArrayList<>(list.size());
        for (Object o : list) {
            if (!(o instanceof Map<?, ?> sm)) {
                throw new IllegalArgumentException("cutover result: each step must be an object but one is " + o);
            }
            @SuppressWarnings("unchecked")
            Map<String, ?> step = (Map<String, ?>) sm;
            Object name = step.get("name");
            Object detail = step.get("detail");
            steps.add(new Step(name == null ? null : name.toString(), enumField(step, "status", StepStatus.class, null),
                    longField(step, "ms"), detail == null ? "" : detail.toString()));
        }
        Object pause = m.get("poolerPauseMs");
        OptionalLong poolerPause = pause == null ? OptionalLong.empty() : OptionalLong.of(longField(m, "poolerPauseMs"));
        Object rawProbe = m.get("probe");
        Optional<Probe> probe = Optional.empty();
        if (rawProbe instanceof Map<?, ?> pm) {
            @SuppressWarnings("unchecked")
            Map<String, ?> typed = (Map<String, ?>) pm;
            probe = Optional.of(Probe.fromMap(typed));
        } else if (rawProbe != null) {
            throw new IllegalArgumentException("cutover result: probe must be an object but is " + rawProbe);
        }
        return new CutoverReport("", outcome, dryRun, Optional.ofNullable(reason).map(Object::toString), steps, freeze,
                poolerPause, probe);
    }

    /** @param notOnTheWire a constant the JSON form never holds */
    private static <E extends Enum<E>> E enumField(Map<String, ?> m, String key, Class<E> type, E notOnTheWire) {
        List<E> allowed = Arrays.stream(type.getEnumConstants()).filter(e -> e != notOnTheWire).toList();
        Object v = m.get(key);
        if (v != null) {
            for (E e : allowed) {
                if (e.name().equals(v.toString())) {
                    return e;
                }
            }
        }
        throw new IllegalArgumentException("cutover result: " + key + " must be one of " + allowed + " but is " + v);
    }

    private static long longField(Map<String, ?> m, String key) {
        Object v = m.get(key);
        if (v instanceof Number n) {
            return n.longValue();
        }
        throw new IllegalArgumentException("cutover result: " + key + " must be a number but is " + v);
    }
}
