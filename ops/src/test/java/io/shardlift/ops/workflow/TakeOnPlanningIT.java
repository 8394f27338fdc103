package io.shardlift.ops.workflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlift.core.TableId;
import io.shardlift.core.plan.PlanException;
import io.shardlift.core.plan.TablePlan;
import io.shardlift.core.spec.MigrationSpec;
import io.shardlift.core.spec.SpecLoader;
import io.shardlift.embedded.PgNode;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The take-on's plan against a real source catalog: tables created during the migration that the planner refuses are
 * left out, each with the planner's problems of it, and the others are planned; a table that references one left out is
 * left out too; a problem of a table that is not being taken on refuses the whole plan. Planning never connects to the
 * nodes, so none are started.
 */
class TakeOnPlanningIT {

    static PgNode source;

    static TableId app(String name) {
        return new TableId("app", name);
    }

    @BeforeAll
    static void start() {
        source = PgNode.start("takeonplanning").createDatabase("src");
        source.execute("src",
                "CREATE SCHEMA app",
                "CREATE TABLE app.items (id int PRIMARY KEY, v text)",
                // "created during the migration": no primary key; one referencing it; one that is fine
                "CREATE TABLE app.nokey (id int NOT NULL UNIQUE, v text)",
                "CREATE TABLE app.child (id int PRIMARY KEY, nokey_id int REFERENCES app.nokey (id))",
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
    void theRefusedAreLeftOutWithTheirProblemsAndTheOthersPlanned() {
        Planning.TakeOn t = Planning.planTakingOn(spec(), Set.of(app("nokey"), app("child"), app("fine")));
        assertThat(t.plan().tables()).extracting(TablePlan::id).containsExactlyInAnyOrder(app("items"), app("fine"));
        assertThat(t.refused()).containsOnlyKeys(app("nokey"), app("child"));
        assertThat(t.refused().get(app("nokey"))).singleElement().asString().startsWith("app.nokey: has no primary key")
                .contains("ALTER TABLE \"app\".\"nokey\" ADD PRIMARY KEY (...)");
        assertThat(t.refused().get(app("child"))).singleElement().asString().startsWith("app.child: foreign key")
                .contains("references app.nokey, which is not in the spec");
    }

    @Test
    void aProblemOfATableNotBeingTakenOnRefusesThePlan() {
        // nokey is not a candidate here (as a table the migration carried would not be): leaving others out cannot help
        assertThatThrownBy(() -> Planning.planTakingOn(spec(), Set.of(app("child"), app("fine"))))
                .isInstanceOf(PlanException.class)
                .satisfies(e -> assertThat(((PlanException) e).problemsByTable()).containsOnlyKeys(app("nokey")));
    }

    @Test
    void everyProblemIsFiledUnderItsTable() {
        assertThatThrownBy(() -> Planning.plan(spec())).isInstanceOf(PlanException.class).satisfies(e -> {
            PlanException p = (PlanException) e;
            assertThat(p.problemsByTable().values().stream().flatMap(java.util.List::stream).toList())
                    .containsExactlyInAnyOrderElementsOf(p.problems());
            p.problemsByTable().forEach((table, problems) -> assertThat(problems).allSatisfy(x -> assertThat(x).startsWith(table + ": ")));
        });
    }
}
