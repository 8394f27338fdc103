package io.shardlift.core.catalog;

import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Which column types shardlift carries exactly, through the copy (binary COPY) and the change stream (pgoutput
 * text through Debezium) alike: the one decision, made once per column, that {@code plan} reports and that the
 * capture relies on. A type is refused when either path would change a value, with the reason and what to do.
 * Every type of pg_catalog a table column can have is either here with its reason or carried (TypesIT goes
 * through pg_type and proves each).
 */
public final class ColumnTypes {

    private static final String REG = "its values are OIDs of the source's own catalog objects, which the nodes "
            + "number differently; store the object's name as text instead";
    private static final String INTERNAL = "it is an internal type whose values PostgreSQL does not accept as input; "
            + "leave the column out (drop it, or migrate a view of the table without it)";

    /** pg_catalog base types refused, by typname, with why and what to do. */
    private static final Map<String, String> REFUSED = Map.ofEntries(
            Map.entry("xml", "PostgreSQL's xml output (which logical decoding and COPY send) drops an XML declaration "
                    + "such as <?xml version=\"1.0\"?>, so such values would arrive changed; change the column to text "
                    + "(ALTER TABLE ... ALTER COLUMN ... TYPE text) or leave the table out"),
            Map.entry("timetz", "Debezium turns time with time zone into UTC and drops the offset (an array of it travels as text and is carried), so '10:00+05:30' "
                    + "would arrive as '04:30+00'; change the column to timestamptz, or to time plus a column for the offset"),
            Map.entry("int2vector", "PostgreSQL's binary input of int2vector refuses an empty one, which the copy (binary "
                    + "COPY) would send; change the column to smallint[]"),
            Map.entry("oidvector", "PostgreSQL's binary input of oidvector refuses an empty one, which the copy (binary "
                    + "COPY) would send; change the column to bigint[]"),
            Map.entry("aclitem", "it has no binary form, which the copy needs; store its text in a text column"),
            Map.entry("regclass", REG),
            Map.entry("regproc", REG),
            Map.entry("regprocedure", REG),
            Map.entry("regoper", REG),
            Map.entry("regoperator", REG),
            Map.entry("regtype", REG),
            Map.entry("regconfig", REG),
            Map.entry("regdictionary", REG),
            Map.entry("regnamespace", REG),
            Map.entry("regrole", REG),
            Map.entry("regcollation", REG),
            Map.entry("pg_node_tree", INTERNAL),
            Map.entry("pg_ndistinct", INTERNAL),
            Map.entry("pg_dependencies", INTERNAL),
            Map.entry("pg_mcv_list", INTERNAL),
            Map.entry("pg_brin_bloom_summary", INTERNAL),
            Map.entry("pg_brin_minmax_multi_summary", INTERNAL),
            Map.entry("gtsvector", INTERNAL));

    /** Refused scalars whose arrays are carried: the capture takes arrays as text, which keeps what Debezium drops. */
    private static final Set<String> ARRAYS_CARRIED = Set.of("timetz");

    private ColumnTypes() {
    }

    /**
     * Why this column cannot be carried exactly, and what to do; empty when it can.
     */
    public static Optional<String> refusal(ColumnInfo c) {
        if (!c.isBuiltinType() && c.typtype() != 'd') {
            // enums, composites and extension types travel as their text (typname of a domain is its base type's)
            return Optional.empty();
        }
        boolean array = isArray(c);
        return refusal(array ? c.typname().substring(1) : c.typname(), array);
    }

    /** Why a pg_catalog type (or an array of it) cannot be carried exactly, and what to do; empty when it can. */
    public static Optional<String> refusal(String typname, boolean array) {
        String why = REFUSED.get(typname);
        if (why == null || array && ARRAYS_CARRIED.contains(typname)) {
            return Optional.empty();
        }
        return Optional.of((array ? "an array of " + typname + ": " : "") + why);
    }

    /** True for an array column ({@code typname} of arrays starts with an underscore). */
    public static boolean isArray(ColumnInfo c) {
        return c.typname().startsWith("_") && c.type().endsWith("]");
    }
}
