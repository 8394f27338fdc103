package io.shardlift.ops.cutover;

import io.shardlift.core.SourceException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * {@code fence}: LOCK the migrated tables on the source IN EXCLUSIVE MODE (reads go on), in the fence transaction that
 * stays open until the release. A LOCK that waits makes every writer queue behind it, so it is asked for right after
 * {@code fence-wait} found the tables quiet, with a lock_timeout long enough for the short transactions in flight. An
 * attempt that times out anyway (a transaction began just before it and ran long) stalled the writers for its
 * timeout; that stall is reported, the tables awaited quiet again, and the freeze counts from the first attempt.
 * The dry run takes the lock for real, to prove the fence can be taken, and rolls it back at once.
 */
final class FenceStep implements CutoverStep {

    @Override
    public String name() {
        return "fence";
    }

    @Override
    public boolean readOnly() {
        return true; // the dry run's lock is rolled back at once
    }

    @Override
    public String run(CutoverContext ctx) throws Exception {
        return lock(ctx);
    }

    @Override
    public String dryRun(CutoverContext ctx) throws Exception {
        String locked = lock(ctx);
        undo(ctx); // writers wait behind the lock: not a moment longer than the proof needs
        return locked + "; dry run: the lock is taken for real, to prove the fence can be taken, and released at once";
    }

    @Override
    public void undo(CutoverContext ctx) throws SQLException {
        Connection fence = ctx.links().fence();
        synchronized (fence) {
            fence.rollback();
        }
        if (ctx.isFenced()) {
            ctx.released(System.nanoTime());
        }
    }

    private String lock(CutoverContext ctx) throws SQLException, InterruptedException {
        Cutover.Options options = ctx.options();
        String tables = ctx.plan().tables().stream().map(tp -> tp.id().quoted()).collect(Collectors.joining(", "));
        Connection fence = ctx.links().fence();
        List<Long> stalls = new ArrayList<>();
        long first = 0;
        for (int attempt = 1; ; attempt++) {
            if (attempt > 1) {
                FenceWaitStep.awaitQuiet(ctx);
            }
            long at = System.nanoTime();
            if (first == 0) {
                first = at;
            }
            try (Statement st = fence.createStatement()) {
                st.execute("SAVEPOINT fence");
                st.execute("SET LOCAL lock_timeout = '" + options.lockTimeout().toMillis() + "ms'");
                st.execute("LOCK TABLE " + tables + " IN EXCLUSIVE MODE");
                st.execute("SET LOCAL lock_timeout = 0");
            } catch (SQLException e) {
                if (!"55P03".equals(e.getSQLState())) {
                    throw new SourceException("source " + ctx.plan().spec().source().label() + ": could not fence writes: "
                            + e.getMessage(), e);
                }
                stalls.add((System.nanoTime() - at) / 1_000_000);
                try (Statement st = fence.createStatement()) {
                    st.execute("ROLLBACK TO SAVEPOINT fence");
                }
                if (attempt >= options.lockAttempts()) {
                    throw new Refusal(name(), "the LOCK on the source's tables timed out " + attempt + " times after "
                            + options.lockTimeout().toMillis() + " ms (writers stalled " + stalls.stream().map(ms -> ms + " ms")
                            .collect(Collectors.joining(", ")) + "), each time a transaction that began just before it held"
                            + " them longer; nothing was fenced: cut over again, or when the writes are shorter");
                }
                continue;
            }
            // writers queue behind a LOCK that waits, so they stop at the first attempt: that is where the freeze
            // starts, the stalls of attempts that timed out included
            ctx.fenced(first);
            return "LOCK ... IN EXCLUSIVE MODE on " + ctx.plan().tables().size() + " tables granted "
                    + (System.nanoTime() - first) / 1_000_000 + " ms after the first attempt, " + attempt + " attempt(s)"
                    + (stalls.isEmpty() ? "" : " (" + stalls.size() + " timed out after "
                    + stalls.stream().map(ms -> ms + " ms").collect(Collectors.joining(", ")) + ", stalling writers that long;"
                    + " the freeze counts from the first; " + ctx.quietWaitedMs + " ms waiting for quiet tables in all)") + "; reads go on";
        }
    }
}
