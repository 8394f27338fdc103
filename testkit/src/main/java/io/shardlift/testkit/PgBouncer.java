package io.shardlift.testkit;

import java.util.List;
import java.util.Map;

/**
 * The test kit's name for the PgBouncer launcher, which lives in the embedded module because the demo starts one too
 * (the product must not depend on the test kit). The tests' {@code PgBouncer.start(...)} returns this type.
 */
public final class PgBouncer extends io.shardlift.embedded.PgBouncer {

    private PgBouncer(String name, List<String> includeLines, Map<String, String> settings, Map<String, String> users) {
        super(name, includeLines, settings, users);
    }

    /** See {@link io.shardlift.embedded.PgBouncer#start(String, List, Map)}. */
    public static PgBouncer start(String name, List<String> includeLines, Map<String, String> settings) {
        return start(name, includeLines, settings, Map.of("postgres", ""));
    }

    /** See {@link io.shardlift.embedded.PgBouncer#start(String, List, Map, Map)}. */
    public static PgBouncer start(String name, List<String> includeLines, Map<String, String> settings,
                                  Map<String, String> users) {
        return new PgBouncer(name, includeLines, settings, users);
    }
}
