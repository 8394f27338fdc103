package io.shardlift.ops.workflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlift.core.TableId;
import io.shardlift.core.ddl.SourceDdlLog;
import io.shardlift.core.plan.PlanException;
import io.shardlift.core.plan.TablePlan;
import io.shardlift.core.spec.MigrationSpec;
import io.shardlift.core.spec.SpecLoader;
import io.shardlift.embedded.PgNode;
import java.sql.Connection;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What a start of {@code run} plans from a real source catalog whose DDL capture is installed ({@link
 * Planning#planResuming}): a table created during the migration that the planner refuses is left out, with its problems,
 * only once the migration's slot exists; before that (a first start) it refuses the start. A table the migration carries
 * is never left out: its problem refuses the start. Planning never connects to the nodes, so none are started.
 */
class RestartPlanningIT {

    static PgNode source;

    static TableId app(String name) {
        return new TableId("app", name);
    }

    @BeforeAll
    static void start() throws Exception {
        source = PgNode.start("restartplanning").createDatabase("src");
        source.execute("src",
                "CREATE SCHEMA app",
                "CREATE TABLE app.items (id int PRIMARY KEY, v text)",
                "CREATE TABLE app.kinds (k int PRIMARY KEY, name text)");
        try (Connection c = source.connect("src")) {
            // as the migration's start installs it: the migrated tables' shapes, and app migrated whole
            SourceDdlLog.install(c, List.of(app("items"), app("kinds")), true, List.of("app"));
        }
        // created during the migration: one the planner refuses, one it takes
        source.execute("src",
                "CREATE TABLE app.nokey (id int NOT NULL, v text)",
                "CREATE TABLE app.fine (id int PRIMARY KEY, v text)");
    }

    @AfterAll
    static void stop() {
        if (source != null) {
            source.close();
        }
    }

    static MigrationSpec spec() {
        return new SpecLoader().parse("version: \"1.0\"\nmigrate:\n  connstr: \"" + source.connstr("src") + "\"\n"
                + "  schemas:\n    - name: app\n      all: true\n      tables:\n"
                + "        - {name: items, type: sharded, distributedby: id, partitions: 4}\n"
                + "cluster:\n  nodes:\n    - \"host=127.0.0.1 port=1 dbname=n0 user=postgres\"\n"
                + "    - \"host=127.0.0.1 port=2 dbname=n1 user=postgres\"\n", "test.yml");
    }

    @Test
    void onlyARestartLeavesOutANewTableThePlannerRefusesAndNeverOneTheMigrationCarries() {
        // no slot: a first start (or the record of an abandoned attempt), refused with the planner's problems
        assertThatThrownBy(() -> Planning.planResuming(spec())).isInstanceOf(PlanException.class)
                .satisfies(e -> assertThat(((PlanException) e).problemsByTable()).containsOnlyKeys(app("nokey")));

        source.execute("src", "SELECT pg_create_logical_replication_slot('" + spec().replication().slot() + "', 'pgoutput')");
        try {
            Planning.TakeOn t = Planning.planResuming(spec());
            assertThat(t.plan().tables()).extracting(TablePlan::id)
                    .containsExactlyInAnyOrder(app("items"), app("kinds"), app("fine"));
            assertThat(t.refused()).containsOnlyKeys(app("nokey"));
            assertThat(t.refused().get(app("nokey"))).singleElement().asString().startsWith("app.nokey: has no primary key");

            // a table the migration carries that the planner refuses now: never left out, the start is refused
            source.execute("src", "ALTER TABLE app.kinds DROP CONSTRAINT kinds_pkey");
            assertThatThrownBy(() -> Planning.planResuming(spec())).isInstanceOf(PlanException.class)
                    .satisfies(e -> assertThat(((PlanException) e).problemsByTable()).containsKey(app("kinds")));
        } finally {
            source.execute("src", "SELECT pg_drop_replication_slot('" + spec().replication().slot() + "')");
        }
    }
}
