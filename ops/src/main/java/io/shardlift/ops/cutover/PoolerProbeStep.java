package io.shardlift.ops.cutover;

import io.shardlift.core.Sql;
import io.shardlift.core.spec.ConnInfo;
import io.shardlift.ops.pooler.PoolerProbe;
import io.shardlift.ops.pooler.PoolerSwitch;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;

/**
 * {@code pooler-probe} (with a {@code pooler:} section), just before {@code pooler-pause}: starts the cutover probe
 * ({@link PoolerProbe}), a writer and a reader through every switched alias, so the report says what a client felt
 * across the pause and the switch; {@code pooler-resume} stops it after a short tail. Its table,
 * {@code shardlift.cutover_probe}, is created first on the source and on the target node, each copy answering with its
 * side. The probe only observes: if it cannot get through PgBouncer, the cutover goes on without it and says why. The
 * dry run probes as well (it pauses too); the probe's table is shardlift's own, as its markers are, and no data of the
 * application's is touched.
 */
final class PoolerProbeStep implements CutoverStep {

    /** How long the probe may take to get its first statements through before the cutover goes on without it. */
    private static final Duration FIRST_STATEMENT = Duration.ofSeconds(5);

    private final PoolerSwitch pooler;

    PoolerProbeStep(PoolerSwitch pooler) {
        this.pooler = pooler;
    }

    @Override
    public String name() {
        return "pooler-probe";
    }

    @Override
    public String run(CutoverContext ctx) throws Exception {
        ConnInfo source = ctx.plan().spec().source();
        ConnInfo node = ctx.plan().spec().nodes().get(pooler.spec().targetNode());
        // on a connection of its own, committed at once: on the cutover's source connection the table could be
        // created inside its open transaction, and the probe's first write waited on that lock until the dry run ended
        try (Connection c = source.connect(); Statement st = c.createStatement()) {
            st.execute(String.format(PoolerProbe.TABLE_DDL, Sql.literal("source")));
        }
        try (Connection c = node.connect(); Statement st = c.createStatement()) {
            st.execute(String.format(PoolerProbe.TABLE_DDL, Sql.literal("cluster")));
            if (!node.user().equals(source.user())) {
                // after the switch PgBouncer logs in to the node as the probe's user, the source's, if that role exists there
                st.execute("DO $g$ BEGIN IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = " + Sql.literal(source.user())
                        + ") THEN GRANT USAGE ON SCHEMA \"shardlift\" TO " + Sql.ident(source.user())
                        + "; GRANT SELECT, INSERT, UPDATE ON \"shardlift\".\"cutover_probe\" TO " + Sql.ident(source.user())
                        + "; END IF; END $g$");
            }
        }
        PoolerProbe p = pooler.startProbe(ctx.id());
        Optional<String> stuck = p.awaitFirst(FIRST_STATEMENT);
        if (stuck.isPresent()) {
            p.close();
            return "not probing: the probe could not get through PgBouncer (" + stuck.get() + "); it logs in as "
                    + source.user() + " of migrate.connstr, whom PgBouncer must accept; the cutover goes on without it";
        }
        ctx.probeStarted(p);
        return "a writer (shardlift.cutover_probe) and a reader (SELECT 1) through each alias, as " + source.user()
                + ", until pooler-resume";
    }

    /** The probe only observes, and writes only in shardlift's own table: the dry run runs it too. */
    @Override
    public boolean readOnly() {
        return true;
    }

    @Override
    public void undo(CutoverContext ctx) throws Exception {
        ctx.stopProbe(PoolerResumeStep.TAIL); // after the pause's undo (latest first): the tail sees the clients go on
    }
}
