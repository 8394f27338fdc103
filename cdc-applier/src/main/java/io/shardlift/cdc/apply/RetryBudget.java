package io.shardlift.cdc.apply;

import io.shardlift.router.TargetException;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How long a node may stay unreachable before the applier gives up: a visible budget, not an endless retry.
 * Backoff grows from 200 ms to 5 s; each retry is logged with what is left of the budget.
 */
final class RetryBudget {

    private static final Logger log = LoggerFactory.getLogger(RetryBudget.class);

    private final Duration budget;
    private final Map<String, Long> failingSince = new ConcurrentHashMap<>();
    private final Map<String, Integer> attempts = new ConcurrentHashMap<>();

    RetryBudget(Duration budget) {
        this.budget = budget;
    }

    void failed(String what, SQLException e) throws InterruptedException {
        long now = System.nanoTime();
        long since = failingSince.computeIfAbsent(what, k -> now);
        int attempt = attempts.merge(what, 1, Integer::sum);
        long spent = now - since;
        if (spent > budget.toNanos()) {
            throw new TargetException(what + " unreachable for " + Duration.ofNanos(spent).toSeconds() + " s (retry budget "
                    + budget.toSeconds() + " s): " + e.getMessage() + " — bring it back and run the same command again", e);
        }
        long backoff = Math.min(5_000, 200L << Math.min(attempt - 1, 5));
        log.warn("{}: {} — retry {} in {} ms ({} s of the {} s budget left)", what, e.getMessage(), attempt, backoff,
                (budget.toNanos() - spent) / 1_000_000_000L, budget.toSeconds());
        Thread.sleep(backoff);
    }

    void succeeded(String what) {
        if (failingSince.remove(what) != null) {
            log.info("{}: reachable again after {} retries", what, attempts.remove(what));
        }
    }
}
