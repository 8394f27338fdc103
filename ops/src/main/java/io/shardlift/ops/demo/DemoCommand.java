package io.shardlift.ops.demo;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.spec.ControlSpec;
import io.shardlift.core.spec.MigrationSpec;
import io.shardlift.core.spec.SpecLoader;
import io.shardlift.embedded.PgBouncer;
import io.shardlift.embedded.PgNode;
import io.shardlift.embedded.SensorDataset;
import io.shardlift.ops.Numbers;
import io.shardlift.ops.control.ControlPlane;
import io.shardlift.ops.verify.Verifier;
import io.shardlift.ops.verify.VerifyOptions;
import io.shardlift.ops.verify.VerifyReport;
import io.shardlift.ops.workflow.Migration;
import io.shardlift.ops.workflow.MigrationBackend;
import io.shardlift.ops.workflow.PlanReport;
import io.shardlift.ops.workflow.Planning;
import io.shardlift.snapshotter.SnapshotResult;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "demo", mixinStandardHelpOptions = true,
        header = "The embedded default: a live sensor database migrated and cut over, on this machine.",
        description = {"The embedded default: seed 000's sensor database on an embedded source, migrated online to",
            "embedded shard nodes through an in-process Kafka broker while sensors keep writing and a reader keeps",
            "running the outlier query; cut over through the control plane's own HTTP endpoint, verified row by row.",
            "When pgbouncer is installed (and can run: as root it runs as postgres), the sensors and the reader go",
            "through a PgBouncer the demo starts, which the cutover pauses, switches to the cluster and resumes:",
            "they see no error. Without it they are switched to the cluster in-process after the cutover.",
            "Needs nothing installed beyond Java and Maven. Exit code 0 only if verify found no difference (and,",
            "through PgBouncer, the application saw no error)."})
public final class DemoCommand implements Callable<Integer> {

    /** PgBouncer's alias for the demo database: what the application connects to, and what the cutover moves. */
    private static final String ALIAS = "demo";

    @Option(names = "--nodes", converter = Numbers.Positive.class, defaultValue = "4", description = "Shard nodes to start (default: ${DEFAULT-VALUE}).")
    int nodes;

    @Option(names = "--partitions", converter = Numbers.Positive.class, defaultValue = "8", description = "Partitions of devices and events (default: ${DEFAULT-VALUE}).")
    int partitions;

    @Option(names = "--events", converter = Numbers.Rows.class, defaultValue = "300000", description = "Sensor events on the source (default: ${DEFAULT-VALUE}).")
    long events;

    @Option(names = "--writers", converter = Numbers.NonNegative.class, defaultValue = "2", description = "Sensor writer threads (default: ${DEFAULT-VALUE}).")
    int writers;

    @Option(names = "--work-dir", defaultValue = "target/shardlift-demo",
            description = "Where the embedded servers and broker keep their data (default: ${DEFAULT-VALUE}); deleted at the end.")
    Path workDir;

