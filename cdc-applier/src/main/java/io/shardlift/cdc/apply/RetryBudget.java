package io.shardlift.cdc.apply;

import io.shardlift.core.SqlErrors;
import io.shardlift.core.TargetException;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How long a node may stay unreachable before the applier gives up: a visible budget, not an endless retry.
 * Backoff grows from 200 ms to 5 s; each retry is logged with what is left of the budget, and what is failing
 * right now is part of the applier's status. Errors are described by {@link SqlErrors}, and the exception is not
 * kept as a cause: a failed batch's own message quotes its rows, and a logged stack trace would print it.
 */
final class RetryBudget {

    private static final Logger log = LoggerFactory.getLogger(RetryBudget.class);

    private final Duration budget;
    private final Map<String, Failing> failing = new ConcurrentHashMap<>();
    private boolean stopped; // guarded by this

    /** A target failing since {@code since} (wall clock, for people) / {@code sinceNanos} (for the budget). */
    private record Failing(Instant since, long sinceNanos, int attempts, String error) {
    }

    RetryBudget(Duration budget) {
        this.budget = budget;
    }

    /**
     * @throws InterruptedException once {@link #stop()} was called: a closing applier gives up the retry at once
     *         instead of waiting out the backoff (up to 5 s a turn, for a budget of minutes)
     */
    void failed(String what, SQLException e) throws InterruptedException {
        long now = System.nanoTime();
        String error = SqlErrors.describe(e);
        Failing f = failing.compute(what, (k, old) -> old == null
                ? new Failing(Instant.now().truncatedTo(ChronoUnit.SECONDS), now, 1, error)
                : new Failing(old.since(), old.sinceNanos(), old.attempts() + 1, error));
        long spent = now - f.sinceNanos();
        if (spent > budget.toNanos()) {
            throw new TargetException(what + " unreachable for " + Duration.ofNanos(spent).toSeconds() + " s (retry budget "
                    + budget.toSeconds() + " s): " + error + " — bring it back and run the same command again");
        }
        long backoff = Math.min(5_000, 200L << Math.min(f.attempts() - 1, 5));
        log.warn("{}: {} — retry {} in {} ms ({} s of the {} s budget left)", what, error, f.attempts(), backoff,
                (budget.toNanos() - spent) / 1_000_000_000L, budget.toSeconds());
        synchronized (this) {
            long until = System.nanoTime() + backoff * 1_000_000L;
            for (long left = backoff; !stopped && left > 0; left = (until - System.nanoTime()) / 1_000_000L) {
                wait(left);
            }
            if (stopped) {
                throw new InterruptedException(what + ": the applier is closing; retried at the next start");
            }
        }
    }

    /**
     * Ends every retry now and refuses later ones: with a node down, a closing applier otherwise waited for its
     * writers' retries (`run` took over 30 s to stop on SIGTERM, then the stop's interrupt surfaced as a stack trace).
     */
    void stop() {
        synchronized (this) {
            stopped = true;
            notifyAll();
        }
    }

    void succeeded(String what) {
        Failing f = failing.remove(what);
        if (f != null) {
            log.info("{}: reachable again after {} retries", what, f.attempts());
        }
    }

    /** What is failing on {@code what} right now (as {@link #current()} words it), and for how many ms; empty if nothing. */
    Optional<Map.Entry<String, Long>> failing(String what) {
        Failing f = failing.get(what);
        return f == null ? Optional.empty()
                : Optional.of(Map.entry(describe(what, f), (System.nanoTime() - f.sinceNanos()) / 1_000_000));
    }

    /** What is failing now, the oldest first: target, error, since when, and what is left of the budget. */
    Optional<String> current() {
        return failing.entrySet().stream().min(Map.Entry.comparingByValue(java.util.Comparator.comparingLong(Failing::sinceNanos)))
                .map(e -> describe(e.getKey(), e.getValue()));
    }

    private String describe(String what, Failing f) {
        long left = Math.max(0, budget.toSeconds() - Duration.ofNanos(System.nanoTime() - f.sinceNanos()).toSeconds());
        return what + ": applying changes fails since " + f.since() + ": " + f.error() + " (retry " + f.attempts() + ", " + left
                + " s of the " + budget.toSeconds() + " s retry budget left)";
    }
}
