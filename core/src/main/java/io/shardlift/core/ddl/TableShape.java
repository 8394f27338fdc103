package io.shardlift.core.ddl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shardlift.core.catalog.CheckInfo;
import io.shardlift.core.catalog.ColumnInfo;
import io.shardlift.core.catalog.ForeignKeyInfo;
import io.shardlift.core.catalog.IndexInfo;
import io.shardlift.core.catalog.KeyConstraint;
import io.shardlift.core.catalog.SequenceInfo;
import io.shardlift.core.catalog.TableInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * One table's shape as the source's event trigger recorded it ({@link SourceDdlLog#SHAPE_FUNCTION}): read into the
 * catalog's own records, so the capture's codec, the applier and the layout are built from it as from the catalog.
 *
 * @param name            the table's qualified name now (differs from the migration's name after a rename)
 * @param relkind         {@code r} or {@code p}
 * @param columns         in attnum order
 * @param primaryKey      the primary key, if any
 * @param uniques         unique constraints
 * @param checks          CHECK and EXCLUDE constraints
 * @param indexes         indexes that back no constraint
 * @param enums           enum types the columns use: qualified name -> labels in order
 * @param partitions      a partitioned table's partitions
 * @param foreignKeys     its foreign keys; empty for a shape recorded before shapes held them
 * @param typeByExpression the statement that made this shape changed a column's type with a USING expression other
 *                        than a plain cast of the column (the source's trigger looks at the statement's text, see
 *                        {@link SourceDdlLog}); the nodes can only convert by the assignment cast
 * @param sequences       the sequences its columns own (serial, identity), without their current values; empty for a
 *                        shape recorded before shapes held them
 */
public record TableShape(String name, char relkind, List<ColumnInfo> columns,
                         Optional<KeyConstraint> primaryKey, List<KeyConstraint> uniques, List<CheckInfo> checks,
                         List<IndexInfo> indexes, Map<String, List<String>> enums, List<String> partitions,
                         Optional<List<ForeignKeyInfo>> foreignKeys, boolean typeByExpression,
                         Optional<List<SequenceInfo>> sequences) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public static TableShape parse(String json) {
        try {
            return of(JSON.readTree(json));
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("unreadable table shape from the source's DDL log: " + e.getMessage(), e);
        }
    }

    static TableShape of(JsonNode n) {
        List<ColumnInfo> cols = new ArrayList<>();
        for (JsonNode c : n.path("columns")) {
            String generated = text(c, "generated");
            String identity = text(c, "identity");
            boolean isGenerated = generated != null && !generated.isEmpty();
            Optional<String> expr = Optional.ofNullable(text(c, "expr"));
            ColumnInfo col = new ColumnInfo(c.path("name").asText(), c.path("attnum").asInt(), c.path("type").asText(),
                    c.path("typname").asText(), c.path("typtype").asText("b").charAt(0), c.path("typschema").asText(),
                    c.path("notnull").asBoolean(), isGenerated ? Optional.empty() : expr,
                    identity == null || identity.isEmpty() ? '0' : identity.charAt(0),
                    isGenerated ? expr : Optional.empty(), Optional.ofNullable(text(c, "collation")),
                    c.path("deterministic").asBoolean(true), Optional.ofNullable(text(c, "extension")));
            cols.add(col);
        }
        Optional<KeyConstraint> pk = Optional.empty();
        List<KeyConstraint> uniques = new ArrayList<>();
        List<CheckInfo> checks = new ArrayList<>();
        for (JsonNode k : n.path("constraints")) {
            String type = k.path("type").asText();
            String name = k.path("name").asText();
            switch (type) {
                case "p" -> pk = Optional.of(new KeyConstraint(name, KeyConstraint.Kind.PRIMARY_KEY, strings(k.path("columns")),
                        k.path("deferrable").asBoolean(), false));
                case "u" -> uniques.add(new KeyConstraint(name, KeyConstraint.Kind.UNIQUE_CONSTRAINT, strings(k.path("columns")),
                        k.path("deferrable").asBoolean(), k.path("def").asText().contains("NULLS NOT DISTINCT")));
                default -> checks.add(new CheckInfo(name, k.path("def").asText(), type.equals("x"), k.path("noinherit").asBoolean()));
            }
        }
        List<IndexInfo> indexes = new ArrayList<>();
        for (JsonNode ix : n.path("indexes")) {
            String def = ix.path("def").asText();
            int at = def.indexOf(" USING ");
            List<String> columns = strings(ix.path("columns"));
            boolean plain = ix.path("plain").asBoolean();
            indexes.add(new IndexInfo(ix.path("name").asText(), at < 0 ? def : def.substring(at + 1), ix.path("unique").asBoolean(),
                    plain ? columns : List.of(), plain));
        }
        Map<String, List<String>> enums = new TreeMap<>();
        for (JsonNode e : n.path("enums")) {
            enums.put(io.shardlift.core.Sql.ident(e.path("schema").asText()) + "." + io.shardlift.core.Sql.ident(e.path("name").asText()),
                    strings(e.path("labels")));
        }
        Optional<List<ForeignKeyInfo>> fks = Optional.empty();
        if (n.has("foreignKeys")) {
            List<ForeignKeyInfo> list = new ArrayList<>();
            for (JsonNode f : n.path("foreignKeys")) {
                list.add(new ForeignKeyInfo(f.path("name").asText(), strings(f.path("columns")),
                        new io.shardlift.core.TableId(f.path("refschema").asText(), f.path("reftable").asText()),
                        strings(f.path("refcolumns")), ForeignKeyInfo.action(text(f, "onupdate")),
                        ForeignKeyInfo.action(text(f, "ondelete")), "f".equals(text(f, "match")), f.path("deferrable").asBoolean(),
                        f.path("deferred").asBoolean()));
            }
            fks = Optional.of(List.copyOf(list));
        }
        Optional<List<SequenceInfo>> seqs = Optional.empty();
        if (n.has("sequences")) {
            List<SequenceInfo> list = new ArrayList<>();
            for (JsonNode q : n.path("sequences")) {
                list.add(new SequenceInfo(new io.shardlift.core.TableId(q.path("schema").asText(), q.path("name").asText()),
                        q.path("column").asText(), q.path("identity").asBoolean(), q.path("type").asText(), q.path("start").asLong(),
                        q.path("increment").asLong(), q.path("min").asLong(), q.path("max").asLong(), q.path("cycle").asBoolean(),
                        Optional.empty()));
            }
            seqs = Optional.of(List.copyOf(list));
        }
        return new TableShape(n.path("name").asText(), n.path("relkind").asText("r").charAt(0), List.copyOf(cols),
                pk, List.copyOf(uniques), List.copyOf(checks), List.copyOf(indexes), Map.copyOf(enums), strings(n.path("partitions")),
                fks, n.path("typeUsing").asBoolean(false), seqs);
    }

    /** The table as the catalog would describe it with this shape; what the shape does not hold is kept from {@code base}. */
    public TableInfo applyTo(TableInfo base) {
        return new TableInfo(base.id(), base.relkind(), base.replicaIdentity(), columns, primaryKey, uniques, indexes,
                foreignKeys.orElse(base.foreignKeys()), checks, sequencesFrom(base), base.estimatedRows(), base.totalBytes(),
                base.partitions());
    }

    /**
     * The sequences the table draws from in this shape: those its columns own now (a column added as serial or identity
     * brings one), and the others the plan knew (a sequence only named in a default) while their column is there; the
     * plan's version of a sequence is kept, since it knows the source's value when the migration began.
     */
    private List<SequenceInfo> sequencesFrom(TableInfo base) {
        if (sequences.isEmpty()) {
            return base.sequences();
        }
        Set<String> names = new java.util.HashSet<>();
        columns.forEach(c -> names.add(c.name()));
        Map<io.shardlift.core.TableId, SequenceInfo> out = new java.util.LinkedHashMap<>();
        for (SequenceInfo s : base.sequences()) {
            SequenceInfo owned = sequences.get().stream().filter(o -> o.id().equals(s.id())).findFirst().orElse(null);
            if (owned != null) {
                out.put(s.id(), new SequenceInfo(s.id(), owned.column(), s.identity(), s.dataType(), s.start(), s.increment(),
                        s.min(), s.max(), s.cycle(), s.lastValue()));
            } else if (names.contains(s.column())) {
                out.put(s.id(), s);
            }
        }
        for (SequenceInfo s : sequences.get()) {
            out.putIfAbsent(s.id(), s);
        }
        return List.copyOf(out.values());
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(v -> out.add(v.asText()));
        return List.copyOf(out);
    }
}
