package io.shardlift.ops.control;

import io.shardlift.ops.cutover.CutoverReport;
import io.shardlift.ops.cutover.CutoverReport.Step;
import io.shardlift.ops.cutover.CutoverReport.StepStatus;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/** A backend the tests steer: what it answers, and a record of every cutover call and the thread it ran on. */
final class TestBackend implements ControlBackend {

    volatile String phase;
    volatile boolean ready;
    volatile RuntimeException statusFailure;
    /** When set, what status() answers (made on each call, so it can move with time). */
    volatile java.util.function.Supplier<Map<String, Object>> statusAnswer;
    /** When set, what cutoverState() answers. */
    volatile Map<String, Object> cutoverStateAnswer;
    volatile Function<Boolean, CutoverReport> cutover;
    volatile Exception cutoverFailure;
    /** When set, cutover() counts {@code entered} down and waits for {@code release}. */
    volatile CountDownLatch entered;
    volatile CountDownLatch release;
    final List<Boolean> cutoverCalls = new CopyOnWriteArrayList<>();
    final List<Boolean> rollbackCalls = new CopyOnWriteArrayList<>();
    volatile int completeCalls;
    /** When set, rollback() and complete() refuse as the durable state would (409). */
    volatile boolean windowClosed;
    final List<String> cutoverThreads = new CopyOnWriteArrayList<>();
    volatile boolean interrupted;
    volatile boolean finished;

    TestBackend() {
        reset();
    }

    void reset() {
        phase = "COPYING";
        ready = false;
        statusFailure = null;
        statusAnswer = null;
        cutoverStateAnswer = null;
        cutover = TestBackend::steps;
        cutoverFailure = null;
        entered = null;
        release = null;
        cutoverCalls.clear();
        rollbackCalls.clear();
        completeCalls = 0;
        windowClosed = false;
        cutoverThreads.clear();
        interrupted = false;
        finished = false;
    }

    static CutoverReport steps(boolean dryRun) {
        StepStatus s = dryRun ? StepStatus.DRY_RUN : StepStatus.DONE;
        return CutoverReport.done(dryRun, List.of(new Step("precheck-lag", s, 2, "lag 0.1 s, allowed 5 s"),
                Step.of("fence-writes", s, 15), Step.of("drain", s, 230), Step.of("verify", s, 40),
                Step.of("move-sequences", s, 5), Step.of("install-write-fence", s, 3)), dryRun ? 0 : 290);
    }

    @Override
    public String phase() {
        return phase;
    }

    @Override
    public Map<String, Object> status() {
        if (statusFailure != null) {
            throw statusFailure;
        }
        if (statusAnswer != null) {
            return statusAnswer.get();
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("phase", phase);
        m.put("tables", List.of(
                Map.of("table", "public.devices", "state", "done", "rows", 1200),
                Map.of("table", "public.events", "state", "copying", "rows", 50000)));
        m.put("lag", Map.of("walBytes", 4096, "seconds", 0.25));
        m.put("lastError", null);
        return m;
    }

    @Override
    public CutoverReport rollback(boolean dryRun) throws Exception {
        rollbackCalls.add(dryRun);
        if (windowClosed) {
            throw new CutoverConflict("rollback refused: the rollback window was closed", Map.of("state", "COMPLETED"));
        }
        return steps(dryRun);
    }

    @Override
    public Map<String, Object> complete() throws Exception {
        completeCalls++;
        if (windowClosed) {
            throw new CutoverConflict("complete refused: the rollback window was closed already", Map.of("state", "COMPLETED"));
        }
        windowClosed = true;
        return Map.of("state", "COMPLETED", "leftOnSource", List.of("the migrated tables, fenced"));
    }

    @Override
    public boolean ready() {
        return ready;
    }

    @Override
    public CutoverReport cutover(boolean dryRun) throws Exception {
        cutoverCalls.add(dryRun);
        cutoverThreads.add(Thread.currentThread().getName());
        CountDownLatch in = entered;
        if (in != null) {
            in.countDown();
            try {
                if (!release.await(20, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("the test never released the cutover");
                }
            } catch (InterruptedException e) {
                interrupted = true;
                throw e;
            }
        }
        if (cutoverFailure != null) {
            throw cutoverFailure;
        }
        CutoverReport r = cutover.apply(dryRun);
        finished = true;
        return r;
    }

    @Override
    public Map<String, Object> cutoverState() {
        if (cutoverStateAnswer != null) {
            return cutoverStateAnswer;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("state", cutoverCalls.isEmpty() ? "NOT_STARTED" : "DONE");
        m.put("calls", cutoverCalls.size());
        return m;
    }
}
