package io.shardlift.ops.demo;

import io.shardlift.ops.cli.Planning;
import io.shardlift.router.plan.ClusterPlan;
import io.shardlift.router.plan.LayoutApplier;
import io.shardlift.router.spec.MigrationSpec;
import io.shardlift.router.spec.SpecLoader;
import io.shardlift.testkit.Datasets;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.EnumSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"The embedded default: seed 000's sensor database on an embedded source, laid out on",
            "embedded shard nodes. Needs nothing installed beyond Java and Maven."})
public final class DemoCommand implements Callable<Integer> {

    @Option(names = "--nodes", defaultValue = "4", description = "Shard nodes to start (default: ${DEFAULT-VALUE}).")
    int nodes;

    @Option(names = "--partitions", defaultValue = "8", description = "Partitions of devices and events (default: ${DEFAULT-VALUE}).")
    int partitions;

    @Option(names = "--events", defaultValue = "200000", description = "Sensor events on the source (default: ${DEFAULT-VALUE}).")
    long events;

    @Option(names = "--work-dir", defaultValue = "target/shardlift-demo",
            description = "Where the embedded servers keep their data (default: ${DEFAULT-VALUE}); deleted at the end.")
    Path workDir;

    @Spec
    picocli.CommandLine.Model.CommandSpec command;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = command.commandLine().getOut();
        long t0 = System.nanoTime();
        out.printf("== starting an embedded source and %d shard nodes (PostgreSQL %s binaries) ...%n", nodes, "embedded");
        out.flush();
        try (DemoEnvironment env = DemoEnvironment.start(workDir, nodes)) {
            out.printf("   up in %.1f s: source %s, nodes %s%n", secondsSince(t0), env.cluster().source().url(DemoEnvironment.DATABASE),
                    env.cluster().nodes().stream().map(n -> n.host() + ":" + n.port()).toList());

            long t1 = System.nanoTime();
            try (Connection c = env.cluster().source().connect(DemoEnvironment.DATABASE)) {
                Datasets.createSensors(c);
                Datasets.loadSensors(c, Datasets.DEFAULT_DEVICE_TYPES, Datasets.DEFAULT_DEVICES, events);
            }
            out.printf("== sensor dataset of seed 000 on the source: %d device types, %d devices, %d events (%.1f s)%n",
                    Datasets.DEFAULT_DEVICE_TYPES, Datasets.DEFAULT_DEVICES, events, secondsSince(t1));

            Path specFile = workDir.resolve("migrate.yml");
            Files.writeString(specFile, env.specYaml(partitions));
            out.printf("== migration spec (%s):%n%s%n", specFile, Files.readString(specFile));
            MigrationSpec spec = new SpecLoader().load(specFile);

            out.println("== outlier query on the source, before:");
            out.println(explain(env.cluster().source().connect(DemoEnvironment.DATABASE), Datasets.OUTLIER_QUERY));

            ClusterPlan plan = Planning.plan(spec);
            out.println("== plan:");
            io.shardlift.ops.cli.PlanReport.summary(plan, out);
            out.flush();

            LayoutApplier.apply(plan, EnumSet.of(LayoutApplier.Stage.TABLES, LayoutApplier.Stage.INDEXES));
            out.printf("%n== layout created on %d nodes (run twice: nothing changes)%n", nodes);
            LayoutApplier.apply(plan, EnumSet.of(LayoutApplier.Stage.TABLES, LayoutApplier.Stage.INDEXES));

            out.println("== outlier query on node 0, after (all partitions, local and remote):");
            out.println(explain(env.cluster().nodes().get(0).connect(DemoEnvironment.DATABASE), Datasets.OUTLIER_QUERY));
            out.println("== with device_id = 42 (one partition):");
            out.println(explain(env.cluster().nodes().get(0).connect(DemoEnvironment.DATABASE), Datasets.outlierQueryFor(42)));

            out.println("== not built yet: the online copy (issue #3), the change stream (#4), verify and cutover (#5).");
            out.printf("== done in %.1f s%n", secondsSince(t0));
            out.flush();
        }
        return 0;
    }

    private static String explain(Connection c, String query) throws SQLException {
        try (c; Statement st = c.createStatement(); ResultSet rs = st.executeQuery("EXPLAIN " + query)) {
            StringBuilder sb = new StringBuilder();
            while (rs.next()) {
                sb.append("   ").append(rs.getString(1)).append('\n');
            }
            return sb.toString();
        }
    }

    private static double secondsSince(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }
}
