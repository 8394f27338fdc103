package io.shardlift.snapshotter;

import io.shardlift.core.SourceException;
import io.shardlift.core.Sql;
import io.shardlift.core.ledger.CopyLedger.Chunk;
import io.shardlift.core.plan.TablePlan;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Splits a table into key ranges of about {@code chunkRows} rows on its first primary-key column, from
 * quantiles of a block sample (cheap on any size, robust to skew and gaps in the key).
 */
final class ChunkPlanner {

    /** Rows to sample for the quantiles. */
    static final long SAMPLE_ROWS = 100_000;

    private ChunkPlanner() {
    }

    record Plan(String keyColumn, List<Chunk> chunks, long estimatedRows) {
    }

    static Plan plan(Connection source, TablePlan table, long chunkRows) {
        String key = table.source().primaryKey().orElseThrow().columns().get(0);
        long estimated = Math.max(table.source().estimatedRows(), table.source().totalBytes() / 128);
        int wanted = (int) Math.min(10_000, Math.max(1, (estimated + chunkRows - 1) / chunkRows));
        if (wanted <= 1) {
            return new Plan(key, List.of(Chunk.whole()), estimated);
        }
        double pct = Math.min(100.0, Math.max(0.01, 100.0 * SAMPLE_ROWS / Math.max(1, estimated)));
        Double[] fractions = new Double[wanted - 1];
        for (int i = 1; i < wanted; i++) {
            fractions[i - 1] = (double) i / wanted;
        }
        String sql = "SELECT percentile_disc(?::float8[]) WITHIN GROUP (ORDER BY " + Sql.ident(key) + ")::text[] FROM "
                + table.id().quoted() + " TABLESAMPLE SYSTEM (" + pct + ")";
        List<String> bounds = new ArrayList<>();
        try (PreparedStatement ps = source.prepareStatement(sql)) {
            ps.setArray(1, source.createArrayOf("float8", fractions));
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    Array arr = rs.getArray(1);
                    if (arr != null) {
                        for (Object o : (Object[]) arr.getArray()) {
                            String b = (String) o;
                            if (b != null && (bounds.isEmpty() || !bounds.get(bounds.size() - 1).equals(b))) {
                                bounds.add(b);
                            }
                        }
                    }
                }
            }
        } catch (SQLException e) {
            throw new SourceException("source: cannot sample " + table.id() + " to split it into chunks: " + e.getMessage(), e);
        }
        if (bounds.isEmpty()) {
            return new Plan(key, List.of(Chunk.whole()), estimated);
        }
        List<Chunk> chunks = new ArrayList<>();
        Optional<String> lo = Optional.empty();
        for (String b : bounds) {
            chunks.add(new Chunk(chunks.size(), lo, Optional.of(b)));
            lo = Optional.of(b);
        }
        chunks.add(new Chunk(chunks.size(), lo, Optional.empty()));
        return new Plan(key, chunks, estimated);
    }
}
