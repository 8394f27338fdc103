package io.shardlift.ops.preflight;

import io.shardlift.ops.pooler.PoolerSwitch;
import io.shardlift.ops.preflight.Preflight.Domain;
import io.shardlift.ops.preflight.Preflight.Report;
import io.shardlift.core.spec.MigrationSpec;
import io.shardlift.ops.cutover.CutoverState;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * The PgBouncer instances of {@code pooler:}: that the cutover's switch can work and that its pause cannot turn
 * into client errors. Read-only: nothing is paused, reloaded or written. Without a {@code pooler:} section there
 * is nothing to check.
 */
final class PoolerCheck {

    private PoolerCheck() {
    }

    static void check(MigrationSpec spec, Report report) {
        PoolerSwitch.of(spec).ifPresent(sw -> sw.preflight(cutOver(spec)).forEach(c -> {
            if (c.ok()) {
                report.passed(c.message());
            } else {
                report.problem(Domain.POOLER, c.message());
            }
        }));
    }

    /**
     * Whether node 0 records the cutover as done (cut over, rolling back, completed): then the aliases lead to the
     * cluster by design, or, in a rollback a crash interrupted, to either side until the restart's recovery settles it. Unreadable (no
     * layout yet, node down) counts as not done; the node checks report why.
     */
    private static boolean cutOver(MigrationSpec spec) {
        if (spec.nodes().isEmpty()) {
            return false;
        }
        try (Connection c = spec.nodes().get(0).connect()) {
            // a rollback under way (crashed or not) may have left the aliases at either side: its recovery settles them
            return CutoverState.read(c).map(st -> java.util.EnumSet.of(CutoverState.State.CUT_OVER, CutoverState.State.ROLLING_BACK,
                    CutoverState.State.COMPLETED).contains(st.state())).orElse(false);
        } catch (SQLException | RuntimeException e) {
            return false;
        }
    }
}
