package io.shardlift.core.catalog;

import java.util.Optional;

/**
 * One column of a source table as the catalog describes it.
 *
 * @param type          SQL type as {@code format_type} renders it with an empty search_path (user types schema-qualified)
 * @param typname       {@code pg_type.typname} of the column's type (of the base type for domains)
 * @param typtype       {@code pg_type.typtype}: b base, e enum, d domain, c composite, r range
 * @param typeSchema    schema of the type; {@code pg_catalog} for built-ins
 * @param defaultExpr   default expression, schema-qualified; empty for none (and for identity columns)
 * @param identity      {@code a} always, {@code d} by default, {@code 0} when not an identity column
 * @param generatedExpr expression of a stored generated column; empty when not generated
 * @param collation     schema-qualified collation when it differs from the type's default
 * @param collationDeterministic false for nondeterministic (ICU) collations, which hash differently
 * @param typeExtension extension that owns the type, empty for built-ins and user types
 */
public record ColumnInfo(
        String name,
        int attnum,
        String type,
        String typname,
        char typtype,
        String typeSchema,
        boolean notNull,
        Optional<String> defaultExpr,
        char identity,
        Optional<String> generatedExpr,
        Optional<String> collation,
        boolean collationDeterministic,
        Optional<String> typeExtension) {

    public boolean isIdentity() {
        return identity == 'a' || identity == 'd';
    }

    public boolean isGenerated() {
        return generatedExpr.isPresent();
    }

    public boolean isBuiltinType() {
        return "pg_catalog".equals(typeSchema);
    }
}
