package io.shardlift.core.plan;

/**
 * One idempotent DDL statement for a node. {@code display} is what plans and logs show: the same SQL
 * with secrets (user-mapping passwords) masked.
 */
public record Ddl(String sql, String display) {

    public static Ddl of(String sql) {
        return new Ddl(sql, sql);
    }

    @Override
    public String toString() {
        return display;
    }
}
