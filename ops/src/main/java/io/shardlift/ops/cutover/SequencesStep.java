package io.shardlift.ops.cutover;

import static io.shardlift.core.Sql.literal;

import io.shardlift.core.SourceException;
import io.shardlift.core.TargetException;
import io.shardlift.core.catalog.SequenceInfo;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * {@code sequences}: every node's sequences moved past the source's values, interleaved: node k continues at
 * base + k*inc, stepping N*inc, so no two nodes ever hand out the same value. The base is past the source's next
 * value (read in the fence transaction, the writes stopped) and past every node's own, so no sequence ever moves
 * backwards (a node that already handed out values, or one moved by an earlier attempt, keeps going forwards).
 * Harmless should the cutover roll back: the sequences are only further ahead.
 */
final class SequencesStep implements CutoverStep {

    @Override
    public String name() {
        return "sequences";
    }

    @Override
    public String run(CutoverContext ctx) {
        return move(ctx) + " (alongside verify)";
    }

    @Override
    public String dryRun(CutoverContext ctx) {
        return ctx.plan().sequences().size() + " sequences";
    }

    private static String move(CutoverContext ctx) {
        List<SequenceInfo> seqs = ctx.plan().sequences();
        if (seqs.isEmpty()) {
            return "no sequences";
        }
        long[] base = new long[seqs.size()];
        String read = seqs.stream().map(s -> "(SELECT CASE WHEN is_called THEN last_value + " + s.increment()
                + " ELSE last_value END FROM " + s.id().quoted() + ")").collect(Collectors.joining(", "));
        Connection fence = ctx.links().fence();
        synchronized (fence) {
            try (Statement st = fence.createStatement(); ResultSet rs = st.executeQuery("SELECT " + read)) {
                rs.next();
                for (int i = 0; i < base.length; i++) {
                    base[i] = rs.getLong(i + 1);
                }
            } catch (SQLException e) {
                throw new SourceException("source " + ctx.plan().spec().source().label() + ": reading sequences: " + e.getMessage(), e);
            }
        }
        long[] sourceNext = base.clone();
        // each node's next value, with the node's own (interleaved) increment
        String nodeRead = seqs.stream().map(s -> "(SELECT CASE WHEN q.is_called THEN q.last_value + p.seqincrement ELSE q.last_value END"
                + " FROM " + s.id().quoted() + " q, pg_catalog.pg_sequence p WHERE p.seqrelid = " + literal(s.id().quoted())
                + "::regclass)").collect(Collectors.joining(", "));
        List<CompletableFuture<long[]>> nexts = new ArrayList<>();
        for (int k = 0; k < ctx.plan().nodeCount(); k++) {
            int node = k;
            Connection c = ctx.links().nodeSeq(node);
            nexts.add(CompletableFuture.supplyAsync(() -> {
                synchronized (c) {
                    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT " + nodeRead)) {
                        rs.next();
                        long[] out = new long[seqs.size()];
                        for (int i = 0; i < out.length; i++) {
                            out[i] = rs.getLong(i + 1);
                        }
                        return out;
                    } catch (SQLException e) {
                        throw new TargetException("node " + node + ": reading sequences: " + e.getMessage(), e);
                    }
                }
            }, ctx.pool()));
        }
        for (CompletableFuture<long[]> f : nexts) {
            long[] next = join(f);
            for (int i = 0; i < base.length; i++) {
                base[i] = seqs.get(i).increment() > 0 ? Math.max(base[i], next[i]) : Math.min(base[i], next[i]);
            }
        }
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int k = 0; k < ctx.plan().nodeCount(); k++) {
            int node = k;
            String set = IntStream.range(0, seqs.size()).mapToObj(i -> "setval(" + literal(seqs.get(i).id().quoted())
                    + "::regclass, " + (base[i] + (long) node * seqs.get(i).increment()) + ", false)").collect(Collectors.joining(", "));
            Connection c = ctx.links().nodeSeq(node);
            all.add(CompletableFuture.runAsync(() -> {
                synchronized (c) {
                    try (Statement st = c.createStatement()) {
                        st.execute("SELECT " + set);
                    } catch (SQLException e) {
                        throw new TargetException("node " + node + ": moving sequences: " + e.getMessage(), e);
                    }
                }
            }, ctx.pool()));
        }
        all.forEach(SequencesStep::join);
        List<String> done = new ArrayList<>();
        for (int i = 0; i < seqs.size(); i++) {
            done.add(seqs.get(i).id() + " from " + base[i] + (base[i] == sourceNext[i] ? ""
                    : " (the nodes were already past the source's " + sourceNext[i] + ")"));
        }
        return String.join(", ", done);
    }

    /** The future's value, or its failure as thrown inside it. */
    static <T> T join(CompletableFuture<T> f) {
        try {
            return f.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
    }
}
