package io.shardlift.core.spec;

import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

/** Renders a spec back to YAML in the nested form, with defaults resolved and secrets masked. */
final class SpecYaml {

    private static final YAMLMapper WRITER = YAMLMapper.builder()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
            .enable(YAMLGenerator.Feature.INDENT_ARRAYS_WITH_INDICATOR)
            .build();

    private SpecYaml() {
    }

    static String describe(MigrationSpec spec) {
        Map<String, Object> migrate = new LinkedHashMap<>();
        migrate.put("connstr", spec.source().masked());
        migrate.put("jobs", spec.jobs());
        migrate.put("batch", spec.batch());
        migrate.put("options", spec.options());
        List<Object> schemas = new ArrayList<>();
        for (SchemaSpec s : spec.schemas()) {
            Map<String, Object> schema = new LinkedHashMap<>();
            schema.put("name", s.name());
            schema.put("all", s.all());
            List<Object> tables = new ArrayList<>();
            for (TableSpec t : s.tables()) {
                Map<String, Object> table = new LinkedHashMap<>();
                table.put("name", t.id().name());
                table.put("type", t.type().yamlName());
                if (t.sharded()) {
                    table.put("distributedby", String.join(",", t.distributedBy()));
                    t.colocateWith().ifPresent(c -> table.put("colocatewith",
                            c.schema().equals(s.name()) ? c.name() : c.toString()));
                    table.put("partitions", t.partitions());
                }
                table.put("priority", t.priority());
                if (t.sharded()) {
                    table.put("widen_unique", t.widenUnique());
                }
                tables.add(table);
            }
            schema.put("tables", tables);
            if (s.all()) {
                UnlistedRule u = s.unlisted();
                Map<String, Object> rule = new LinkedHashMap<>();
                rule.put("type", u.type().yamlName());
                if (u.sharded()) {
                    rule.put("distributedby", String.join(",", u.distributedBy()));
                    u.colocateWith().ifPresent(c -> rule.put("colocatewith", c.schema().equals(s.name()) ? c.name() : c.toString()));
                    rule.put("partitions", u.partitions());
                }
                schema.put("unlisted", rule);
            }
            schemas.add(schema);
        }
        migrate.put("schemas", schemas);

        Map<String, Object> root = new LinkedHashMap<>();
        root.put("version", spec.version());
        root.put("migrate", migrate);
        root.put("cluster", Map.of("nodes", spec.nodes().stream().map(ConnInfo::masked).toList()));
        Map<String, Object> kafka = new LinkedHashMap<>();
        kafka.put("bootstrap", spec.kafka().bootstrap());
        kafka.put("topic_partitions", spec.kafka().topicPartitions());
        kafka.put("replication_factor", spec.kafka().replicationFactor());
        kafka.put("topic_prefix", spec.kafka().topicPrefix());
        root.put("kafka", kafka);
        Map<String, Object> replication = new LinkedHashMap<>();
        replication.put("slot", spec.replication().slot());
        replication.put("publication", spec.replication().publication());
        root.put("replication", replication);
        Map<String, Object> control = new LinkedHashMap<>();
        control.put("listen", spec.control().listen());
        control.put("token_env", spec.control().tokenEnv());
        spec.control().tls().ifPresent(tls -> {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("cert", tls.cert().toString());
            t.put("key", tls.key().toString());
            tls.ca().ifPresent(ca -> t.put("ca", ca.toString()));
            control.put("tls", t);
        });
        if (spec.control().allowPlainHttp()) {
            control.put("allow_plain_http", true);
        }
        root.put("control", control);
        spec.pooler().ifPresent(p -> {
            Map<String, Object> pooler = new LinkedHashMap<>();
            pooler.put("pgbouncer", p.pgbouncers().stream().map(b -> {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("admin", b.admin().masked());
                m.put("include_file", b.includeFile().toString());
                m.put("databases", b.databases());
                return m;
            }).toList());
            pooler.put("pause_timeout", p.pauseTimeout().toMillis() + "ms");
            pooler.put("target_node", p.targetNode());
            root.put("pooler", pooler);
        });
        try {
            return WRITER.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
