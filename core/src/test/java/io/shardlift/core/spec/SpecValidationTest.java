package io.shardlift.core.spec;

import static io.shardlift.core.spec.SpecFixtures.loader;
import static io.shardlift.core.spec.SpecFixtures.valid;
import static io.shardlift.core.spec.SpecFixtures.withTables;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** One rule per row: the spec that breaks it, and the problem that must be reported (key, value, rule and fix). */
class SpecValidationTest {

    static final String T = "migrate.schemas[0].tables";
    static final String TICKETS = "{name: tickets, type: sharded, distributedby: ticket_no, partitions: 4}";

    static List<Problem> problems(String yaml) {
        try {
            loader().parse(yaml, "test.yml");
        } catch (SpecException e) {
            for (Problem p : e.problems()) {
                assertThat(e.getMessage()).contains("\n" + p);
            }
            return e.problems();
        }
        return fail("expected a SpecException for:\n" + yaml);
    }

    static Arguments row(String rule, String yaml, String key, String value, String... fragments) {
        return Arguments.of(rule, yaml, key, value, List.of(fragments));
    }

    static Stream<Arguments> rules() {
        String base = valid();
        return Stream.of(
                row("version missing", base.replace("version: \"1.0\"\n", ""), "version", "(missing)",
                        "write version: \"1.0\""),
                row("version unknown", base.replace("\"1.0\"", "\"2.0\""), "version", "\"2.0\"",
                        "reads the version \"1.0\" format", "write version: \"1.0\""),
                row("connstr missing", base.replace("  connstr: \"host=src dbname=demo user=postgres\"\n", ""),
                        "migrate.connstr", "(missing)", "the source database is required", "postgres:// URI"),
                row("connstr unparseable", base.replace("host=src dbname=demo", "host=src dbname"),
                        "migrate.connstr", "\"host=src dbname user=postgres\"",
                        "cannot use this connection string: missing \"=\" after \"dbname\"",
                        "write libpq keyword=value pairs or a postgres://user@host:port/dbname URI"),
                row("connstr not text", base.replace("\"host=src dbname=demo user=postgres\"", "{host: src}"),
                        "migrate.connstr", "(a mapping)", "must be a connection string in quotes"),
                row("connstr bad port", base.replace("host=src", "host=src port=99999"), "migrate.connstr",
                        "\"host=src port=99999 dbname=demo user=postgres\"", "port 99999 is not a number from 1 to 65535"),
                row("nodes missing", base.substring(0, base.indexOf("cluster:")), "cluster.nodes", "(missing)",
                        "list the target cluster's nodes", "cluster: {nodes: ["),
                row("nodes empty", base.replace("[\"host=n1 dbname=demo\", \"host=n2 dbname=demo\"]", "[]"),
                        "cluster.nodes", "(an empty list)", "the cluster needs at least 1 node"),
                row("nodes not a list", base.replace("[\"host=n1 dbname=demo\", \"host=n2 dbname=demo\"]", "\"host=n1\""),
                        "cluster.nodes", "\"host=n1\"", "must be a list of connection strings, one per node"),
                row("node unparseable", base.replace("\"host=n2 dbname=demo\"", "\"postgres://n2:port/demo\""),
                        "cluster.nodes[1]", "\"postgres://n2:port/demo\"", "port \"port\" is not a number"),
                row("two nodes one database", base.replace("\"host=n2 dbname=demo\"", "\"postgres://N1:5432/demo\""),
                        "cluster.nodes[1]", "\"postgres://N1:5432/demo\"",
                        "same server and database as cluster.nodes[0] (N1:5432/demo)", "every node must be a different database"),
                row("node is the source", base.replace("\"host=n2 dbname=demo\"", "\"host=src dbname=demo user=other\""),
                        "cluster.nodes[1]", "\"host=src dbname=demo user=other\"",
                        "this is the source database (src:5432/demo)", "must be other databases"),
                row("table name missing", withTables("{type: global}"), T + "[0].name", "(missing)",
                        "every table entry needs name:", "e.g. name: orders"),
                row("table name qualified", withTables("{name: other.t, type: global}"), T + "[0].name", "\"other.t\"",
                        "write the bare table name"),
                row("table listed twice", withTables(TICKETS, "{name: tickets, type: global}"), T + "[1].name",
                        "\"tickets\"", "table bookings.tickets is listed twice (also at " + T + "[0]); keep one entry"),
                row("schema listed twice", valid().replace("cluster:", "    - {name: bookings, all: true}\ncluster:"),
                        "migrate.schemas[1].name", "\"bookings\"", "schema bookings is listed twice (also at migrate.schemas[0])"),
                row("unknown table key", withTables("{name: tickets, type: sharded, distributed_by: ticket_no}", TICKETS
                                .replace("tickets", "t2")), T + "[0].distributed_by", "\"ticket_no\"",
                        "unknown key in a table entry; did you mean distributedby?"),
                row("unknown table key, prefix", withTables("{name: airports, type: global, prio: 3}"), T + "[0].prio", "3",
                        "did you mean priority?"),
                row("unknown table key, no match", withTables("{name: airports, type: global, zzz: 3}"), T + "[0].zzz", "3",
                        "the keys here are name, type, distributedby, colocatewith, partitions, priority, widen_unique"),
                row("unknown top-level key", base + "kafak: {bootstrap: embedded}\n", "kafak", "(a mapping)",
                        "unknown key at the top level; did you mean kafka?"),
                row("section inside migrate", base.replace("migrate:\n", "migrate:\n  control: {listen: x}\n"),
                        "migrate.control", "(a mapping)", "control: is a top-level section, move it out"),
                row("unknown schema key", base.replace("- name: bookings", "- name: bookings\n      tabels: []"),
                        "migrate.schemas[0].tabels", "(a list)", "did you mean tables?"),
                row("unknown kafka key", base + "kafka: {bootstrap_servers: \"k:9092\"}\n", "kafka.bootstrap_servers",
                        "\"k:9092\"", "unknown key under kafka:; did you mean bootstrap?"),
                row("unknown cluster key", base.replace("cluster:\n", "cluster:\n  node: []\n"), "cluster.node", "(a list)",
                        "did you mean nodes?"),
                row("unknown replication key", base + "replication: {slot_name: s}\n", "replication.slot_name", "\"s\"",
                        "did you mean slot?"),
                row("unknown control key", base + "control: {listen_addr: \"x:1\"}\n", "control.listen_addr", "\"x:1\"",
                        "did you mean listen?"),
                row("type missing", withTables("{name: airports}"), T + "[0].type", "(missing)",
                        "set type: global (a full copy on every node) or type: sharded (hash-partitioned on distributedby)"),
                row("type unknown", withTables("{name: airports, type: distributed}"), T + "[0].type", "\"distributed\"",
                        "set type: global"),
                row("sharded without distributedby", withTables(TICKETS, "{name: t, type: sharded}"),
                        T + "[1].distributedby", "(missing)",
                        "a sharded table needs distributedby: the column (or comma-separated columns) to shard on"),
                row("sharded with empty distributedby", withTables("{name: t, type: sharded, distributedby: }"),
                        T + "[0].distributedby", "(empty)", "a sharded table needs distributedby"),
                row("empty column in distributedby", withTables("{name: t, type: sharded, distributedby: \"a,,b\"}"),
                        T + "[0].distributedby", "\"a,,b\"", "a column name is empty",
                        "columns separated by single commas (distributedby: book_ref,ticket_no)"),
                row("column twice in distributedby", withTables("{name: t, type: sharded, distributedby: \"a, a\"}"),
                        T + "[0].distributedby", "\"a, a\"", "a column is named twice"),
                row("global with distributedby", withTables("{name: g, type: global, distributedby: id}"),
                        T + "[0].distributedby", "\"id\"", "a global table is copied whole to every node and has no "
                                + "sharding key; remove distributedby or make bookings.g type: sharded"),
                row("global with colocatewith", withTables(TICKETS, "{name: g, type: global, colocatewith: tickets}"),
                        T + "[1].colocatewith", "\"tickets\"", "cannot be colocated; remove colocatewith"),
                row("global with partitions", withTables("{name: g, type: reference, partitions: 4}"),
                        T + "[0].partitions", "4", "is not partitioned; remove partitions or make bookings.g type: sharded"),
                row("global with widen_unique", withTables("{name: g, type: global, widen_unique: true}"),
                        T + "[0].widen_unique", "true", "widen_unique applies to sharded tables only"),
                row("colocatewith unknown table", withTables(TICKETS,
                                "{name: tf, type: sharded, distributedby: ticket_no, colocatewith: tikets}"),
                        T + "[1].colocatewith", "\"tikets\"", "there is no table bookings.tikets in this spec",
                        "colocatewith must name a sharded table listed under schemas", "did you mean bookings.tickets?"),
                row("colocatewith other schema", withTables(TICKETS,
                                "{name: tf, type: sharded, distributedby: ticket_no, colocatewith: other.tickets}"),
                        T + "[1].colocatewith", "\"other.tickets\"", "there is no table other.tickets in this spec"),
                row("colocatewith a global table", withTables("{name: airports, type: global}",
                                "{name: tf, type: sharded, distributedby: ticket_no, colocatewith: airports}"),
                        T + "[1].colocatewith", "\"airports\"", "bookings.airports is a global table; colocatewith must "
                                + "name a sharded table"),
                row("colocatewith cycle", withTables(
                                "{name: a, type: sharded, distributedby: id, colocatewith: b}",
                                "{name: b, type: sharded, distributedby: id, colocatewith: c}",
                                "{name: c, type: sharded, distributedby: id, colocatewith: a}"),
                        T + "[0].colocatewith", "\"b\"", "colocatewith goes round in a cycle (bookings.a → bookings.b → "
                                + "bookings.c → bookings.a); one table of the group must be its root and have no colocatewith"),
                row("colocatewith itself", withTables("{name: a, type: sharded, distributedby: id, colocatewith: a}"),
                        T + "[0].colocatewith", "\"a\"", "cycle (bookings.a → bookings.a)"),
                row("colocated partitions differ", withTables(TICKETS,
                                "{name: tf, type: sharded, distributedby: ticket_no, colocatewith: tickets, partitions: 8}"),
                        T + "[1].partitions", "8", "bookings.tf is colocated with bookings.tickets, which has 4 partitions; "
                                + "colocated tables must have the same number of partitions: set partitions: 4 or remove it"),
                row("colocated partitions differ from default", withTables("{name: r, type: sharded, distributedby: id}",
                                "{name: tf, type: sharded, distributedby: id, colocatewith: r, partitions: 8}"),
                        T + "[1].partitions", "8", "which has 20 partitions (the default)", "set partitions: 20"),
                row("colocated key width differs", withTables(TICKETS,
                                "{name: tf, type: sharded, distributedby: \"ticket_no,flight_id\", colocatewith: tickets}"),
                        T + "[1].distributedby", "\"ticket_no,flight_id\"", "which shards on 1 column (ticket_no)",
                        "must shard on the same number of columns"),
                row("partitions zero", withTables("{name: t, type: sharded, distributedby: id, partitions: 0}"),
                        T + "[0].partitions", "0", "must be a whole number of at least 1"),
                row("partitions text", withTables("{name: t, type: sharded, distributedby: id, partitions: lots}"),
                        T + "[0].partitions", "\"lots\"", "must be a whole number of at least 1"),
                row("partitions fewer than nodes", withTables("{name: t, type: sharded, distributedby: id, partitions: 1}"),
                        T + "[0].partitions", "1", "with 2 cluster nodes, 1 node would hold no partition of bookings.t",
                        "partition i lives on node i mod 2", "use partitions: 2 or more, a multiple of 2 (e.g. 4)"),
                row("default partitions fewer than nodes", manyNodes(21), T + "[0].partitions", "(default 20)",
                        "with 21 cluster nodes, 1 node would hold no partition", "use partitions: 21 or more"),
                row("priority not a number", withTables("{name: g, type: global, priority: high}"), T + "[0].priority",
                        "\"high\"", "must be a whole number: tables with a higher priority load first"),
                row("priority fractional", withTables("{name: g, type: global, priority: 1.5}"), T + "[0].priority",
                        "1.5", "must be a whole number"),
                row("jobs not a number", base.replace("migrate:\n", "migrate:\n  jobs: many\n"), "migrate.jobs", "\"many\"",
                        "must be a whole number from 1 to 256: the number of parallel copy workers, e.g. jobs: 4"),
                row("jobs zero", base.replace("migrate:\n", "migrate:\n  jobs: 0\n"), "migrate.jobs", "0", "from 1 to 256"),
                row("jobs huge", base.replace("migrate:\n", "migrate:\n  jobs: 99999999999999999999\n"), "migrate.jobs",
                        "99999999999999999999", "from 1 to 256"),
                row("batch too big", base.replace("migrate:\n", "migrate:\n  batch: 2000000\n"), "migrate.batch", "2000000",
                        "must be a whole number from 1 to 1000000: rows per batch"),
                row("key nested and at the top", base.replace("migrate:\n", "jobs: 2\nmigrate:\n  jobs: 3\n"), "jobs", "2",
                        "jobs is given both under migrate: and at the top level; keep one of them"),
                row("migrate not a mapping", "version: \"1.0\"\nmigrate: yes\nconnstr: \"host=src\"\nschemas: [{name: s, all: true}]\n"
                                + "cluster: {nodes: [\"host=n1\"]}\n", "migrate", "true",
                        "must be a mapping of connstr, jobs, batch, options and schemas"),
                row("schemas missing", "version: \"1.0\"\nconnstr: \"host=src\"\ncluster: {nodes: [\"host=n1\"]}\n",
                        "schemas", "(missing)", "list the schemas to migrate"),
                row("schemas empty", base.replace("schemas:\n", "schemas: []\n  zz:\n").replaceAll("(?s)  zz:.*?cluster", "cluster"),
                        "migrate.schemas", "(an empty list)", "lists no schema"),
                row("schema migrates nothing", "version: \"1.0\"\nconnstr: \"host=src\"\nschemas: [{name: s}]\n"
                                + "cluster: {nodes: [\"host=n1\"]}\n", "schemas[0].tables", "(missing)",
                        "schema s migrates nothing: list its tables under tables: or set all: true"),
                row("all not a boolean", base.replace("- name: bookings", "- name: bookings\n      all: maybe"),
                        "migrate.schemas[0].all", "\"maybe\"", "must be true or false"),
                row("unlisted without all", unlisted(false, "{type: global}"), U, "(a mapping)",
                        "only a schema with all: true migrates unlisted tables (all: is not set)",
                        "set all: true on schema bookings, or remove unlisted"),
                row("unlisted with all: false", unlisted(false, "{type: global}").replace("- name: bookings\n",
                                "- name: bookings\n      all: false\n"), U, "(a mapping)", "(all: is false)",
                        "set all: true on schema bookings"),
                row("unlisted unknown key", unlisted(true, "{type: sharded, distributedby: tenant_id, partition: 4}"),
                        U + ".partition", "4", "unknown key in unlisted:; did you mean partitions?"),
                row("unlisted not a mapping", unlisted(true, "sharded"), U, "\"sharded\"",
                        "must be a mapping with type:", "e.g. unlisted: {type: sharded, distributedby: tenant_id, colocatewith: tenants}"),
                row("unlisted empty", unlisted(true, ""), U, "(empty)", "is empty", "or remove unlisted (they are then global)"),
                row("unlisted type missing", unlisted(true, "{distributedby: tenant_id}"), U + ".type", "(missing)",
                        "set type: global (a full copy on every node) or type: sharded"),
                row("unlisted sharded without distributedby", unlisted(true, "{type: sharded, colocatewith: tickets}"),
                        U + ".distributedby", "(missing)", "unlisted: {type: sharded} needs distributedby: the column",
                        "unlisted tables of schema bookings are sharded on", "(a table without that column stays global)"),
                row("unlisted global with distributedby", unlisted(true, "{type: global, distributedby: tenant_id}"),
                        U + ".distributedby", "\"tenant_id\"", "with type: global every unlisted table of schema bookings is "
                                + "copied whole to every node; remove distributedby, or set type: sharded"),
                row("unlisted global with partitions", unlisted(true, "{type: global, partitions: 4}"), U + ".partitions",
                        "4", "remove partitions, or set type: sharded"),
                row("unlisted colocatewith unknown", unlisted(true, "{type: sharded, distributedby: t, colocatewith: tikets}"),
                        U + ".colocatewith", "\"tikets\"", "there is no table bookings.tikets listed in this spec",
                        "must name a sharded table listed under schemas", "not an unlisted one", "did you mean bookings.tickets?"),
                row("unlisted colocatewith a global table", unlisted(true,
                                "{type: sharded, distributedby: t, colocatewith: airports}"), U + ".colocatewith",
                        "\"airports\"", "bookings.airports is a global table; colocatewith must name a sharded table"),
                row("unlisted colocated key width differs", unlisted(true,
                                "{type: sharded, distributedby: \"tenant_id,id\", colocatewith: tickets}"), U + ".distributedby",
                        "\"tenant_id,id\"", "the unlisted tables of schema bookings are colocated with bookings.tickets, which"
                                + " shards on 1 column (ticket_no)", "the rule must shard on the same number of columns"),
                row("unlisted colocated partitions differ", unlisted(true,
                                "{type: sharded, distributedby: t, colocatewith: tickets, partitions: 8}"), U + ".partitions", "8",
                        "colocated with bookings.tickets, which has 4 partitions", "set partitions: 4 or remove it"),
                row("unlisted partitions fewer than nodes", unlisted(true, "{type: sharded, distributedby: t, partitions: 1}"),
                        U + ".partitions", "1", "with 2 cluster nodes, 1 node would hold no partition of the unlisted tables"
                                + " of schema bookings", "use partitions: 2 or more"),
                row("table entry not a mapping", withTables("airports"), T + "[0]", "\"airports\"",
                        "each table entry must be a mapping with at least name: and type:"),
                row("kafka bootstrap", base + "kafka: {bootstrap: \"k1:9092, k2\"}\n", "kafka.bootstrap", "\"k1:9092, k2\"",
                        "must be embedded (shardlift runs its own broker) or a comma list of host:port", "not host:port: \"k2\""),
                row("kafka bootstrap bad port", base + "kafka: {bootstrap: \"k1:0\"}\n", "kafka.bootstrap", "\"k1:0\"",
                        "not host:port: \"k1:0\""),
                row("kafka replication factor on embedded", base + "kafka: {replication_factor: 3}\n",
                        "kafka.replication_factor", "3", "the embedded broker is a single broker, so replication_factor must be 1"),
                row("kafka topic partitions", base + "kafka: {bootstrap: \"k:9092\", topic_partitions: 0}\n",
                        "kafka.topic_partitions", "0", "must be a whole number of at least 1"),
                row("kafka topic prefix", base + "kafka: {topic_prefix: \"my prefix\"}\n", "kafka.topic_prefix",
                        "\"my prefix\"", "letters, digits, '.', '_' and '-'"),
                row("kafka not a mapping", base + "kafka: embedded\n", "kafka", "\"embedded\"", "must be a mapping"),
                row("cluster not a mapping", base.replaceAll("(?s)cluster:.*", "cluster: [\"host=n1\"]\n"), "cluster", "(a list)",
                        "must be a mapping (keys indented under cluster:)"),
                row("slot name", base + "replication: {slot: Shard-Lift}\n", "replication.slot", "\"Shard-Lift\"",
                        "a replication slot name must be a plain PostgreSQL identifier: lowercase letters, digits and _, "
                                + "starting with a letter or _, at most 63 characters; e.g. shard_lift"),
                row("publication name too long", base + "replication: {publication: " + "p".repeat(64) + "}\n",
                        "replication.publication", "\"" + "p".repeat(64) + "\"", "a publication name must be", "at most 63"),
                row("publication starts with digit", base + "replication: {publication: 1pub}\n",
                        "replication.publication", "\"1pub\"", "e.g. _1pub"),
                row("listen without port", base + "control: {listen: localhost}\n", "control.listen", "\"localhost\"",
                        "must be host:port with a port from 1 to 65535, e.g. listen: 127.0.0.1:8080"),
                row("listen port out of range", base + "control: {listen: \"127.0.0.1:70000\"}\n", "control.listen",
                        "\"127.0.0.1:70000\"", "port from 1 to 65535"),
                row("listen bare IPv6", base + "control: {listen: \"::1:8080\"}\n", "control.listen", "\"::1:8080\"",
                        "an IPv6 address goes in brackets: [::1]:8080"),
                row("listen a number", base + "control: {listen: 8080}\n", "control.listen", "8080", "must be host:port"),
                row("every interface in plain HTTP", base + "control: {listen: \"0.0.0.0:8080\"}\n", "control.listen",
                        "\"0.0.0.0:8080\"", "is not a loopback address", "configure control.tls",
                        "control.allow_plain_http: true"),
                row("a host name in plain HTTP", base + "control: {listen: \"shardlift.internal:8080\"}\n", "control.listen",
                        "\"shardlift.internal:8080\"", "is not a loopback address"),
                row("tls without key", base + "control: {listen: \"0.0.0.0:8443\", tls: {cert: /etc/c.pem}}\n", "control.tls.key",
                        "(missing)", "needs the path of a PEM file"),
                row("tls not a mapping", base + "control: {tls: on}\n", "control.tls", "true", "must be a mapping"),
                row("allow_plain_http not a boolean", base + "control: {allow_plain_http: often}\n", "control.allow_plain_http",
                        "\"often\"", "must be true or false"),
                row("token_env not a name", base + "control: {token_env: \"1-TOKEN\"}\n", "control.token_env", "******",
                        "must be the NAME of an environment variable", "e.g. token_env: SHARDLIFT_TOKEN"),
                row("missing environment variable", base.replace("host=n1", "host=${NODE1_HOST}"), "cluster.nodes[0]",
                        "\"${NODE1_HOST}\"", "environment variable NODE1_HOST is not set; export it"),
                row("unterminated variable", base.replace("host=n1", "host=${NODE1_HOST"), "cluster.nodes[0]",
                        "\"${NODE1_HOST dbname=demo\"", "unterminated ${"),
                row("bad variable name", base.replace("host=n1", "host=${1X}"), "cluster.nodes[0]", "\"${1X}\"",
                        "\"1X\" is not an environment variable name"),
                row("yaml syntax", base.replace("  schemas:", "  schemas: : :"), "(yaml)", "line 4, column 12",
                        "mapping values are not allowed here; fix the YAML there"),
                row("yaml tab", base.replace("  connstr:", "\tconnstr:"), "(yaml)", "line 3, column 1",
                        "Do not use \\t(TAB) for indentation"),
                row("duplicate key", base.replace("migrate:\n", "migrate:\n  jobs: 1\n  jobs: 2\n"), "(yaml)",
                        "line 4, column 7", "key 'jobs' appears twice in the same mapping"),
                row("empty file", "# nothing\n", "(file)", "(empty)", "the spec is empty"),
                row("not a mapping", "- a\n- b\n", "(file)", "(a list)", "the spec must be a mapping"));
    }

