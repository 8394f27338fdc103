package io.shardlift.ops.cutover;

import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Named places in the cutover where a crash test makes the process stop and wait, so it can be killed exactly
 * there ({@code SHARDLIFT_FAILPOINTS=cutover.drain,...}). Off unless that variable names them; never set it in
 * production.
 */
final class Failpoints {

    private static final Logger log = LoggerFactory.getLogger(Failpoints.class);
    static final String ENV = "SHARDLIFT_FAILPOINTS";
    private static final Set<String> ENABLED = parse(System.getenv(ENV));

    private Failpoints() {
    }

    static Set<String> parse(String value) {
        if (value == null || value.isBlank()) {
            return Set.of();
        }
        return Arrays.stream(value.split(",")).map(String::trim).filter(s -> !s.isEmpty()).collect(Collectors.toUnmodifiableSet());
    }

    /** Waits here until the thread is interrupted, if {@code name} is enabled. */
    static void hang(String name) throws InterruptedException {
        if (ENABLED.contains(name)) {
            log.warn("failpoint {} reached ({}): waiting here until the process is stopped", name, ENV);
            Thread.sleep(Long.MAX_VALUE);
        }
    }
}
