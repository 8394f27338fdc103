package io.shardlift.ops.preflight;

import io.shardlift.ops.ExitCodes;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.spec.MigrationSpec;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Every precondition of a command that can be checked without writing anything: on the source, on every node,
 * on the Kafka broker, at the control plane's listen address and on the PgBouncer instances of {@code pooler:}. Each check quotes what it saw and says what to
 * do; every problem is reported at once. {@code plan} runs the same checks as {@code run} and prints them; the
 * commands that write ({@code schema}, {@code snapshot}, {@code run}) refuse to start while any is found.
 */
public final class Preflight {

    /** What a command is about to use, hence what must be checked before it writes. */
    public enum Scope {
        /** {@code schema}: the source's catalog and every node. */
        SCHEMA(false, false),
        /** {@code snapshot}: also the source's replication (wal_level, role, slot, publication, privileges). */
        SNAPSHOT(true, false),
        /** {@code run}, and {@code plan} as its dry twin: also the broker and the control plane's listen address. */
        RUN(true, true);

        final boolean replication;
        final boolean streaming;

        Scope(boolean replication, boolean streaming) {
            this.replication = replication;
            this.streaming = streaming;
        }
    }

    /** Where a problem is; decides the exit code. */
    public enum Domain {
        /** The spec, or the source schema as the spec asks to lay it out. */
        SPEC(ExitCodes.CONFIG),
        /** control.listen (and its TLS files): fixed in the spec too. */
        CONTROL(ExitCodes.CONFIG),
        SOURCE(ExitCodes.SOURCE),
        NODE(ExitCodes.TARGET),
        BROKER(ExitCodes.BROKER),
        /** The PgBouncer instances of {@code pooler:}, which sit in front of the source. */
        POOLER(ExitCodes.SOURCE);

        final int exitCode;

        Domain(int exitCode) {
            this.exitCode = exitCode;
        }
    }

    /** One problem: where, what was seen and what to do, as one line for the operator. */
    public record Finding(Domain domain, String message) {
        @Override
        public String toString() {
            return message;
        }
    }

    /** What the preflight saw: the problems, and what was checked and found fine. */
    public static final class Report {
        private final List<Finding> problems = Collections.synchronizedList(new ArrayList<>());
        private final List<String> passed = Collections.synchronizedList(new ArrayList<>());
        private volatile boolean sourceUnreachable;

        void sourceUnreachable() {
            sourceUnreachable = true;
        }

        /** True when the source could not even be connected to (the planner's own failure then says the same). */
        public boolean sourceReachable() {
            return !sourceUnreachable;
        }

        void problem(Domain domain, String message) {
            problems.add(new Finding(domain, message));
        }

        void passed(String what) {
            passed.add(what);
        }

        /** Adds problems found elsewhere (the planner's), so they are reported with the rest. */
        public Report add(Domain domain, List<String> messages) {
            messages.forEach(m -> problem(domain, m));
            return this;
        }

        public List<Finding> problems() {
            synchronized (problems) {
                return problems.stream().sorted(Comparator.comparing(Finding::domain)).toList();
            }
        }

        public boolean ok() {
            return problems.isEmpty();
        }

        /** The smallest exit code among the problems' domains (spec before source before nodes before broker). */
        public int exitCode() {
            return problems().stream().mapToInt(f -> f.domain().exitCode).min().orElse(ExitCodes.OK);
        }

        public boolean has(Domain domain) {
            return problems().stream().anyMatch(f -> f.domain() == domain);
        }

        /** The section {@code plan} prints. */
        public void print(PrintWriter out) {
            List<Finding> found = problems();
            out.printf("%npreflight: %s%n", found.isEmpty() ? "every check passed" : found.size() + (found.size() == 1
                    ? " problem" : " problems") + " (nothing was written)");
            found.forEach(f -> out.println("  x " + f.message()));
            synchronized (passed) {
                passed.stream().sorted().forEach(p -> out.println("  ok " + p));
            }
        }

        /** Throws {@link Refused} when anything was found. */
        public void throwIfProblems() {
            if (!ok()) {
                throw new Refused(this);
            }
        }
    }

    /** A command refused before writing anything; the message lists every problem. */
    public static final class Refused extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final transient Report report;

        Refused(Report report) {
            super(render(report));
            this.report = report;
        }

        public int exitCode() {
            return report.exitCode();
        }

        public Report report() {
            return report;
        }

        private static String render(Report report) {
            List<Finding> found = report.problems();
            return found.stream().map(f -> "  - " + f.message()).collect(Collectors.joining("\n",
                    "preflight found " + found.size() + (found.size() == 1 ? " problem" : " problems")
                            + "; nothing was written anywhere:\n", ""));
        }
    }

    private Preflight() {
    }

    /**
     * After a command failed: the slot it leaves on the source, if there is one, and how to resume or drop it.
     * A slot left behind retains WAL on the source, so it is never left silently.
     */
    public static Optional<String> slotLeftBehind(MigrationSpec spec) {
        return SlotNote.read(spec);
    }

    /**
     * Runs every check {@code scope} needs, read-only. {@code plan} is empty when the source could not be planned
     * (unreachable, or the planner refused): the checks that need the layout are then left out, the others run.
     *
     * @param dataDir where the embedded broker keeps its data ({@code run --data-dir})
     */
    public static Report check(MigrationSpec spec, Optional<ClusterPlan> plan, Scope scope, Path dataDir) {
        Report report = new Report();
        Thread nodes = new Thread(() -> NodeChecks.check(spec, plan, scope.streaming, report), "shardlift-preflight-nodes");
        nodes.setDaemon(true);
        nodes.start();
        SourceChecks.check(spec, plan, scope, report);
        if (scope.streaming) {
            BrokerCheck.check(spec.kafka(), dataDir, spec.nodes().get(0), report);
            ListenCheck.check(spec.control(), report);
            PoolerCheck.check(spec, report);
        }
        try {
            nodes.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted during the preflight", e);
        }
        return report;
    }
}
