package io.shardlift.ops.preflight;

import io.shardlift.ops.pooler.PoolerSwitch;
import io.shardlift.ops.preflight.Preflight.Domain;
import io.shardlift.ops.preflight.Preflight.Report;
import io.shardlift.core.spec.MigrationSpec;

/**
 * The PgBouncer instances of {@code pooler:}: that the cutover's switch can work and that its pause cannot turn
 * into client errors. Read-only: nothing is paused, reloaded or written. Without a {@code pooler:} section there
 * is nothing to check.
 */
final class PoolerCheck {

    private PoolerCheck() {
    }

    static void check(MigrationSpec spec, Report report) {
        PoolerSwitch.of(spec).ifPresent(sw -> sw.preflight().forEach(c -> {
            if (c.ok()) {
                report.passed(c.message());
            } else {
                report.problem(Domain.POOLER, c.message());
            }
        }));
    }
}