    @Spec
    picocli.CommandLine.Model.CommandSpec command;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = command.commandLine().getOut();
        long t0 = System.nanoTime();
        out.printf("== starting an embedded source and %d shard nodes ...%n", nodes);
        out.flush();
        Optional<String> noPooler = PgBouncer.unavailable();
        try (DemoEnvironment env = DemoEnvironment.start(workDir, nodes);
             PgBouncer bouncer = noPooler.isEmpty() ? startPgBouncer(env) : null) {
            out.printf("   up in %.1f s: source %s, nodes %s%n", secondsSince(t0), env.cluster().source().url(DemoEnvironment.DATABASE),
                    env.cluster().nodes().stream().map(n -> n.host() + ":" + n.port()).toList());
            if (bouncer != null) {
                out.printf("== PgBouncer on 127.0.0.1:%d (transaction pooling): the sensors and the reader connect to its alias '%s',"
                        + " which the cutover pauses, points at node 0 and resumes%n", bouncer.port(), ALIAS);
            } else {
                out.printf("== no PgBouncer (%s): the sensors and the reader connect to the source and are switched to the cluster"
                        + " in-process after the cutover%n", noPooler.get());
            }
            long t1 = System.nanoTime();
            try (Connection c = env.cluster().source().connect(DemoEnvironment.DATABASE)) {
                SensorDataset.createSchema(c);
                SensorDataset.load(c, SensorDataset.DEFAULT_DEVICE_TYPES, SensorDataset.DEFAULT_DEVICES, events);
            }
            out.printf("== seed 000's sensor database on the source: %d device types, %d devices, %,d events (%.1f s)%n",
                    SensorDataset.DEFAULT_DEVICE_TYPES, SensorDataset.DEFAULT_DEVICES, events, secondsSince(t1));

            Path specFile = workDir.resolve("migrate.yml");
            Files.writeString(specFile, env.specYaml(partitions) + (bouncer == null ? "" : poolerYaml(bouncer)));
            out.printf("== migration spec (%s):%n%s%n", specFile, Files.readString(specFile));
            MigrationSpec spec = new SpecLoader().load(specFile);

            out.println("== outlier query on the source, before:");
            out.println(explain(env.cluster().source().connect(DemoEnvironment.DATABASE), SensorDataset.OUTLIER_QUERY));

            ClusterPlan plan = Planning.plan(spec);
            out.println("== plan:");
            PlanReport.summary(plan, out);
            out.flush();

            String token = HexFormat.of().formatHex(new SecureRandom().generateSeed(16));
            PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            // a killed demo leaves its broker's data behind, which belongs to servers that are gone: a demo starts afresh
            PgNode.deleteQuietly(workDir.resolve("data"));
            long migrationStart = System.nanoTime();
            DemoTraffic.Target appTarget = bouncer == null ? () -> env.cluster().source().connect(DemoEnvironment.DATABASE)
                    : () -> DriverManager.getConnection(bouncer.jdbcUrl(ALIAS), "postgres", "");
            try (DemoTraffic app = new DemoTraffic(appTarget, writers, SensorDataset.DEFAULT_DEVICES);
                 Migration m = Migration.start(plan, new Migration.Options(spec.jobs(), 50_000, workDir.resolve("data"),
                         Optional.of("demo")), registry);
                 ControlPlane control = ControlPlane.start(new ControlSpec("127.0.0.1", 0, spec.control().tokenEnv()), new MigrationBackend(m), registry,
                         name -> name.equals(spec.control().tokenEnv()) ? token : System.getenv(name))) {
                out.printf("%n== migrating online; sensors write and the outlier query runs the whole time; control plane on http://%s%n",
                        control.listen());
                out.flush();
                long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
                long nextLine = 0;
                while (!m.caughtUp()) {
                    if (m.failure().isPresent()) {
                        throw new IllegalStateException(m.failure().get().getMessage(), m.failure().get());
                    }
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("not caught up after 10 minutes: " + m.statusLine());
                    }
                    if (System.nanoTime() > nextLine) {
                        m.refreshSourcePosition();
                        out.println("   " + m.statusLine() + String.format(" || app: %,d writes, %,d reads", app.writes.get(), app.reads.get()));
                        out.flush();
                        nextLine = System.nanoTime() + 2_000_000_000L;
                    }
                    Thread.sleep(200);
                }
                out.println("   caught up: " + m.statusLine());

                out.printf("%n== cutover through the control plane: POST http://%s/cutover (bearer token)%n", control.listen());
                HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
                HttpResponse<String> dry = http.send(HttpRequest.newBuilder(URI.create("http://" + control.listen() + "/cutover?dryRun=true"))
                        .header("Authorization", "Bearer " + token).POST(HttpRequest.BodyPublishers.noBody()).build(),
                        HttpResponse.BodyHandlers.ofString());
                out.println("   dry run: HTTP " + dry.statusCode());
                HttpResponse<String> res;
                for (int attempt = 1; ; attempt++) {
                    res = http.send(HttpRequest.newBuilder(URI.create("http://" + control.listen() + "/cutover"))
                            .header("Authorization", "Bearer " + token).timeout(Duration.ofMinutes(2))
                            .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
                    out.println("   cutover: HTTP " + res.statusCode());
                    // 422: a gate refused (the lag), nothing changed: an operator waits and asks again, for up to
                    // three minutes (a busy machine can leave the capture seconds behind just after the copy)
                    if (res.statusCode() != 422 || attempt == 60) {
                        break;
                    }
                    out.println("   refused: " + m.lastCutover().flatMap(r -> r.reason()).orElse("") + "; asking again in 3 s");
                    out.flush();
                    Thread.sleep(3_000);
                }
                var report = m.lastCutover().orElseThrow();
                report.steps().forEach(s -> out.printf("     %-13s %-8s %5d ms  %s%n", s.name(), s.status(), s.millis(), s.detail()));
                if (!report.ok()) {
                    out.println("== cutover did not complete: " + report.reason().orElse(""));
                    return 1;
                }
                long migrationSecs = (System.nanoTime() - migrationStart) / 1_000_000_000L;

                VerifyReport verify = null;
                if (bouncer == null) {
                    // the source refuses writes now: the sensors wait; verify, then switch them to the cluster
                    out.println("\n== verify, row by row (source fenced, cluster as the cutover left it):");
                    verify = new Verifier(plan, VerifyOptions.withJobs(spec.jobs())).run();
                    verify.print(out);
                    app.switchTo(env.cluster().nodes().get(0), DemoEnvironment.DATABASE);
                } else {
                    // nothing to switch: PgBouncer's alias points at node 0 now and the sensors never stopped; a
                    // whole-table verify would count their new rows as differences, so the cutover's own content and
                    // verify steps (inside the pause, row by row) are the proof, and every acknowledged write is looked up
                    out.printf("%n== the sensors and the reader went on through PgBouncer, now on node 0: %,d writes, %,d reads so far%n",
                            app.writes.get(), app.reads.get());
                }
                Thread.sleep(3_000);

                out.println("\n== outlier query on node 0, after (every partition: local scans and async foreign scans):");
                out.println(explain(env.cluster().nodes().get(0).connect(DemoEnvironment.DATABASE), SensorDataset.OUTLIER_QUERY));
                out.println("== with device_id = 42 (one partition):");
                out.println(explain(env.cluster().nodes().get(0).connect(DemoEnvironment.DATABASE), SensorDataset.outlierQueryFor(42)));

                app.close();
                long missing = missingOnCluster(env.cluster().nodes().get(0), app.acknowledged);
                SnapshotResult snap = m.snapshotResult().orElseThrow();
                // through PgBouncer a refusal by the write fence is an error the application saw like any other
                long clientErrors = app.writeErrors.get() + app.readErrors.get() + app.fencedWrites.get();
                out.println("== summary");
                out.printf("   rows copied:           %,d in %.1f s (%,d chunks)%n", snap.rows(), snap.duration().toMillis() / 1000.0,
                        snap.chunksCopied());
                out.printf("   migration, online:     %d s from start to cut over%n", migrationSecs);
                if (bouncer == null) {
                    out.printf("   app during migration:  %,d writes (%,d errors, %,d refused by the fence after cutover), %,d outlier reads (%,d errors)%n",
                            app.writes.get(), app.writeErrors.get(), app.fencedWrites.get(), app.reads.get(), app.readErrors.get());
                } else {
                    out.printf("   app through PgBouncer: %,d writes, %,d outlier reads; client errors: %d%s%n", app.writes.get(),
                            app.reads.get(), clientErrors, app.firstError().map(e -> " (first: " + e + ")").orElse(""));
                    report.steps().stream().filter(s -> s.name().equals("pooler-resume")).findFirst()
                            .ifPresent(s -> out.printf("   client-visible pause:  %s%n", s.detail()));
                }
                out.printf("   acknowledged writes:   %,d, %s%n", app.acknowledged.size(),
                        missing == 0 ? "every one on the cluster" : missing + " MISSING on the cluster");
                out.printf("   write freeze:          %d ms%n", report.freezeMillis());
                boolean equal = verify == null || verify.equal();
                out.printf("   verify:                %s%n", verify == null
                        ? "source and cluster equal, row by row, at the point of no return (the cutover's content and verify steps)"
                        : verify.equal() ? "source and cluster equal, row by row" : "DIFFERENCES FOUND");
                out.printf("== done in %.1f s%n", secondsSince(t0));
                out.flush();
                if (!equal || missing > 0) {
                    return io.shardlift.ops.ExitCodes.DIFFERENCES;
                }
                return bouncer != null && clientErrors > 0 ? 1 : 0;
            }
        }
    }

    private static PgBouncer startPgBouncer(DemoEnvironment env) {
        // clients wait in PgBouncer through the pause (fence, drain, verify): never disconnected for it
        return PgBouncer.start("demo", List.of(PgBouncer.databaseLine(ALIAS, env.cluster().source(), DemoEnvironment.DATABASE,
                "pool_size=8")), Map.of("query_wait_timeout", "120"));
    }

    private static String poolerYaml(PgBouncer bouncer) {
        return """
                pooler:
                  pgbouncer:
                    - admin: "%s"
                      include_file: %s
                      databases: [%s]
                  pause_timeout: 2s
                  target_node: 0
                """.formatted(bouncer.adminConnstr(), bouncer.includeFile(), ALIAS);
    }

    /** The acknowledged ids not in the cluster's events (node 0 answers for every partition). */
    private static long missingOnCluster(PgNode node, Set<Long> acknowledged) throws SQLException {
        if (acknowledged.isEmpty()) {
            return 0;
        }
        Set<Long> found = new HashSet<>();
        long from = acknowledged.stream().mapToLong(Long::longValue).min().orElseThrow();
        try (Connection c = node.connect(DemoEnvironment.DATABASE);
             PreparedStatement ps = c.prepareStatement("SELECT event_id FROM public.events WHERE event_id >= ?")) {
            ps.setLong(1, from);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    found.add(rs.getLong(1));
                }
            }
        }
        return acknowledged.stream().filter(id -> !found.contains(id)).count();
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
