package io.shardlift.core.spec;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import io.shardlift.core.TableId;

/**
 * One read of one spec: walks the YAML tree, collects every problem, then builds the records.
 *
 * <p>Its size (over 400 lines) is the spec's: one short reader per section and key, all feeding one problem list
 * so that every mistake is reported at once; the infrastructure sections and the pooler already have their own
 * readers ({@code InfraSections}, {@code PoolerSection}).
 */
final class SpecReader {

    static final List<String> MIGRATE_KEYS = List.of("connstr", "jobs", "batch", "options", "schemas");
    static final List<String> ROOT_KEYS = List.of("version", "migrate", "connstr", "jobs", "batch", "options", "schemas",
            "cluster", "kafka", "replication", "control", "pooler");
    static final List<String> SCHEMA_KEYS = List.of("name", "all", "tables", "unlisted");
    static final List<String> UNLISTED_KEYS = List.of("type", "distributedby", "colocatewith", "partitions");
    static final List<String> TABLE_KEYS = List.of("name", "type", "distributedby", "colocatewith", "partitions",
            "priority", "widen_unique");
    static final List<String> CLUSTER_KEYS = List.of("nodes");
    static final List<String> KAFKA_KEYS = List.of("bootstrap", "topic_partitions", "replication_factor", "topic_prefix");
    static final List<String> REPLICATION_KEYS = List.of("slot", "publication", "ddl");
    static final List<String> CONTROL_KEYS = List.of("listen", "token_env", "tls", "allow_plain_http");
    static final List<String> CONTROL_TLS_KEYS = List.of("cert", "key", "ca");
    static final List<String> POOLER_KEYS = List.of("pgbouncer", "pause_timeout", "target_node");
    static final List<String> PGBOUNCER_KEYS = List.of("admin", "include_file", "databases");

    static final int DEFAULT_JOBS = 4;
    static final int DEFAULT_BATCH = 2000;


    private static final YAMLMapper MAPPER = YAMLMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private final Function<String, String> env;
    private final Path pgpassFile;
    private final Problems problems = new Problems();
    private final Fields fields = new Fields(problems);
    private final InfraSections infra = new InfraSections(problems, fields);

    SpecReader(Function<String, String> env, Path pgpassFile) {
        this.env = env;
        this.pgpassFile = pgpassFile;
    }

    MigrationSpec read(String yaml, String sourceName) {
        JsonNode root = parseYaml(yaml);
        if (root == null) {
            throw new SpecException(sourceName, problems.scrubbed());
        }
        new EnvInterpolation(env, problems).apply(root, "");
        ObjectNode top = (ObjectNode) root;
        fields.checkKeys(top, "", ROOT_KEYS, "at the top level");

        String version = readVersion(new At("version", top.get("version")));
        Map<String, At> migrate = migrateKeys(top);

        ConnInfo source = readConnInfo(migrate.get("connstr"), "the source database");
        int jobs = fields.intIn(migrate.get("jobs"), 1, 256, DEFAULT_JOBS, "the number of parallel copy workers, e.g. jobs: 4");
        int batch = fields.intIn(migrate.get("batch"), 1, 1_000_000, DEFAULT_BATCH, "rows per batch, e.g. batch: 2000");
        Map<String, Object> options = readOptions(migrate.get("options"));
        List<TableDraft> drafts = new ArrayList<>();
        List<SchemaHead> schemaHeads = readSchemas(migrate.get("schemas"), drafts);

        List<ConnInfo> nodes = readNodes(top, source);
        Map<TableId, Integer> resolvedPartitions = Colocation.resolve(drafts, nodes == null ? 0 : nodes.size(), problems);
        Map<String, Integer> rulePartitions = new HashMap<>();
        for (SchemaHead head : schemaHeads) {
            if (head.unlisted() != null && head.unlisted().type() == TableType.SHARDED) {
                Integer parts = Colocation.resolveRule(head.unlisted(), drafts, resolvedPartitions,
                        nodes == null ? 0 : nodes.size(), problems);
                if (parts != null) {
                    rulePartitions.put(head.name(), parts);
                }
            }
        }

        KafkaSpec kafka = infra.readKafka(fields.section(top, "kafka"));
        ReplicationSpec replication = infra.readReplication(fields.section(top, "replication"));
        ControlSpec control = infra.readControl(fields.section(top, "control"));
        Optional<PoolerSpec> pooler = new PoolerSection(problems, fields, at -> readConnInfo(at, "the admin console"))
                .read(fields.section(top, "pooler"), nodes == null ? 0 : nodes.size());

        if (!problems.isEmpty()) {
            throw new SpecException(sourceName, problems.scrubbed());
        }
        List<SchemaSpec> schemas = new ArrayList<>();
        for (SchemaHead head : schemaHeads) {
            List<TableSpec> tables = new ArrayList<>();
            for (TableDraft d : drafts) {
                if (d.id().schema().equals(head.name()) && d.path().startsWith(head.path() + ".")) {
                    tables.add(new TableSpec(d.id(), d.type(), d.type() == TableType.SHARDED ? d.columns() : List.of(),
                            Optional.ofNullable(d.colocate()),
                            d.type() == TableType.SHARDED ? resolvedPartitions.get(d.id()) : 1,
                            d.priority(), d.widenUnique()));
                }
            }
            UnlistedDraft u = head.unlisted();
            UnlistedRule rule = u == null || u.type() == TableType.GLOBAL ? UnlistedRule.GLOBAL
                    : new UnlistedRule(TableType.SHARDED, u.columns(), Optional.ofNullable(u.colocate()),
                            rulePartitions.get(head.name()));
            schemas.add(new SchemaSpec(head.name(), head.all(), tables, rule));
        }
        return new MigrationSpec(version, source, jobs, batch, options, schemas, nodes, kafka, replication, control, pooler);
    }