    static final String U = "migrate.schemas[0].unlisted";

    /** The valid spec, its schema with {@code all: true} if asked, and {@code unlisted:} as given (a flow value). */
    static String unlisted(boolean all, String rule) {
        return valid().replace("- name: bookings\n", "- name: bookings\n" + (all ? "      all: true\n" : "")
                + "      unlisted: " + rule + "\n");
    }

    static String manyNodes(int n) {
        StringBuilder nodes = new StringBuilder("[");
        for (int i = 0; i < n; i++) {
            nodes.append(i == 0 ? "" : ", ").append("\"host=n").append(i).append(" dbname=demo\"");
        }
        return withTables("{name: t, type: sharded, distributedby: id}")
                .replace("[\"host=n1 dbname=demo\", \"host=n2 dbname=demo\"]", nodes + "]");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rules")
    void reportsTheRule(String rule, String yaml, String key, String value, List<String> fragments) {
        List<Problem> problems = problems(yaml);
        assertThat(problems).as("problems for %s", rule).filteredOn(p -> p.key().equals(key)).hasSize(1)
                .first().satisfies(p -> {
                    assertThat(p.value()).isEqualTo(value);
                    assertThat(p.rule()).contains(fragments);
                });
    }

    @Test
    void reportsEveryProblemAtOnceOnePerLine() {
        String yaml = """
                version: "2"
                migrate:
                  connstr: "host=src dbname=demo"
                  jobs: many
                  schemas:
                    - name: bookings
                      tables:
                        - {name: tickets, type: sharded}
                        - {name: airports, type: global, colocate_with: tickets}
                kafka: {replication_factor: 2}
                """;
        assertThatThrownBy(() -> loader().parse(yaml, "many.yml")).isInstanceOfSatisfying(SpecException.class, e -> {
            assertThat(e.sourceName()).isEqualTo("many.yml");
            assertThat(e.problems()).extracting(Problem::key).containsExactlyInAnyOrder(
                    "version", "migrate.jobs", "migrate.schemas[0].tables[0].distributedby",
                    "migrate.schemas[0].tables[1].colocate_with", "cluster.nodes", "kafka.replication_factor");
            List<String> lines = e.getMessage().lines().toList();
            assertThat(lines).hasSize(1 + e.problems().size());
            assertThat(lines.get(0)).isEqualTo("many.yml: 6 problems in the migration spec");
            assertThat(lines).contains("migrate.schemas[0].tables[0].distributedby: (missing) — a sharded table needs "
                    + "distributedby: the column (or comma-separated columns) to shard on");
            assertThat(lines).contains("migrate.schemas[0].tables[1].colocate_with: \"tickets\" — unknown key in a table "
                    + "entry; did you mean colocatewith?");
            assertThat(lines).contains("migrate.jobs: \"many\" — must be a whole number from 1 to 256: the number of "
                    + "parallel copy workers, e.g. jobs: 4");
        });
    }

    /** Every value of the full example replaced by every other YAML shape: a SpecException or a spec, never a crash. */
    @Test
    void wrongShapesAnywhereAreProblemsNotCrashes() {
        String[] shapes = {"[1, {a: b}]", "{x: [1]}", "~", "-7", "\"zzz\"", "true", "1.5", "\"\"", "[]", "{}",
                "99999999999999999999"};
        int tried = 0;
        String withRule = SpecFixtures.NESTED.replace("  all: false\n", "  all: true\n      unlisted:\n        type: sharded\n"
                + "        distributedby: ticket_no\n        colocatewith: tickets\n        partitions: 8\n");
        for (String spec : List.of(SpecFixtures.NESTED, SpecFixtures.resource("shardman-naive.yml") + SpecFixtures.TWO_NODES,
                withRule)) {
            tried += tryShapes(spec, shapes);
        }
        assertThat(tried).isGreaterThan(500);
    }

    private static int tryShapes(String spec, String[] shapes) {
        List<String> lines = spec.lines().toList();
        int tried = 0;
        for (int i = 0; i < lines.size(); i++) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("^(\\s*(?:- )?[a-z_]+:) (.+)$").matcher(lines.get(i));
            if (!m.matches()) {
                continue;
            }
            for (String shape : shapes) {
                List<String> copy = new java.util.ArrayList<>(lines);
                copy.set(i, m.group(1) + " " + shape);
                String yaml = String.join("\n", copy) + "\n";
                try {
                    loader().parse(yaml, "shape.yml");
                } catch (SpecException e) {
                    assertThat(e.problems()).isNotEmpty();
                } catch (RuntimeException e) {
                    throw new AssertionError("crash on line " + (i + 1) + " := " + shape + "\n" + yaml, e);
                }
                tried++;
            }
        }
        return tried;
    }

