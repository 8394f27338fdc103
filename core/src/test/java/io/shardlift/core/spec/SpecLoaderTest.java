package io.shardlift.core.spec;

import static io.shardlift.core.spec.SpecFixtures.loader;
import static io.shardlift.core.spec.SpecFixtures.resource;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.shardlift.core.TableId;

class SpecLoaderTest {

    static TableId bookings(String table) {
        return new TableId("bookings", table);
    }

    @Test
    void shardmanNaiveExampleAsPrintedPlusACluster() {
        MigrationSpec spec = loader().parse(resource("shardman-naive.yml") + SpecFixtures.TWO_NODES, "naive.yml");

        assertThat(spec.version()).isEqualTo("1.0");
        assertThat(spec.source().host()).isEqualTo("single-pg-instance");
        assertThat(spec.source().dbname()).isEqualTo("demo");
        assertThat(spec.jobs()).isEqualTo(8);
        assertThat(spec.batch()).isEqualTo(2000);
        assertThat(spec.options()).isEmpty();
        assertThat(spec.schemas()).extracting(SchemaSpec::name, SchemaSpec::all).containsExactly(tuple("bookings", false));
        assertThat(spec.tables())
                .extracting(t -> t.id().name(), TableSpec::type, TableSpec::distributedBy, TableSpec::colocateWith,
                        TableSpec::partitions, TableSpec::priority)
                .containsExactly(
                        tuple("airports", TableType.GLOBAL, List.of(), Optional.empty(), 1, 3),
                        tuple("aircrafts", TableType.GLOBAL, List.of(), Optional.empty(), 1, 3),
                        tuple("seats", TableType.GLOBAL, List.of(), Optional.empty(), 1, 3),
                        tuple("bookings", TableType.GLOBAL, List.of(), Optional.empty(), 1, 3),
                        tuple("flights", TableType.GLOBAL, List.of(), Optional.empty(), 1, 3),
                        tuple("tickets", TableType.SHARDED, List.of("ticket_no"), Optional.empty(), 4, 2),
                        tuple("ticket_flights", TableType.SHARDED, List.of("ticket_no"), Optional.of(bookings("tickets")), 4, 2),
                        tuple("boarding_passes", TableType.SHARDED, List.of("ticket_no"), Optional.of(bookings("tickets")), 4, 1));
        assertThat(spec.colocationRoot(spec.table(bookings("boarding_passes")).orElseThrow()).id())
                .isEqualTo(bookings("tickets"));
    }

    @Test
    void shardmanComplexExampleAsPrintedPlusACluster() {
        MigrationSpec spec = loader().parse(resource("shardman-complex.yml") + SpecFixtures.TWO_NODES, "complex.yml");

        assertThat(spec.jobs()).isEqualTo(8);
        assertThat(spec.tables())
                .extracting(t -> t.id().name(), TableSpec::type, TableSpec::distributedBy, TableSpec::colocateWith,
                        TableSpec::partitions, TableSpec::priority)
                .containsExactly(
                        tuple("airports", TableType.GLOBAL, List.of(), Optional.empty(), 1, 5),
                        tuple("aircrafts", TableType.GLOBAL, List.of(), Optional.empty(), 1, 5),
                        tuple("seats", TableType.GLOBAL, List.of(), Optional.empty(), 1, 5),
                        tuple("flights", TableType.GLOBAL, List.of(), Optional.empty(), 1, 5),
                        tuple("bookings", TableType.SHARDED, List.of("book_ref"), Optional.empty(), 4, 4),
                        tuple("tickets", TableType.SHARDED, List.of("book_ref"), Optional.of(bookings("bookings")), 4, 3),
                        tuple("ticket_flights", TableType.SHARDED, List.of("book_ref"), Optional.of(bookings("bookings")), 4, 2),
                        tuple("boarding_passes", TableType.SHARDED, List.of("book_ref"), Optional.of(bookings("bookings")), 4, 1));
    }

    @ParameterizedTest
    @ValueSource(strings = {"shardman-naive.yml", "shardman-complex.yml"})
    void shardmanFilesAloneLackOnlyTheCluster(String file) {
        assertThatThrownBy(() -> loader().parse(resource(file), file))
                .isInstanceOfSatisfying(SpecException.class, e -> assertThat(e.problems()).containsExactly(new Problem(
                        "cluster.nodes", "(missing)", "list the target cluster's nodes, one connection string each: "
                        + "cluster: {nodes: [\"host=node1 port=5432 dbname=demo user=postgres\", "
                        + "\"postgres://postgres@node2:5432/demo\"]}")));
    }

