package io.shardlift.core.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlift.core.TableId;
import io.shardlift.core.catalog.SourceCatalog;
import io.shardlift.core.spec.MigrationSpec;
import io.shardlift.embedded.PgNode;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A schema's {@code unlisted:} rule against a real source catalog: an unlisted table of an {@code all: true} schema that
 * has the rule's key (and a primary key holding it) is sharded as the rule says; one that does not fit stays global, with
 * a warning that says why. Planning never connects to the nodes, so none are started.
 */
class SchemaPlannerUnlistedIT {

    static PgNode source;

    @BeforeAll
    static void start() {
        source = PgNode.start("unlisted").createDatabase("src");
        source.execute("src",
                "CREATE SCHEMA app",
                "CREATE TABLE app.tenants (id int PRIMARY KEY, name text)",
                "CREATE TABLE app.orders (tenant_id bigint NOT NULL REFERENCES app.tenants, id int NOT NULL, PRIMARY KEY (tenant_id, id))",
                "CREATE TABLE app.order_lines (tenant_id bigint NOT NULL, order_id int NOT NULL, line int NOT NULL,"
                        + " PRIMARY KEY (tenant_id, order_id, line), FOREIGN KEY (tenant_id, order_id) REFERENCES app.orders)",
                "CREATE TABLE app.countries (code text PRIMARY KEY, name text)",
                "CREATE TABLE app.by_id (id int PRIMARY KEY, tenant_id int NOT NULL)",
                "CREATE TABLE app.emails (tenant_id int NOT NULL, id int NOT NULL, email text UNIQUE, PRIMARY KEY (tenant_id, id))",
                "CREATE TABLE app.texty (tenant_id text NOT NULL, id int NOT NULL, PRIMARY KEY (tenant_id, id))",
                "CREATE VIEW app.tenant_names AS SELECT id, name FROM app.tenants",
                "CREATE SCHEMA solo",
                "CREATE TABLE solo.kinds (k int PRIMARY KEY)",
                "CREATE TABLE solo.notes (tenant_id int NOT NULL, id int NOT NULL, k int REFERENCES solo.kinds,"
                        + " PRIMARY KEY (tenant_id, id))",
                "CREATE TABLE solo.texty (tenant_id text NOT NULL, id int NOT NULL, PRIMARY KEY (tenant_id, id))");
    }

    @AfterAll
    static void stop() {
        if (source != null) {
            source.close();
        }
    }

    static MigrationSpec spec(String unlisted, String tables) {
        return spec("app", unlisted, tables);
    }

    static MigrationSpec spec(String schema, String unlisted, String tables) {
        return Specs.parse("version: \"1.0\"\nmigrate:\n  connstr: \"" + source.connstr("src") + "\"\n"
                + "  schemas:\n    - name: " + schema + "\n      all: true\n" + unlisted + "      tables:\n" + tables
                + "cluster:\n  nodes:\n    - \"host=127.0.0.1 port=1 dbname=n0 user=postgres\"\n"
                + "    - \"host=127.0.0.1 port=2 dbname=n1 user=postgres\"\n");
    }

    static ClusterPlan plan(MigrationSpec spec) throws SQLException {
        try (Connection c = source.connect("src")) {
            return SchemaPlanner.plan(spec, SourceCatalog.read(c, List.of(spec.schemas().get(0).name())));
        }
    }

    static TablePlan table(ClusterPlan plan, String name) {
        return plan.table(new TableId("app", name)).orElseThrow();
    }

    static String warning(ClusterPlan plan, String table) {
        return plan.warnings().stream().filter(w -> w.startsWith("app." + table + ": ")).findFirst().orElseThrow();
    }

