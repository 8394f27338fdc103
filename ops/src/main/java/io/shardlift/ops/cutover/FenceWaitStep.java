package io.shardlift.ops.cutover;

import io.shardlift.core.TableId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * {@code fence-wait}: waits, without queueing behind anything, until no transaction older than
 * {@link Cutover.Options#quietAge} holds a lock on the migrated tables (refuses, naming it, if one stays past
 * {@link Cutover.Options#quietBound}), so that the LOCK that follows waits only for short transactions already in
 * flight instead of stalling every writer behind a long one.
 */
final class FenceWaitStep implements CutoverStep {

    /**
     * Transactions that hold a lock conflicting with EXCLUSIVE (anything but a plain read's) on a migrated table and
     * began more than {@code ?} ms ago, the oldest first. Sessions of other roles show no xact_start to a user
     * without pg_read_all_stats: those are not waited for here, the LOCK's timeout bounds them.
     */
    static final String HOLDERS = "SELECT a.pid, (extract(epoch FROM clock_timestamp() - a.xact_start) * 1000)::bigint,"
            + " coalesce(a.application_name, ''), coalesce(a.state, ''), coalesce(a.backend_type, '')"
            + " FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid"
            + " WHERE l.locktype = 'relation' AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())"
            + " AND l.relation = ANY (?::regclass[]) AND l.mode <> 'AccessShareLock' AND l.pid <> pg_backend_pid()"
            + " AND a.xact_start < clock_timestamp() - ? * interval '1 millisecond'"
            + " ORDER BY a.xact_start LIMIT 1";

    @Override
    public String name() {
        return "fence-wait";
    }

    @Override
    public boolean readOnly() {
        return true;
    }

    @Override
    public String run(CutoverContext ctx) throws Exception {
        return awaitQuiet(ctx) + "; writes flowing meanwhile";
    }

    /**
     * Polls until no transaction older than the quiet age holds the tables (the fence step asks again before each
     * later LOCK attempt); the time waited adds to {@link CutoverContext#quietWaitedMs}.
     *
     * @throws Refusal when one stays past the bound; nothing was fenced
     */
    static String awaitQuiet(CutoverContext ctx) throws SQLException, InterruptedException {
        Cutover.Options options = ctx.options();
        Connection source = ctx.links().source(0);
        long start = System.nanoTime();
        long deadline = start + options.quietBound().toNanos();
        int polls = 0;
        long longest = 0;
        try (PreparedStatement ps = source.prepareStatement(HOLDERS)) {
            // a write naming one partition of a partitioned table locks that partition, not the table
            ps.setArray(1, source.createArrayOf("text", ctx.plan().tables().stream().flatMap(tp -> tp.source().relations().stream())
                    .map(TableId::quoted).toArray()));
            ps.setLong(2, options.quietAge().toMillis());
            while (true) {
                polls++;
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        ctx.quietWaitedMs += (System.nanoTime() - start) / 1_000_000;
                        return polls == 1 ? "no transaction older than " + options.quietAge().toMillis() + " ms held the tables"
                                : "waited " + (System.nanoTime() - start) / 1_000_000 + " ms until no transaction older than "
                                + options.quietAge().toMillis() + " ms held the tables (the longest had held them " + longest + " ms)";
                    }
                    long age = rs.getLong(2);
                    longest = Math.max(longest, age);
                    if (System.nanoTime() > deadline) {
                        int pid = rs.getInt(1);
                        throw new Refusal("fence-wait", "a transaction on the source has held the migrated tables for " + age
                                + " ms: pid " + pid + " (" + (rs.getString(5).equals("client backend") ? "" : rs.getString(5) + ", ")
                                + "application_name '" + rs.getString(3) + "', state '" + rs.getString(4) + "'); the fence would"
                                + " stall every writer until it ends, so nothing was fenced: cut over once it"
                                + " has ended (or end it: SELECT pg_terminate_backend(" + pid + "))");
                    }
                }
                Thread.sleep(10);
            }
        }
    }
}
