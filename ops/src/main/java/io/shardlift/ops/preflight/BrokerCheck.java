package io.shardlift.ops.preflight;

import io.shardlift.ops.preflight.Preflight.Domain;
import io.shardlift.ops.preflight.Preflight.Report;
import io.shardlift.core.ledger.StreamLedger;
import io.shardlift.core.spec.ConnInfo;
import io.shardlift.core.spec.KafkaSpec;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Optional;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Node;

/**
 * The broker: an external one answers and has enough brokers for the replication factor; the embedded one can
 * write its data directory. Without this, {@code run} would warn for a minute and then fail with a stack trace.
 */
final class BrokerCheck {

    /** How long an external broker has to answer: long enough for a slow network, short enough to wait for. */
    static final int TIMEOUT_MS = 10_000;

    private BrokerCheck() {
    }

    static void check(KafkaSpec kafka, Path dataDir, ConnInfo node0, Report report) {
        if (kafka.embedded()) {
            Path dir = dataDir.resolve("kafka").toAbsolutePath().normalize();
            embedded(dir, report);
            streamedElsewhere(dir, node0, report);
        } else {
            external(kafka, report);
        }
    }

    private static void embedded(Path dir, Report report) {
        Path existing = dir;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        String problem = null;
        if (existing == null) {
            problem = "no part of it exists";
        } else if (!Files.isDirectory(existing)) {
            problem = existing + " is not a directory";
        } else if (!Files.isWritable(existing) || !Files.isExecutable(existing)) {
            problem = existing + " is not writable by this user";
        }
        if (problem != null) {
            report.problem(Domain.BROKER, "kafka: the embedded broker keeps its data in " + dir + ", but " + problem
                    + " — give run a writable --data-dir");
        } else {
            report.passed("kafka: embedded broker, data directory " + dir + " writable");
        }
    }

    /**
     * A migration that has streamed through the embedded broker keeps the change events not yet applied in that
     * broker's data directory. Run from another directory (the default --data-dir is relative), it found no topics,
     * logged Kafka errors for a minute and failed with a stack trace (a new user's report); now it is refused here,
     * before anything is written.
     */
    private static void streamedElsewhere(Path dir, ConnInfo node0, Report report) {
        boolean hasData;
        try (var entries = Files.list(dir)) {
            hasData = entries.findAny().isPresent();
        } catch (java.io.IOException e) {
            hasData = false; // missing or unreadable: embedded() said which
        }
        if (hasData) {
            return; // whose data it is, the data directory's identity file decides when run opens it
        }
        Optional<String> bound;
        try (Connection c = node0.connect()) {
            bound = StreamLedger.boundMigration(c);
        } catch (SQLException e) {
            return; // node 0 unreachable: the node checks report it
        }
        bound.ifPresent(id -> report.problem(Domain.BROKER, "kafka: node 0 records that migration " + id + " already"
                + " streams through an embedded broker, but " + dir + " holds no broker data: the change events not yet"
                + " applied are in the data directory that run used before (--data-dir; the default is ./shardlift-data in"
                + " the directory it ran from) — run from that directory or give it as --data-dir; to start the migration"
                + " over instead, lay out fresh nodes"));
    }

    private static void external(KafkaSpec kafka, Report report) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrap());
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, "shardlift-preflight");
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, TIMEOUT_MS);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, TIMEOUT_MS);
        p.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1_000);
        try (Admin admin = Admin.create(p)) {
            Collection<Node> brokers = admin.describeCluster().nodes().get(TIMEOUT_MS + 2_000L, TimeUnit.MILLISECONDS);
            if (brokers.size() < kafka.replicationFactor()) {
                report.problem(Domain.BROKER, "kafka: " + kafka.bootstrap() + " has " + brokers.size() + " broker"
                        + (brokers.size() == 1 ? "" : "s") + " but kafka.replication_factor is " + kafka.replicationFactor()
                        + " — lower replication_factor or add brokers");
            } else {
                report.passed("kafka: " + kafka.bootstrap() + " answers (" + brokers.size() + " broker"
                        + (brokers.size() == 1 ? ")" : "s)"));
            }
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            report.problem(Domain.BROKER, "kafka: no broker at " + kafka.bootstrap() + " answered within " + TIMEOUT_MS / 1000
                    + " s (" + cause.getClass().getSimpleName() + (cause.getMessage() != null ? ": " + cause.getMessage() : "")
                    + ") — check kafka.bootstrap and that the brokers accept connections from here");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while asking the broker", e);
        }
    }
}