    // ---------------------------------------------------------------- YAML

    private JsonNode parseYaml(String yaml) {
        JsonNode root;
        try {
            root = MAPPER.readTree(yaml);
        } catch (JsonProcessingException e) {
            yamlProblem(e);
            return null;
        } catch (RuntimeException e) {
            // snakeyaml limits (document size, alias expansion) and the like
            problems.add("(yaml)", "(unreadable)", "the file is not valid YAML (" + e.getClass().getSimpleName()
                    + "); check that it is a plain YAML document");
            return null;
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            problems.add("(file)", "(empty)", "the spec is empty; it needs at least version: \"1.0\", migrate: "
                    + "(connstr and schemas) and cluster: (nodes)");
            return null;
        }
        if (!root.isObject()) {
            problems.add("(file)", Problems.show(root), "the spec must be a mapping of keys (version:, migrate:, "
                    + "cluster:, ...) at the top level");
            return null;
        }
        return root;
    }

    /** A YAML syntax error, reported by position only: the parser's own message quotes the line, which may hold a password. */
    private void yamlProblem(JsonProcessingException e) {
        Throwable cause = e.getCause();
        if (cause instanceof org.yaml.snakeyaml.error.MarkedYAMLException marked && marked.getProblemMark() != null) {
            var mark = marked.getProblemMark();
            String what = marked.getProblem() == null ? "syntax error" : marked.getProblem();
            if (marked.getContext() != null) {
                what = marked.getContext() + ": " + what;
            }
            problems.add("(yaml)", "line " + (mark.getLine() + 1) + ", column " + (mark.getColumn() + 1),
                    oneLine(what) + "; fix the YAML there (indent with spaces, not tabs; quote values that contain \": \" "
                            + "or start with a special character)");
            return;
        }
        String where = e.getLocation() == null ? "(unknown position)"
                : "line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
        String what = oneLine(e.getOriginalMessage());
        if (what.startsWith("Duplicate field")) {
            problems.add("(yaml)", where, what.replace("Duplicate field", "key") + " appears twice in the same mapping; "
                    + "each key may be given once, remove one of them");
        } else {
            problems.add("(yaml)", where, what + "; fix the YAML there");
        }
    }

