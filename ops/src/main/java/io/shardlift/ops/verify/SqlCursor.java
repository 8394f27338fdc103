package io.shardlift.ops.verify;

import java.sql.ResultSet;
import java.sql.SQLException;

/** A drill-down statement's rows ({@code k0::text.., h[, rel]}) as a {@link RowCursor}. */
final class SqlCursor implements RowCursor {

    private final ResultSet rs;
    private final int keyColumns;
    private final int node;
    private final boolean withRelation;
    private final Endpoint endpoint;
    private final String what;
    private String[] key;
    private long hash;
    private String relation;

    /** @param what the read, for the message when the side fails mid-stream */
    SqlCursor(ResultSet rs, int keyColumns, Endpoint endpoint, String what) {
        this.rs = rs;
        this.keyColumns = keyColumns;
        this.node = endpoint.node();
        this.withRelation = !endpoint.source();
        this.endpoint = endpoint;
        this.what = what;
    }

    @Override
    public boolean next() {
        try {
            if (!rs.next()) {
                key = null;
                return false;
            }
            String[] k = new String[keyColumns];
            for (int i = 0; i < keyColumns; i++) {
                k[i] = rs.getString(i + 1);
            }
            key = k;
            hash = rs.getLong(keyColumns + 1);
            relation = withRelation ? rs.getString(keyColumns + 2) : null;
            return true;
        } catch (SQLException e) {
            throw endpoint.failure(what, e);
        }
    }

    @Override
    public String[] key() {
        return key;
    }

    @Override
    public long hash() {
        return hash;
    }

    @Override
    public int node() {
        return node;
    }

    @Override
    public String relation() {
        return relation;
    }
}