    @Test
    void nestedFormOfTheTask() {
        MigrationSpec spec = loader().parse(SpecFixtures.NESTED, "nested.yml");

        assertThat(spec.source().label()).isEqualTo("127.0.0.1:5432/demo");
        assertThat(spec.jobs()).isEqualTo(4);
        assertThat(spec.batch()).isEqualTo(2000);
        assertThat(spec.options()).containsOnlyKeys("...");
        assertThat(spec.nodes()).extracting(ConnInfo::label).containsExactly("127.0.0.1:6001/demo", "127.0.0.1:6002/demo");
        assertThat(spec.tables())
                .extracting(t -> t.id().name(), TableSpec::type, TableSpec::partitions, TableSpec::priority,
                        TableSpec::widenUnique)
                .containsExactly(
                        tuple("airports", TableType.GLOBAL, 1, 3, false),
                        tuple("tickets", TableType.SHARDED, 8, 2, false),
                        tuple("ticket_flights", TableType.SHARDED, 8, 1, false),
                        tuple("boarding_passes", TableType.SHARDED, 8, 0, true));
        assertThat(spec.kafka()).isEqualTo(new KafkaSpec(true, "embedded", 8, (short) 1, "shardlift"));
        assertThat(spec.replication()).isEqualTo(new ReplicationSpec("shardlift", "shardlift"));
        assertThat(spec.control()).isEqualTo(new ControlSpec("127.0.0.1", 8080, "SHARDLIFT_TOKEN"));
    }

    @Test
    void defaultsWhenSectionsAndKeysAreLeftOut() {
        MigrationSpec spec = loader().parse("""
                version: 1.0
                connstr: "host=src dbname=demo"
                schemas:
                  - name: public
                    tables:
                      - {name: orders, type: Sharded, distributedby: "customer_id, order_id"}
                      - {name: countries, type: REFERENCE}
                cluster:
                  nodes: ["host=n1 dbname=demo"]
                """, "defaults.yml");
        assertThat(spec.jobs()).isEqualTo(4);
        assertThat(spec.batch()).isEqualTo(2000);
        assertThat(spec.options()).isEmpty();
        assertThat(spec.table(new TableId("public", "orders"))).get()
                .isEqualTo(new TableSpec(new TableId("public", "orders"), TableType.SHARDED,
                        List.of("customer_id", "order_id"), Optional.empty(), 20, 0, false));
        assertThat(spec.table(new TableId("public", "countries")).orElseThrow().type()).isEqualTo(TableType.GLOBAL);
        assertThat(spec.table(new TableId("public", "nope"))).isEmpty();
        assertThat(spec.kafka()).isEqualTo(KafkaSpec.defaults());
        assertThat(spec.replication()).isEqualTo(ReplicationSpec.defaults());
        assertThat(spec.control()).isEqualTo(ControlSpec.defaults());
    }

