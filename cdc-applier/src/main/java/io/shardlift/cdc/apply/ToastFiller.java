package io.shardlift.cdc.apply;

import io.shardlift.cdc.event.ColumnCodec;
import io.shardlift.cdc.event.Row;
import io.shardlift.core.Sql;
import io.shardlift.core.SourceException;
import io.shardlift.core.spec.ConnInfo;
import io.shardlift.core.spec.LazyConnection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * Fills the TOASTed columns a change did not carry when the target has no old row to keep them from: the
 * new row of a primary-key change (decoded as DELETE + INSERT), or a row a widened table's update moved to
 * another partition. The value is read from the source now; it may be newer than the change, but every
 * later change of the row follows in the stream, so the row converges to the source's (the argument that
 * also makes a resumed copy correct). A row gone from the source is skipped: its DELETE follows too.
 */
final class ToastFiller implements ChangeRouter.RowFiller, ChangeRouter.RowReader, AutoCloseable {

    /** A column value as PostgreSQL text, read from the source: written verbatim. */
    record SourceText(String text) {
    }

    private final LazyConnection source;
    private final Map<TableApply, String> queries = new ConcurrentHashMap<>();
    long filled;

    ToastFiller(ConnInfo source) {
        this.source = new LazyConnection(source);
    }

    /** The row with every UNCHANGED column replaced by the source's current value, or null if the row is gone. */
    @Override
    public Row fill(TableApply t, Row after) {
        String sql = queries.computeIfAbsent(t, this::query);
        try {
            try (PreparedStatement ps = source.get().prepareStatement(sql)) {
                Row key = t.codec.keyOf(after);
                for (int k = 0; k < t.codec.keySize(); k++) {
                    ps.setString(k + 1, t.codec.keyText(key, k));
                }
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return null;
                    }
                    Object[] v = new Object[after.size()];
                    for (int i = 0; i < v.length; i++) {
                        if (after.isUnchanged(i)) {
                            String text = rs.getString(i + 1);
                            v[i] = text == null ? null : new SourceText(text);
                        } else {
                            v[i] = after.get(i);
                        }
                    }
                    filled++;
                    return Row.of(v);
                }
            }
        } catch (SQLException e) {
            close();
            throw new SourceException("source " + source.server().label() + ": cannot read the unchanged TOAST values of " + t.id()
                    + ": " + io.shardlift.core.SqlErrors.describe(e));
        }
    }

    private final Map<TableApply, String> currentQueries = new ConcurrentHashMap<>();

    /**
     * The whole row with the target key of {@code after}, as the source holds it now; null when it is gone. Looked up by
     * the change's own key first (its sharding key prunes the lookup to one partition; a source key lives in one place at
     * a time), then, when the row is not there, by the target key alone (every partition).
     */
    @Override
    public Row current(TableApply t, Row after) {
        Row key = t.codec.keyOf(after);
        String[] byOwnKey = new String[t.codec.keySize()];
        for (int k = 0; k < byOwnKey.length; k++) {
            byOwnKey[k] = t.codec.keyText(key, k);
        }
        Row found = readWhole(t, queries.computeIfAbsent(t, this::query), byOwnKey, after.size());
        if (found != null) {
            return found;
        }
        String[] byTargetKey = new String[t.targetKeyCols.length];
        for (int k = 0; k < byTargetKey.length; k++) {
            byTargetKey[k] = t.codec.text(after, t.targetKeyCols[k]);
        }
        return readWhole(t, currentQueries.computeIfAbsent(t, this::currentQuery), byTargetKey, after.size());
    }

    private Row readWhole(TableApply t, String sql, String[] params, int size) {
        try {
            try (PreparedStatement ps = source.get().prepareStatement(sql)) {
                for (int k = 0; k < params.length; k++) {
                    ps.setString(k + 1, params[k]);
                }
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return null;
                    }
                    Object[] v = new Object[size];
                    for (int i = 0; i < v.length; i++) {
                        String text = rs.getString(i + 1);
                        v[i] = text == null ? null : new SourceText(text);
                    }
                    filled++;
                    return Row.of(v);
                }
            }
        } catch (SQLException e) {
            close();
            throw new SourceException("source " + source.server().label() + ": cannot read the current row of " + t.id()
                    + ": " + io.shardlift.core.SqlErrors.describe(e));
        }
    }

    private String currentQuery(TableApply t) {
        List<String> cols = new ArrayList<>();
        for (ColumnCodec col : t.codec.columns()) {
            cols.add(Sql.ident(col.name()) + "::text");
        }
        String where = java.util.Arrays.stream(t.targetKeyCols)
                .mapToObj(i -> Sql.ident(t.codec.column(i).name()) + " = ?::" + t.codec.column(i).type())
                .collect(Collectors.joining(" AND "));
        return "SELECT " + String.join(", ", cols) + " FROM " + t.id().quoted() + " WHERE " + where;
    }

    private String query(TableApply t) {
        List<String> cols = new ArrayList<>();
        for (ColumnCodec col : t.codec.columns()) {
            cols.add(Sql.ident(col.name()) + "::text");
        }
        String where = java.util.stream.IntStream.range(0, t.codec.keySize())
                .mapToObj(k -> Sql.ident(t.codec.column(t.codec.keyIndex(k)).name()) + " = ?::" + t.codec.column(t.codec.keyIndex(k)).type())
                .collect(Collectors.joining(" AND "));
        return "SELECT " + String.join(", ", cols) + " FROM " + t.id().quoted() + " WHERE " + where;
    }

    @Override
    public void close() {
        source.close();
    }
}