    @Test
    void anythingGoesUnderOptions() {
        String yaml = valid().replace("migrate:\n", "migrate:\n  options: {colocatewith: 1, zzz: [x], jobs: many}\n");
        assertThat(loader().parse(yaml, "o.yml").options()).containsOnlyKeys("colocatewith", "zzz", "jobs");
    }

    @Test
    void environmentValuesAreTypedWhereTheKeyNeedsIt() {
        String yaml = valid().replace("migrate:\n", "migrate:\n  jobs: ${JOBS}\n  batch: \"${BATCH:-500}\"\n")
                .replace("- name: bookings", "- name: bookings\n      all: ${ALL}");
        MigrationSpec spec = loader(Map.of("JOBS", "16", "ALL", "true")).parse(yaml, "env.yml");
        assertThat(spec.jobs()).isEqualTo(16);
        assertThat(spec.batch()).isEqualTo(500);
        assertThat(spec.schemas().get(0).all()).isTrue();
    }

    @Test
    void environmentInterpolationInStrings() {
        String yaml = valid().replace("host=src", "host=${SRC_HOST} application_name=$${literal}")
                .replace("host=n2", "host=${N2:-fallback-node}")
                .replace("{name: airports", "{name: \"${PREFIX}airports\"");
        MigrationSpec spec = loader(Map.of("SRC_HOST", "db.internal", "PREFIX", "x_")).parse(yaml, "env.yml");
        assertThat(spec.source().host()).isEqualTo("db.internal");
        assertThat(spec.source().params()).containsEntry("application_name", "${literal}");
        assertThat(spec.nodes().get(1).host()).isEqualTo("fallback-node");
        assertThat(spec.tables().get(0).id().name()).isEqualTo("x_airports");
    }

    @Test
    void typeIsCaseInsensitiveAndReferenceMeansGlobal() {
        MigrationSpec spec = loader().parse(withTables("{name: a, type: GLOBAL}", "{name: b, type: Reference}",
                "{name: c, type: SHARDED, distributedby: id, partitions: 2}"), "t.yml");
        assertThat(spec.tables()).extracting(TableSpec::type)
                .containsExactly(TableType.GLOBAL, TableType.GLOBAL, TableType.SHARDED);
    }
}