    private static String oneLine(String s) {
        if (s == null) {
            return "syntax error";
        }
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).strip();
    }

    // ---------------------------------------------------------------- version and migrate

    private String readVersion(At at) {
        String rule = "shardlift reads the version \"1.0\" format of shardmanctl load; write version: \"1.0\"";
        if (at.blank()) {
            problems.add(at.path(), Problems.show(at.node()), rule);
            return null;
        }
        JsonNode n = at.node();
        boolean ok = n.isNumber() ? n.decimalValue().compareTo(java.math.BigDecimal.ONE) == 0
                : n.isTextual() && (n.textValue().strip().equals("1.0") || n.textValue().strip().equals("1"));
        if (!ok) {
            problems.add(at.path(), n, rule);
        }
        return MigrationSpec.VERSION;
    }

    /** The shardmanctl keys, each from under migrate: or from the top level, wherever it is. */
    private Map<String, At> migrateKeys(ObjectNode top) {
        JsonNode m = top.get("migrate");
        ObjectNode migrate = null;
        if (m != null && m.isObject()) {
            migrate = (ObjectNode) m;
            fields.checkKeys(migrate, "migrate", MIGRATE_KEYS, "under migrate:");
        } else if (m != null && !m.isNull()) {
            problems.add("migrate", m, "must be a mapping of connstr, jobs, batch, options and schemas "
                    + "(or leave migrate: empty and write them at the top level, as shardmanctl's examples do)");
        }
        // Where an absent key is reported: where its siblings are.
        boolean flatForm = migrate == null && MIGRATE_KEYS.stream().anyMatch(top::has);
        String absentPrefix = flatForm ? "" : "migrate.";
        Map<String, At> out = new HashMap<>();
        for (String key : MIGRATE_KEYS) {
            boolean nested = migrate != null && migrate.has(key);
            boolean flat = top.has(key);
            if (nested && flat) {
                String shown = key.equals("connstr") ? ConnInfo.MASK : Problems.show(top.get(key));
                problems.add(key, shown, key + " is given both under migrate: and at the top level; keep one of them "
                        + "(either place is accepted)");
            }
            out.put(key, nested ? new At("migrate." + key, migrate.get(key)) : new At(flat ? key : absentPrefix + key, top.get(key)));
        }
        return out;
    }

    private ConnInfo readConnInfo(At at, String what) {
        if (at.blank()) {
            problems.add(at.path(), Problems.show(at.node()), what + " is required: a libpq connection string "
                    + "(\"host=... port=5432 dbname=... user=...\") or a postgres:// URI");
            return null;
        }
        if (!at.node().isTextual()) {
            problems.add(at.path(), at.node(), "must be a connection string in quotes: \"host=... port=5432 dbname=... "
                    + "user=...\" or a postgres:// URI");
            return null;
        }
        String text = at.node().textValue();
        try {
            ConnInfo c = ConnInfo.parse(text, env, pgpassFile);
            c.secrets().forEach(problems::secret);
            return c;
        } catch (IllegalArgumentException e) {
            problems.add(at.path(), Problems.quote(LibpqParser.maskRaw(text)), "cannot use this connection string: "
                    + e.getMessage() + "; write libpq keyword=value pairs or a postgres://user@host:port/dbname URI");
            return null;
        }
    }

    /** shardmanctl's options, not interpreted: a mapping as is, a list of flags as flag: true. */
    private Map<String, Object> readOptions(At at) {
        Map<String, Object> out = new LinkedHashMap<>();
        if (at.blank()) {
            return out;
        }
        JsonNode n = at.node();
        if (n.isObject()) {
            n.fields().forEachRemaining(e -> out.put(e.getKey(), MAPPER.convertValue(e.getValue(), Object.class)));
        } else if (n.isArray()) {
            for (JsonNode item : n) {
                if (item.isObject()) {
                    item.fields().forEachRemaining(e -> out.put(e.getKey(), MAPPER.convertValue(e.getValue(), Object.class)));
                } else if (!item.isNull()) {
                    out.put(item.asText(), Boolean.TRUE);
                }
            }
        } else {
            out.put(n.asText(), Boolean.TRUE);
        }
        return out;
    }

    // ---------------------------------------------------------------- schemas and tables

    /** @param unlisted the schema's {@code unlisted:} rule as read; null when absent */
    private record SchemaHead(String path, String name, boolean all, UnlistedDraft unlisted) {
    }

    private List<SchemaHead> readSchemas(At at, List<TableDraft> drafts) {
        List<SchemaHead> heads = new ArrayList<>();
        if (at.blank()) {
            problems.add(at.path(), Problems.show(at.node()), "list the schemas to migrate, e.g. schemas: [{name: public, "
                    + "tables: [{name: orders, type: sharded, distributedby: customer_id}]}]");
            return heads;
        }
        if (!at.node().isArray()) {
            problems.add(at.path(), at.node(), "must be a list of schema entries (- name: ... with all: and tables:)");
            return heads;
        }
        if (at.node().isEmpty()) {
            problems.add(at.path(), "(an empty list)", "lists no schema, so nothing would be migrated; add - name: <schema> "
                    + "with its tables");
            return heads;
        }
        Map<String, String> seen = new HashMap<>();
        for (int i = 0; i < at.node().size(); i++) {
            String path = Paths.index(at.path(), i);
            JsonNode s = at.node().get(i);
            if (!s.isObject()) {
                problems.add(path, s, "each schema entry must be a mapping with name:, all: and tables:");
                continue;
            }
            ObjectNode schema = (ObjectNode) s;
            fields.checkKeys(schema, path, SCHEMA_KEYS, "in a schema entry");
            At nameAt = Fields.at(schema, path, "name");
            String name = fields.text(nameAt, "the schema's name");
            if (name == null && !nameAt.blank()) {
                continue; // a list or mapping where the name should be: reported by fields.text()
            }
            if (name == null || name.isBlank()) {
                problems.add(nameAt.path(), Problems.show(nameAt.node()), "every schema entry needs name: the schema "
                        + "on the source, e.g. name: public");
                continue;
            }
            if (seen.containsKey(name)) {
                problems.add(nameAt.path(), nameAt.node(), "schema " + name + " is listed twice (also at "
                        + seen.get(name) + "); list all its tables under one entry");
                continue;
            }
            seen.put(name, path);
            At allAt = Fields.at(schema, path, "all");
            Boolean all = allAt.blank() ? Boolean.FALSE : fields.bool(allAt, "true migrates every table of the schema "
                    + "(tables not listed follow unlisted:, global by default), false only the listed ones");
            // all: not a boolean is reported already; whether unlisted: fits it is then unknown
            UnlistedDraft unlisted = readUnlisted(Fields.at(schema, path, "unlisted"), name, all == null || all,
                    Problems.show(allAt.node()));
            heads.add(new SchemaHead(path, name, Boolean.TRUE.equals(all), unlisted));
            readTables(Fields.at(schema, path, "tables"), name, Boolean.TRUE.equals(all), drafts);
        }
        return heads;
    }

    private void readTables(At at, String schema, boolean all, List<TableDraft> drafts) {
        if (at.blank() || at.node().isArray() && at.node().isEmpty()) {
            if (!all) {
                problems.add(at.path(), Problems.show(at.node()), "schema " + schema + " migrates nothing: list its tables "
                        + "under tables: or set all: true");
            }
            return;
        }
        if (!at.node().isArray()) {
            problems.add(at.path(), at.node(), "must be a list of table entries (- name: ... type: ...)");
            return;
        }
        Map<String, String> seen = new HashMap<>();
        for (int j = 0; j < at.node().size(); j++) {
            String path = Paths.index(at.path(), j);
            JsonNode t = at.node().get(j);
            if (!t.isObject()) {
                problems.add(path, t, "each table entry must be a mapping with at least name: and type:, "
                        + "e.g. - {name: orders, type: sharded, distributedby: customer_id}");
                continue;
            }
            TableDraft d = readTable((ObjectNode) t, path, schema, seen);
            if (d != null) {
                drafts.add(d);
            }
        }
    }

    private TableDraft readTable(ObjectNode t, String path, String schema, Map<String, String> seen) {
        fields.checkKeys(t, path, TABLE_KEYS, "in a table entry");
        At nameAt = Fields.at(t, path, "name");
        String name = fields.text(nameAt, "the table's name");
        boolean nameOk = false;
        if (name == null && !nameAt.blank()) {
            // a list or mapping where the name should be: reported by fields.text()
        } else if (name == null || name.isBlank()) {
            problems.add(nameAt.path(), Problems.show(nameAt.node()), "every table entry needs name: the table's name "
                    + "within schema " + schema + ", e.g. name: orders");
        } else if (name.contains(".")) {
            problems.add(nameAt.path(), nameAt.node(), "write the bare table name; its schema is the entry's name: ("
                    + schema + "), list tables of another schema under that schema's entry");
        } else if (seen.containsKey(name)) {
            problems.add(nameAt.path(), nameAt.node(), "table " + schema + "." + name + " is listed twice (also at "
                    + seen.get(name) + "); keep one entry");
        } else {
            seen.put(name, path);
            nameOk = true;
        }
        TableId id = nameOk ? new TableId(schema, name) : null;
        String label = id == null ? "this table" : id.toString();

        TableType type = readType(Fields.at(t, path, "type"));
        At colsAt = Fields.at(t, path, "distributedby");
        At colocAt = Fields.at(t, path, "colocatewith");
        At partsAt = Fields.at(t, path, "partitions");
        At widenAt = Fields.at(t, path, "widen_unique");
        String notSharded = "a global table is copied whole to every node";

        List<String> columns = null;
        TableId colocate = null;
        String colocateRaw = null;
        Integer partitions = null;
        boolean partitionsBad = false;
        if (type == TableType.GLOBAL) {
            if (!colsAt.absent()) {
                problems.add(colsAt.path(), colsAt.node(), notSharded + " and has no sharding key; remove distributedby "
                        + "or make " + label + " type: sharded");
            }
            if (!colocAt.absent()) {
                problems.add(colocAt.path(), colocAt.node(), notSharded + " and cannot be colocated; remove colocatewith "
                        + "or make " + label + " type: sharded");
            }
            if (!partsAt.absent()) {
                problems.add(partsAt.path(), partsAt.node(), notSharded + " and is not partitioned; remove partitions "
                        + "or make " + label + " type: sharded");
            }
        } else {
            columns = readColumns(colsAt, type == TableType.SHARDED);
            colocateRaw = colocateRaw(colocAt);
            colocate = colocateTarget(colocAt, colocateRaw, schema);
            if (!partsAt.blank()) {
                partitions = fields.integer(partsAt, 1, Integer.MAX_VALUE, "the number of hash partitions of " + label
                        + ", e.g. partitions: 8");
                partitionsBad = partitions == null;
            }
        }
        At prioAt = Fields.at(t, path, "priority");
        int priority = prioAt.blank() ? 0 : Objects.requireNonNullElse(fields.integer(prioAt, Integer.MIN_VALUE,
                Integer.MAX_VALUE, "tables with a higher priority load first, e.g. priority: 2"), 0);
        boolean widen = false;
        if (!widenAt.blank()) {
            Boolean w = fields.bool(widenAt, "true lets shardlift add the sharding key to unique constraints that lack it");
            widen = Boolean.TRUE.equals(w);
            if (widen && type == TableType.GLOBAL) {
                problems.add(widenAt.path(), widenAt.node(), "widen_unique applies to sharded tables only; a global table "
                        + "keeps its constraints as they are, remove widen_unique");
            }
        }
        if (id == null) {
            return null;
        }
        return new TableDraft(path, id, type, columns, colsAt.node(), colocate, colocateRaw, partitions, partitionsBad,
                priority, widen);
    }

    /** The colocatewith value as written, stripped; null when absent, empty or not a scalar (reported). */
    private String colocateRaw(At colocAt) {
        if (colocAt.blank()) {
            if (!colocAt.absent()) {
                problems.add(colocAt.path(), colocAt.node(), "is empty; name the sharded table to colocate with, "
                        + "or remove colocatewith");
            }
            return null;
        }
        String raw = fields.text(colocAt, "the table this one is colocated with, as name or schema.name");
        return raw == null ? null : raw.strip();
    }

    private TableId colocateTarget(At colocAt, String raw, String schema) {
        if (raw == null) {
            return null;
        }
        TableId target = raw.isEmpty() ? null : TableId.parse(raw, schema);
        if (target == null || target.schema().isEmpty() || target.name().isEmpty()) {
            problems.add(colocAt.path(), colocAt.node(), "must name a sharded table: name (same schema) or schema.name");
            return null;
        }
        return target;
    }

    /**
     * A schema's {@code unlisted:} rule: what the tables of a schema migrated whole that the spec does not list become.
     * Null when absent (they are global) or not usable (reported).
     */
    private UnlistedDraft readUnlisted(At at, String schema, boolean all, String allShown) {
        if (at.absent()) {
            return null;
        }
        String example = "e.g. unlisted: {type: sharded, distributedby: tenant_id, colocatewith: tenants}";
        if (!all) {
            problems.add(at.path(), Problems.show(at.node()), "unlisted: says what the tables of schema " + schema
                    + " that the spec does not list become, but only a schema with all: true migrates unlisted tables (all: is "
                    + (allShown.equals(Problem.MISSING) ? "not set" : allShown) + "); set all: true on schema " + schema
                    + ", or remove unlisted");
            return null;
        }
        if (at.node().isNull()) {
            problems.add(at.path(), "(empty)", "is empty; write the rule for the tables not listed, " + example
                    + ", or remove unlisted (they are then global)");
            return null;
        }
        if (!at.node().isObject()) {
            problems.add(at.path(), at.node(), "must be a mapping with type: (and for sharded: distributedby:, colocatewith:,"
                    + " partitions:), " + example);
            return null;
        }
        ObjectNode rule = (ObjectNode) at.node();
        fields.checkKeys(rule, at.path(), UNLISTED_KEYS, "in unlisted:");
        TableType type = readType(Fields.at(rule, at.path(), "type"));
        At colsAt = Fields.at(rule, at.path(), "distributedby");
        At colocAt = Fields.at(rule, at.path(), "colocatewith");
        At partsAt = Fields.at(rule, at.path(), "partitions");
        if (type == TableType.GLOBAL) {
            String notSharded = "with type: global every unlisted table of schema " + schema + " is copied whole to every node";
            for (At extra : List.of(colsAt, colocAt, partsAt)) {
                if (!extra.absent()) {
                    String key = extra.path().substring(extra.path().lastIndexOf('.') + 1);
                    problems.add(extra.path(), extra.node(), notSharded + "; remove " + key + ", or set type: sharded to "
                            + "shard them on distributedby");
                }
            }
            return new UnlistedDraft(at.path(), schema, type, null, null, null, null, null, false);
        }
        if (type == null) {
            return null;
        }
        List<String> columns = null;
        if (colsAt.blank()) {
            problems.add(colsAt.path(), Problems.show(colsAt.node()), "unlisted: {type: sharded} needs distributedby: the "
                    + "column (or comma-separated columns) the unlisted tables of schema " + schema + " are sharded on, "
                    + example + " (a table without that column stays global)");
        } else {
            columns = readColumns(colsAt, true);
        }
        String colocateRaw = colocateRaw(colocAt);
        TableId colocate = colocateTarget(colocAt, colocateRaw, schema);
        Integer partitions = null;
        boolean partitionsBad = false;
        if (!partsAt.blank()) {
            partitions = fields.integer(partsAt, 1, Integer.MAX_VALUE, "the number of hash partitions of each unlisted table "
                    + "of schema " + schema + ", e.g. partitions: 8");
            partitionsBad = partitions == null;
        }
        return new UnlistedDraft(at.path(), schema, type, columns, colsAt.node(), colocate, colocateRaw, partitions,
                partitionsBad);
    }

    private TableType readType(At at) {
        String rule = "set type: global (a full copy on every node) or type: sharded (hash-partitioned on distributedby)";
        if (at.blank()) {
            problems.add(at.path(), Problems.show(at.node()), rule);
            return null;
        }
        String t = at.node().isTextual() ? at.node().textValue().strip().toLowerCase(Locale.ROOT) : "";
        switch (t) {
            case "global", "reference":
                return TableType.GLOBAL;
            case "sharded":
                return TableType.SHARDED;
            default:
                problems.add(at.path(), at.node(), rule);
                return null;
        }
    }

    /** One column, a comma-separated list, or a YAML list of columns. */
    private List<String> readColumns(At at, boolean required) {
        if (at.blank()) {
            if (required) {
                problems.add(at.path(), Problems.show(at.node()), "a sharded table needs distributedby: the column "
                        + "(or comma-separated columns) to shard on");
            }
            return null;
        }
        List<String> raw = new ArrayList<>();
        JsonNode n = at.node();
        if (n.isArray()) {
            for (JsonNode item : n) {
                if (item.isContainerNode()) {
                    problems.add(at.path(), n, "must be a column name or comma-separated column names, e.g. "
                            + "distributedby: ticket_no");
                    return null;
                }
                raw.add(item.isNull() ? "" : item.asText());
            }
        } else if (n.isContainerNode()) {
            problems.add(at.path(), n, "must be a column name or comma-separated column names, e.g. distributedby: ticket_no");
            return null;
        } else {
            raw.addAll(List.of(n.asText().split(",", -1)));
        }
        List<String> columns = raw.stream().map(String::strip).toList();
        if (columns.stream().anyMatch(String::isEmpty)) {
            problems.add(at.path(), n, "a column name is empty; write one column (distributedby: ticket_no) or columns "
                    + "separated by single commas (distributedby: book_ref,ticket_no)");
            return null;
        }
        Set<String> unique = new LinkedHashSet<>(columns);
        if (unique.size() != columns.size()) {
            problems.add(at.path(), n, "a column is named twice; name each sharding key column once");
            return null;
        }
        return columns;
    }

    // ---------------------------------------------------------------- cluster

    private List<ConnInfo> readNodes(ObjectNode top, ConnInfo source) {
        ObjectNode cluster = fields.section(top, "cluster");
        if (cluster == null && top.hasNonNull("cluster")) {
            return null; // not a mapping: reported by fields.section()
        }
        if (cluster != null) {
            fields.checkKeys(cluster, "cluster", CLUSTER_KEYS, "under cluster:");
        }
        At at = Fields.at(cluster, "cluster", "nodes");
        String example = "cluster: {nodes: [\"host=node1 port=5432 dbname=demo user=postgres\", "
                + "\"postgres://postgres@node2:5432/demo\"]}";
        if (at.blank()) {
            problems.add(at.path(), Problems.show(at.node()), "list the target cluster's nodes, one connection string each: "
                    + example);
            return null;
        }
        if (!at.node().isArray()) {
            problems.add(at.path(), at.node(), "must be a list of connection strings, one per node: " + example);
            return null;
        }
        if (at.node().isEmpty()) {
            problems.add(at.path(), "(an empty list)", "the cluster needs at least 1 node: " + example);
            return null;
        }
        List<ConnInfo> nodes = new ArrayList<>();
        List<String> paths = new ArrayList<>();
        boolean allOk = true;
        for (int i = 0; i < at.node().size(); i++) {
            At nodeAt = new At(Paths.index(at.path(), i), at.node().get(i));
            ConnInfo node = readConnInfo(nodeAt, "each node's connection string");
            if (node == null) {
                allOk = false;
                continue;
            }
            String shown = Problems.quote(LibpqParser.maskRaw(nodeAt.node().textValue()));
            for (int k = 0; k < nodes.size(); k++) {
                if (nodes.get(k).sameDatabase(node)) {
                    problems.add(nodeAt.path(), shown, "same server and database as " + paths.get(k) + " ("
                            + node.label() + "); every node must be a different database");
                    allOk = false;
                }
            }
            if (source != null && source.sameDatabase(node)) {
                problems.add(nodeAt.path(), shown, "this is the source database (" + node.label() + "); the cluster's "
                        + "nodes must be other databases");
                allOk = false;
            }
            nodes.add(node);
            paths.add(nodeAt.path());
        }
        // the count matters for the partition check even if some entries are bad
        return allOk ? nodes : Collections.nCopies(at.node().size(), null);
    }

}
