package io.shardlift.ops.workflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlift.core.TargetException;
import io.shardlift.core.catalog.SourceCatalog;
import io.shardlift.core.ledger.CopyLedger;
import io.shardlift.core.ledger.LedgerSchema;
import io.shardlift.core.ledger.MetaLedger;
import io.shardlift.core.ledger.StreamLedger;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.plan.SchemaPlanner;
import io.shardlift.core.spec.SpecLoader;
import io.shardlift.testkit.Datasets;
import io.shardlift.embedded.PgNode;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What the phase is derived from, read from node 0's ledgers as the copy and the stream record them. */
class ProgressLedgersIT {

    static PgNode pg;

    @BeforeAll
    static void start() {
        pg = PgNode.start("progressledgers");
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
    }

    /** A source database and a node-0 database on the same server, the plan between them. */
    static ClusterPlan plan(String name) throws SQLException {
        pg.createDatabase(name + "_src");
        pg.createDatabase(name + "_n0");
        try (Connection c = pg.connect(name + "_src")) {
            Datasets.createSensors(c);
            String yaml = "version: \"1.0\"\nmigrate:\n  connstr: \"" + pg.connstr(name + "_src") + "\"\n" + """
                      schemas:
                        - name: public
                          tables:
                            - {name: device_types, type: global}
                            - {name: devices, type: sharded, distributedby: device_id, partitions: 2}
                    cluster:
                      nodes:
                    """ + "    - \"" + pg.connstr(name + "_n0") + "\"\n";
            return SchemaPlanner.plan(new SpecLoader().parse(yaml, name + ".yml"), SourceCatalog.read(c, List.of("public")));
        }
    }

    @Test
    void theCopyIsStartedOnceAnythingOfItIsRecordedAndDoneOnlyWhenEveryTableIsCopiedAndTheSnapshotEnded() throws SQLException {
        ClusterPlan plan = plan("phase");
        try (ProgressLedgers ledgers = new ProgressLedgers(plan); Connection n0 = pg.connect("phase_n0")) {
            assertThat(ledgers.read()).as("not laid out yet").isEqualTo(new ProgressLedgers.Progress(false, false));
            try (Statement st = n0.createStatement()) {
                for (String ddl : LedgerSchema.DDL) {
                    st.execute(ddl);
                }
            }
            assertThat(ledgers.read()).as("laid out, nothing copied").isEqualTo(new ProgressLedgers.Progress(false, false));

            StreamLedger.record(n0, new StreamLedger.Binding("m-1", List.of(new StreamLedger.Start("t", 0, 0))));
            assertThat(ledgers.read()).as("stream bound: the copy follows").isEqualTo(new ProgressLedgers.Progress(true, false));

            CopyLedger.savePlan(n0, "public.device_types", "device_type_id", List.of(CopyLedger.Chunk.whole()), 10);
            CopyLedger.markCopied(n0, "public.device_types");
            MetaLedger.put(n0, MetaLedger.SNAPSHOT_DONE, "2026-12-04T00:00:00Z");
            assertThat(ledgers.read()).as("a table of the plan never copied").isEqualTo(new ProgressLedgers.Progress(true, false));

            CopyLedger.savePlan(n0, "public.devices", "device_id", List.of(CopyLedger.Chunk.whole()), 10);
            CopyLedger.markCopied(n0, "public.devices");
            assertThat(ledgers.read()).isEqualTo(new ProgressLedgers.Progress(true, true));
        }
    }

    @Test
    void aNodeZeroThatCannotBeReadSaysWhichAndWhatToCheck() throws SQLException {
        ClusterPlan plan = plan("gone");
        try (ProgressLedgers ledgers = new ProgressLedgers(plan)) {
            pg.execute("postgres", "DROP DATABASE gone_n0");
            assertThatThrownBy(ledgers::read).isInstanceOf(TargetException.class)
                    .hasMessageStartingWith("node 0 (").hasMessageContaining("cannot read the copy and stream ledgers")
                    .hasMessageEndingWith("check that node 0 is up");
        }
    }
}