    @Test
    void unlistedTablesWithTheRulesKeyAreShardedAndColocatedTheOthersStayGlobalAndSayWhy() throws SQLException {
        ClusterPlan plan = plan(spec("      unlisted: {type: sharded, distributedby: tenant_id, colocatewith: tenants}\n",
                "        - {name: tenants, type: sharded, distributedby: id, partitions: 4}\n"));

        for (String name : List.of("orders", "order_lines")) {
            TablePlan t = table(plan, name);
            assertThat(t.sharded()).as(name).isTrue();
            assertThat(t.keyColumns()).as(name).containsExactly("tenant_id");
            assertThat(t.partitions()).as(name).isEqualTo(4);
            assertThat(t.colocationRoot()).as(name).isEqualTo(new TableId("app", "tenants"));
            assertThat(warning(plan, name)).isEqualTo("app." + name + ": not listed, but schema app has all: true — sharded by"
                    + " tenant_id as its unlisted: rule says (4 partitions, colocated with app.tenants)");
        }
        // colocated on the key: the foreign keys between them stay (created at cutover)
        assertThat(table(plan, "order_lines").foreignKeys()).hasSize(1);
        assertThat(table(plan, "orders").foreignKeys()).hasSize(1);

        assertThat(table(plan, "countries").sharded()).isFalse();
        assertThat(warning(plan, "countries")).contains("migrated as a global (reference) table",
                "not sharded as its unlisted: rule {type: sharded, distributedby: tenant_id, colocatewith: app.tenants,"
                        + " partitions: 4} says: it has no column tenant_id").doesNotContain("list it under tables");
        assertThat(table(plan, "by_id").sharded()).isFalse();
        assertThat(warning(plan, "by_id")).contains("its PRIMARY KEY by_id_pkey (id) does not include tenant_id",
                "give it what the rule needs on the source, or list it under tables with a key of its own");
        assertThat(table(plan, "emails").sharded()).isFalse();
        assertThat(warning(plan, "emails")).contains("its UNIQUE emails_email_key (email) does not include tenant_id");
        assertThat(table(plan, "texty").sharded()).isFalse();
        assertThat(warning(plan, "texty")).contains("its key tenant_id has type(s) [TEXT] while app.tenants, which it would be"
                + " colocated with, is sharded on [INTEGER]");
        assertThat(warning(plan, "tenant_names")).contains("left out although schema app has all: true — it is a view");

        // the nodes get the partitioned parent, local partitions and foreign ones, as for a listed sharded table
        List<String> node0 = plan.nodes().get(0).tables().stream().map(Ddl::sql).toList();
        assertThat(node0).anySatisfy(sql -> assertThat(sql).startsWith("CREATE TABLE IF NOT EXISTS \"app\".\"orders\" (")
                .endsWith("PARTITION BY HASH (\"tenant_id\")"));
        assertThat(node0).anySatisfy(sql -> assertThat(sql).startsWith("CREATE TABLE IF NOT EXISTS \"app\".\"orders_0\" PARTITION OF"));
        assertThat(node0).anySatisfy(sql -> assertThat(sql).startsWith("CREATE FOREIGN TABLE IF NOT EXISTS \"app\".\"orders_1\""));
    }

    @Test
    void withoutARuleUnlistedTablesAreGlobalAsBefore() throws SQLException {
        // what the rule is for: with tenants sharded, the unlisted tables that reference it cannot be global
        MigrationSpec sharded = spec("", "        - {name: tenants, type: sharded, distributedby: id, partitions: 4}\n");
        assertThatThrownBy(() -> plan(sharded)).isInstanceOf(PlanException.class)
                .hasMessageContaining("app.orders: is global but its foreign key orders_tenant_id_fkey (tenant_id) REFERENCES"
                        + " app.tenants (id) references the sharded table app.tenants");
        ClusterPlan plan = plan(spec("", "        - {name: tenants, type: global}\n"));
        assertThat(plan.tables()).noneMatch(TablePlan::sharded);
        assertThat(warning(plan, "orders")).isEqualTo("app.orders: not listed, but schema app has all: true — migrated as a"
                + " global (reference) table, copied first (priority 1)");
        // explicitly global: the same
        ClusterPlan global = plan(spec("      unlisted: {type: global}\n", "        - {name: tenants, type: global}\n"));
        assertThat(global.tables()).noneMatch(TablePlan::sharded);
        assertThat(global.warnings()).isEqualTo(plan.warnings());
    }

    @Test
    void withoutColocatewithEachUnlistedTableIsItsOwnGroupWithTheRulesPartitions() throws SQLException {
        MigrationSpec spec = spec("      unlisted: {type: sharded, distributedby: tenant_id, partitions: 6}\n",
                "        - {name: tenants, type: global}\n");
        // order_lines references orders: two groups, so the foreign key cannot be kept; the fix is in the rule
        assertThatThrownBy(() -> plan(spec)).isInstanceOf(PlanException.class).hasMessageContaining(
                "app.order_lines is sharded by schema app's unlisted: rule, whose tables are each a colocation group of"
                        + " their own unless the rule has colocatewith: give the rule colocatewith: a listed table sharded on"
                        + " the same key, or list order_lines under tables");
        ClusterPlan plan = plan(spec("solo", "      unlisted: {type: sharded, distributedby: tenant_id, partitions: 6}\n", ""));
        TablePlan notes = plan.table(new TableId("solo", "notes")).orElseThrow();
        assertThat(notes.sharded()).isTrue();
        assertThat(notes.partitions()).isEqualTo(6);
        assertThat(notes.colocationRoot()).isEqualTo(notes.id());
        // its foreign key to a global table is kept
        assertThat(notes.foreignKeys()).hasSize(1);
        assertThat(plan.table(new TableId("solo", "kinds")).orElseThrow().sharded()).isFalse();
        assertThat(plan.table(new TableId("solo", "texty")).orElseThrow().sharded()).isTrue();
    }
}
