package io.shardlift.core.spec;

import java.util.Objects;

/**
 * One thing wrong with a migration spec: the key where it was found (as a path, e.g.
 * {@code migrate.schemas[0].tables[2].distributedby}), the value as written (already rendered for
 * display: strings in double quotes, {@code (missing)} when absent, {@code ******} for secrets) and the
 * rule it breaks together with the fix. The rendered text is part of shardlift's interface.
 */
public record Problem(String key, String value, String rule) {

    /** Shown as the value of a key that is not there at all. */
    public static final String MISSING = "(missing)";

    public Problem {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(rule, "rule");
    }

    /** {@code key: value — rule and fix}. */
    @Override
    public String toString() {
        return key + ": " + value + " — " + rule;
    }
}
