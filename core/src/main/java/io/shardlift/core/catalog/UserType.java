package io.shardlift.core.catalog;

import static io.shardlift.core.Sql.ident;

import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * A user-defined type that migrated columns use, directly or through another one (a domain's base type, a composite
 * type's attribute, a range's subtype, an array's element), created on every node before the tables, in dependency
 * order. Every type and expression inside is as the catalog printed it with an empty search_path: schema-qualified.
 */
public sealed interface UserType {

    String schema();

    String name();

    /** The type as {@code format_type} prints it, e.g. {@code public.mood}: how columns name it. */
    default String qualified() {
        return ident(schema()) + "." + ident(name());
    }

    /** The CREATE statement; idempotent on a node that already has the type (a re-run of {@code schema}). */
    String createSql();

    /** What the plan shows. */
    String describe();

    private static String idempotent(String create) {
        return "DO $$ BEGIN " + create + "; EXCEPTION WHEN duplicate_object THEN NULL; END $$";
    }

    record Enum(String schema, String name, List<String> labels) implements UserType {
        public Enum {
            labels = List.copyOf(labels);
        }

        @Override
        public String createSql() {
            return idempotent("CREATE TYPE " + qualified() + " AS ENUM ("
                    + labels.stream().map(io.shardlift.core.Sql::literal).collect(Collectors.joining(", ")) + ")");
        }

        @Override
        public String describe() {
            return "enum " + qualified() + " (" + labels.size() + " labels)";
        }
    }

    /** @param checks each as {@code pg_get_constraintdef} prints it, with its name */
    record Domain(String schema, String name, String baseType, Optional<String> collation, Optional<String> defaultExpr,
                  boolean notNull, List<Check> checks) implements UserType {
        public Domain {
            checks = List.copyOf(checks);
        }

        public record Check(String name, String definition) {
        }

        @Override
        public String createSql() {
            return idempotent("CREATE DOMAIN " + qualified() + " AS " + baseType
                    + collation.map(c -> " COLLATE " + c).orElse("")
                    + defaultExpr.map(d -> " DEFAULT " + d).orElse("")
                    + (notNull ? " NOT NULL" : "")
                    + checks.stream().map(c -> " CONSTRAINT " + ident(c.name()) + " " + c.definition()).collect(Collectors.joining()));
        }

        @Override
        public String describe() {
            return "domain " + qualified() + " over " + baseType + (checks.isEmpty() ? "" : " with " + checks.size() + " check(s)");
        }
    }

    record Composite(String schema, String name, List<Attribute> attributes) implements UserType {
        public Composite {
            attributes = List.copyOf(attributes);
        }

        public record Attribute(String name, String type, Optional<String> collation) {
        }

        @Override
        public String createSql() {
            return idempotent("CREATE TYPE " + qualified() + " AS (" + attributes.stream()
                    .map(a -> ident(a.name()) + " " + a.type() + a.collation().map(c -> " COLLATE " + c).orElse(""))
                    .collect(Collectors.joining(", ")) + ")");
        }

        @Override
        public String describe() {
            return "composite type " + qualified() + " (" + attributes.size() + " attributes)";
        }
    }

    record Range(String schema, String name, String subtype, Optional<String> collation) implements UserType {
        @Override
        public String createSql() {
            return idempotent("CREATE TYPE " + qualified() + " AS RANGE (SUBTYPE = " + subtype
                    + collation.map(c -> ", COLLATION = " + c).orElse("") + ")");
        }

        @Override
        public String describe() {
            return "range type " + qualified() + " of " + subtype;
        }
    }
}
