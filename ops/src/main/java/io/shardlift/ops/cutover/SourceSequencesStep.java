package io.shardlift.ops.cutover;

import static io.shardlift.core.Sql.literal;

import io.shardlift.core.SourceException;
import io.shardlift.core.TargetException;
import io.shardlift.core.catalog.SequenceInfo;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.stream.Collectors;

/**
 * {@code sequences} (rollback): the source's sequences move past every value a node handed out, so the application back
 * on the source never reuses one. Sequences only move forwards: harmless should the rollback stop before its point of no
 * return.
 */
final class SourceSequencesStep implements CutoverStep {

    @Override
    public String name() {
        return "sequences";
    }

    @Override
    public String run(CutoverContext ctx) {
        List<SequenceInfo> seqs = ctx.plan().sequences();
        if (seqs.isEmpty()) {
            return "no sequences";
        }
        long[] next = new long[seqs.size()];
        String read = seqs.stream().map(s -> "(SELECT CASE WHEN q.is_called THEN q.last_value + p.seqincrement ELSE q.last_value END"
                + " FROM " + s.id().quoted() + " q, pg_catalog.pg_sequence p WHERE p.seqrelid = " + literal(s.id().quoted())
                + "::regclass)").collect(Collectors.joining(", "));
        for (int k = -1; k < ctx.plan().nodeCount(); k++) {
            Connection c = k < 0 ? ctx.links().source(0) : ctx.links().nodeSeq(k);
            synchronized (c) {
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT " + read)) {
                    rs.next();
                    for (int i = 0; i < next.length; i++) {
                        long v = rs.getLong(i + 1);
                        next[i] = k < 0 ? v : seqs.get(i).increment() > 0 ? Math.max(next[i], v) : Math.min(next[i], v);
                    }
                } catch (SQLException e) {
                    throw new TargetException((k < 0 ? "source" : "node " + k) + ": reading sequences: " + e.getMessage(), e);
                }
            }
        }
        String set = java.util.stream.IntStream.range(0, seqs.size()).mapToObj(i -> "setval(" + literal(seqs.get(i).id().quoted())
                + "::regclass, " + next[i] + ", false)").collect(Collectors.joining(", "));
        Connection source = ctx.links().source(0);
        synchronized (source) {
            try (Statement st = source.createStatement()) {
                st.execute("SELECT " + set);
            } catch (SQLException e) {
                throw new SourceException("source: moving sequences: " + e.getMessage(), e);
            }
        }
        return java.util.stream.IntStream.range(0, seqs.size()).mapToObj(i -> seqs.get(i).id() + " from " + next[i])
                .collect(Collectors.joining(", "));
    }

    @Override
    public String dryRun(CutoverContext ctx) {
        return "would move " + ctx.plan().sequences().size() + " source sequences past the nodes' values";
    }
}
