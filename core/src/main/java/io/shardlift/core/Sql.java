package io.shardlift.core;

import java.util.List;
import java.util.stream.Collectors;

/** Quoting for SQL identifiers and literals. Every identifier shardlift writes into SQL goes through here. */
public final class Sql {

    private Sql() {
    }

    /** Always-quoted identifier: {@code my"col} becomes {@code "my""col"}. */
    public static String ident(String name) {
        return '"' + name.replace("\"", "\"\"") + '"';
    }

    /** Comma-separated quoted identifiers. */
    public static String idents(List<String> names) {
        return names.stream().map(Sql::ident).collect(Collectors.joining(", "));
    }

    /** Standard-conforming string literal: {@code it's} becomes {@code 'it''s'}. */
    public static String literal(String value) {
        return value == null ? "NULL" : "'" + value.replace("'", "''") + "'";
    }
}