    @Test
    void replicationDdlIsReplicateByDefaultOrStopAndNothingElse() {
        String base = """
                version: 1.0
                connstr: "host=src dbname=demo"
                schemas:
                  - name: public
                    tables:
                      - {name: countries, type: global}
                cluster:
                  nodes: ["host=n1 dbname=demo"]
                """;
        assertThat(loader().parse(base, "d.yml").replication().ddl()).isEqualTo(ReplicationSpec.Ddl.REPLICATE);
        assertThat(loader().parse(base + "replication: {ddl: stop}\n", "d.yml").replication())
                .isEqualTo(new ReplicationSpec("shardlift", "shardlift", ReplicationSpec.Ddl.STOP));
        assertThat(loader().parse(base + "replication: {ddl: replicate}\n", "d.yml").replication().replicateDdl()).isTrue();
        assertThatThrownBy(() -> loader().parse(base + "replication: {ddl: ignore}\n", "d.yml"))
                .isInstanceOfSatisfying(SpecException.class, e -> assertThat(e.problems()).anySatisfy(p -> {
                    assertThat(p.key()).isEqualTo("replication.ddl");
                    assertThat(p.rule()).contains("'replicate'", "'stop'");
                }));
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"1.0\"", "\"1\"", "1.0", "1", "'1.0'"})
    void versionSpellings(String version) {
        assertThat(loader().parse(SpecFixtures.valid().replace("\"1.0\"", version), "v.yml").version()).isEqualTo("1.0");
    }

    @Test
    void colocationAcrossSchemasChainsAndAllFlag() {
        MigrationSpec spec = loader().parse("""
                version: "1.0"
                migrate:
                  connstr: "host=src dbname=demo"
                  schemas:
                    - name: sales
                      tables:
                        - name: customers
                          type: sharded
                          distributedby: [id]
                          partitions: 6
                        - {name: orders, type: sharded, distributedby: customer_id, colocatewith: customers}
                    - name: billing
                      all: true
                      tables:
                        - {name: invoices, type: sharded, distributedby: customer_id, colocatewith: sales.orders, partitions: 6}
                    - name: audit
                      all: yes
                cluster:
                  nodes: ["host=n1 dbname=demo", "host=n2 dbname=demo", "host=n3 dbname=demo"]
                """, "chain.yml");
        TableSpec invoices = spec.table(new TableId("billing", "invoices")).orElseThrow();
        assertThat(invoices.colocateWith()).contains(new TableId("sales", "orders"));
        assertThat(spec.colocationRoot(invoices).id()).isEqualTo(new TableId("sales", "customers"));
        assertThat(invoices.partitions()).isEqualTo(6);
        assertThat(spec.table(new TableId("sales", "orders")).orElseThrow().partitions()).isEqualTo(6);
        assertThat(spec.schemas()).extracting(SchemaSpec::name, SchemaSpec::all, s -> s.tables().size())
                .containsExactly(tuple("sales", false, 2), tuple("billing", true, 1), tuple("audit", true, 0));
    }

    @Test
    void unlistedRuleOfAWholeSchema() {
        MigrationSpec spec = loader().parse("""
                version: "1.0"
                migrate:
                  connstr: "host=src dbname=demo"
                  schemas:
                    - name: sales
                      tables:
                        - {name: tenants, type: sharded, distributedby: id, partitions: 6}
                    - name: app
                      all: true
                      unlisted: {type: sharded, distributedby: tenant_id, colocatewith: sales.tenants}
                      tables:
                        - {name: settings, type: global}
                    - name: wide
                      all: true
                      unlisted:
                        type: sharded
                        distributedby: [region, tenant_id]
                    - name: refs
                      all: true
                      unlisted: {type: reference}
                    - name: plain
                      all: true
                cluster:
                  nodes: ["host=n1 dbname=demo", "host=n2 dbname=demo", "host=n3 dbname=demo"]
                """, "unlisted.yml");
        assertThat(spec.schemas()).extracting(SchemaSpec::name, SchemaSpec::unlisted).containsExactly(
                tuple("sales", UnlistedRule.GLOBAL),
                // colocated: the partitions are the group's
                tuple("app", new UnlistedRule(TableType.SHARDED, List.of("tenant_id"), Optional.of(new TableId("sales", "tenants")), 6)),
                tuple("wide", new UnlistedRule(TableType.SHARDED, List.of("region", "tenant_id"), Optional.empty(),
                        TableSpec.DEFAULT_PARTITIONS)),
                tuple("refs", UnlistedRule.GLOBAL),
                tuple("plain", UnlistedRule.GLOBAL));
        assertThat(spec.schemas().get(1).unlisted().describe())
                .isEqualTo("{type: sharded, distributedby: tenant_id, colocatewith: sales.tenants, partitions: 6}");

        String yaml = spec.describe();
        assertThat(yaml).contains("unlisted:", "distributedby: tenant_id", "colocatewith: sales.tenants", "distributedby: \"region,tenant_id\"");
        MigrationSpec again = loader().parse(yaml, "described.yml");
        assertThat(again.schemas()).isEqualTo(spec.schemas());
        assertThat(again.describe()).isEqualTo(yaml);
    }

    @Test
    void optionsAreOpaque() {
        String head = "version: \"1.0\"\nmigrate:\n  connstr: \"host=src dbname=demo\"\n  options:";
        String tail = "\n  schemas: [{name: s, all: true}]\ncluster: {nodes: [\"host=n1 dbname=demo\"]}\n";
        assertThat(loader().parse(head + " {anything: [1, 2], Wh4t3ver: {deep: null}}" + tail, "o").options())
                .isEqualTo(Map.of("anything", List.of(1, 2), "Wh4t3ver", java.util.Collections.singletonMap("deep", null)));
        assertThat(loader().parse(head + "\n    - create_schema\n    - truncate_table" + tail, "o").options())
                .containsExactly(Map.entry("create_schema", true), Map.entry("truncate_table", true));
        assertThat(loader().parse(head + " {}" + tail, "o").options()).isEmpty();
        assertThat(loader().parse(head + tail, "o").options()).isEmpty();
    }

    @Test
    void describePrintsTheEffectiveConfigMaskedAndReadsBack() {
        MigrationSpec spec = loader().parse(SpecFixtures.NESTED.replace("user=postgres\"\n  jobs",
                "user=postgres password=Pw-describe-77\"\n  jobs"), "nested.yml");
        assertThat(spec.source().password()).contains("Pw-describe-77");
        String yaml = spec.describe();
        assertThat(yaml).doesNotContain("Pw-describe-77")
                .contains("version: \"1.0\"")
                .contains("connstr: host=127.0.0.1 port=5432 dbname=demo user=postgres password=******")
                .contains("- host=127.0.0.1 port=6002 dbname=demo user=postgres")
                .contains("colocatewith: tickets")
                .contains("listen: 127.0.0.1:8080")
                .contains("token_env: SHARDLIFT_TOKEN");
        MigrationSpec again = loader().parse(yaml, "described.yml");
        assertThat(again.tables()).isEqualTo(spec.tables());
        assertThat(again.nodes()).isEqualTo(spec.nodes());
        assertThat(again.kafka()).isEqualTo(spec.kafka());
        assertThat(again.control()).isEqualTo(spec.control());
        assertThat(again.describe()).isEqualTo(yaml);
    }

    @Test
    void recordsAreImmutable() {
        MigrationSpec spec = loader().parse(SpecFixtures.NESTED, "nested.yml");
        assertThatThrownBy(() -> spec.tables().clear()).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> spec.schemas().get(0).tables().clear()).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> spec.options().clear()).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> spec.nodes().clear()).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> spec.source().params().clear()).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void loadsFromAFileAndNamesItInErrors(@TempDir Path dir) throws IOException {
        Path good = dir.resolve("migrate.yml");
        Files.writeString(good, SpecFixtures.NESTED);
        assertThat(loader().load(good).tables()).hasSize(4);

        Path missing = dir.resolve("absent.yml");
        assertThatThrownBy(() -> loader().load(missing)).isInstanceOf(SpecException.class)
                .hasMessageStartingWith(missing + ": 1 problem in the migration spec\n")
                .hasMessageContaining("(file): \"" + missing + "\" — cannot read the spec (NoSuchFileException)");
    }

    @Test
    void nonLoopbackListenNeedsTlsOrTheOptIn() {
        String base = SpecFixtures.withTables("{name: airports, type: global}");
        MigrationSpec plain = loader().parse(base + "control: {listen: \"0.0.0.0:8080\", allow_plain_http: true}\n", "p.yml");
        assertThat(plain.control().allowPlainHttp()).isTrue();
        assertThat(plain.control().scheme()).isEqualTo("http");
        MigrationSpec tls = loader().parse(base + "control: {listen: \"0.0.0.0:8443\", tls: {cert: /etc/s/c.pem, key: /etc/s/k.pem}}\n",
                "t.yml");
        assertThat(tls.control().tls()).contains(new ControlSpec.Tls(Path.of("/etc/s/c.pem"), Path.of("/etc/s/k.pem"), Optional.empty()));
        assertThat(tls.control().scheme()).isEqualTo("https");
        assertThat(tls.describe()).contains("cert: /etc/s/c.pem").contains("key: /etc/s/k.pem");
        assertThat(loader().parse(base + "control: {listen: \"localhost:8080\"}\n", "l.yml").control().tls()).isEmpty();
        assertThat(loader().parse(base + "control: {listen: \"[::1]:8080\"}\n", "l.yml").control().allowPlainHttp()).isFalse();
    }
}
