package io.shardlift.core.catalog;

/**
 * A CHECK or EXCLUDE constraint; {@code definition} is {@code pg_get_constraintdef}, e.g.
 * {@code CHECK ((range > 0))}.
 */
public record CheckInfo(String name, String definition, boolean exclusion, boolean noInherit) {
}
