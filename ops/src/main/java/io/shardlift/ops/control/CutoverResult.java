package io.shardlift.ops.control;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What one cutover (or dry run) did: its outcome, the reason when it did not cut over, each named step
 * with its status and duration, and how long writes on the source were frozen. Its JSON form
 * ({@link #toMap()}, {@link #fromMap(Map)}) is the body of {@code POST /cutover} and part of the interface.
 *
 * @param outcome       DONE, REFUSED (a gate said no; nothing changed) or FAILED
 * @param dryRun        whether this was a dry run
 * @param reason        why it did not cut over; null when DONE
 * @param steps         the steps in the order they ran (or would have run)
 * @param writeFreezeMs how long writes on the source were blocked, 0 when they never were
 */
public record CutoverResult(Outcome outcome, boolean dryRun, String reason, List<Step> steps, long writeFreezeMs) {

    public enum Outcome {
        /** Cut over (or, for a dry run, every step would have run). */
        DONE,
        /** A gate refused before anything changed; the reason says what to wait for. */
        REFUSED,
        /** A step failed; the steps say how far it got and what was rolled back. */
        FAILED
    }

    public enum StepStatus {
        /** Ran and succeeded. */
        DONE,
        /** Walked in a dry run: checked, nothing changed. */
        DRY_RUN,
        /** Already done by an earlier attempt (steps are idempotent). */
        SKIPPED,
        /** A gate that said no. */
        REFUSED,
        /** Ran and failed. */
        FAILED,
        /** Undone after a later step failed. */
        ROLLED_BACK,
        /** Not reached. */
        NOT_RUN
    }

    /**
     * @param name   a stable step name, e.g. {@code precheck-lag}, {@code fence-writes}
     * @param status what became of it
     * @param ms     how long it took
     * @param detail what it saw or did, for the operator ("lag 0.4 s, allowed 5 s"); may be empty
     */
    public record Step(String name, StepStatus status, long ms, String detail) {

        public Step {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("a cutover step needs a name");
            }
            Objects.requireNonNull(status, "status");
            if (ms < 0) {
                throw new IllegalArgumentException("step " + name + ": ms must be >= 0 but is " + ms);
            }
            detail = detail == null ? "" : detail;
        }

        public static Step of(String name, StepStatus status, long ms) {
            return new Step(name, status, ms, "");
        }
    }

    public CutoverResult {
        Objects.requireNonNull(outcome, "outcome");
        steps = List.copyOf(Objects.requireNonNull(steps, "steps"));
        if (outcome == Outcome.DONE) {
            if (reason != null && !reason.isBlank()) {
                throw new IllegalArgumentException("a cutover that is DONE has no reason, but got: " + reason);
            }
            reason = null;
        } else if (reason == null || reason.isBlank()) {
            throw new IllegalArgumentException("a cutover that is " + outcome + " needs a reason");
        }
        if (writeFreezeMs < 0) {
            throw new IllegalArgumentException("writeFreezeMs must be >= 0 but is " + writeFreezeMs);
        }
    }

    public static CutoverResult done(boolean dryRun, List<Step> steps, long writeFreezeMs) {
        return new CutoverResult(Outcome.DONE, dryRun, null, steps, writeFreezeMs);
    }

    public static CutoverResult refused(boolean dryRun, String reason, List<Step> steps) {
        return new CutoverResult(Outcome.REFUSED, dryRun, reason, steps, 0);
    }

    public static CutoverResult failed(boolean dryRun, String reason, List<Step> steps, long writeFreezeMs) {
        return new CutoverResult(Outcome.FAILED, dryRun, reason, steps, writeFreezeMs);
    }

    public boolean ok() {
        return outcome == Outcome.DONE;
    }

    /** The steps' durations added up. */
    public long stepsMs() {
        return steps.stream().mapToLong(Step::ms).sum();
    }

    /** The JSON form: outcome, ok, dryRun, reason, writeFreezeMs, stepsMs, steps[name, status, ms, detail]. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("outcome", outcome.name());
        m.put("ok", ok());
        m.put("dryRun", dryRun);
        m.put("reason", reason);
        m.put("writeFreezeMs", writeFreezeMs);
        m.put("stepsMs", stepsMs());
        List<Map<String, Object>> s = new ArrayList<>(steps.size());
        for (Step step : steps) {
            Map<String, Object> sm = new LinkedHashMap<>();
            sm.put("name", step.name());
            sm.put("status", step.status().name());
            sm.put("ms", step.ms());
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
    public static CutoverResult fromMap(Map<String, ?> m) {
        Outcome outcome = enumField(m, "outcome", Outcome.class);
        boolean dryRun = Boolean.TRUE.equals(m.get("dryRun"));
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
            steps.add(new Step(name == null ? null : name.toString(), enumField(step, "status", StepStatus.class),
                    longField(step, "ms"), detail == null ? "" : detail.toString()));
        }
        return new CutoverResult(outcome, dryRun, reason == null ? null : reason.toString(), steps, freeze);
    }

    private static <E extends Enum<E>> E enumField(Map<String, ?> m, String key, Class<E> type) {
        Object v = m.get(key);
        if (v != null) {
            for (E e : type.getEnumConstants()) {
                if (e.name().equals(v.toString())) {
                    return e;
                }
            }
        }
        throw new IllegalArgumentException("cutover result: " + key + " must be one of "
                + java.util.Arrays.toString(type.getEnumConstants()) + " but is " + v);
    }

    private static long longField(Map<String, ?> m, String key) {
        Object v = m.get(key);
        if (v instanceof Number n) {
            return n.longValue();
        }
        throw new IllegalArgumentException("cutover result: " + key + " must be a number but is " + v);
    }
}
