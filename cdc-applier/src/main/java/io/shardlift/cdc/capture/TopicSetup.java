package io.shardlift.cdc.capture;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import java.util.Collection;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * Creates the table topics up front with the configured partition count. An existing topic with another
 * count is refused: the key-to-partition mapping, and so per-key order, depends on it.
 */
final class TopicSetup {

    private static final long TIMEOUT_S = 60;

    private TopicSetup() {
    }

    /** Describes topics created a moment ago, which a loaded broker may not serve yet ("does not host this topic-partition"). */
    private static Map<String, TopicDescription> describe(Admin admin, List<String> topics)
            throws InterruptedException, ExecutionException, TimeoutException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
        while (true) {
            try {
                return admin.describeTopics(topics).allTopicNames().get(TIMEOUT_S, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof RetriableException) || System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(200);
            }
        }
    }

    /**
     * The largest change event shardlift carries: a row with its values as JSON (bytea as base64). Kafka's own default
     * is 1 MiB; 64 MiB stays under the 100 MiB a broker accepts in one request by default
     * ({@code socket.request.max.bytes}), so it needs no change on an external broker: the table topics get it as
     * their {@code max.message.bytes}, the producer as its {@code max.request.size}.
     */
    public static final int MAX_EVENT_BYTES = 64 * 1024 * 1024;
    /** Room for the record's key, headers and batch framing on top of the event. */
    static final int EVENT_OVERHEAD_BYTES = 64 * 1024;

    /** Topics created before the limit existed (or by hand) get it too; setting it again changes nothing. */
    private static void raiseMessageLimit(Admin admin, List<String> topics, String maxMessage)
            throws InterruptedException, ExecutionException, TimeoutException {
        Map<ConfigResource, Collection<AlterConfigOp>> ops = new java.util.HashMap<>();
        for (String t : topics) {
            ops.put(new ConfigResource(ConfigResource.Type.TOPIC, t), List.of(new AlterConfigOp(
                    new ConfigEntry(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, maxMessage), AlterConfigOp.OpType.SET)));
        }
        try {
            admin.incrementalAlterConfigs(ops).all().get(TIMEOUT_S, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new CaptureException("cannot set max.message.bytes = " + maxMessage + " on the table topics (a change"
                    + " event can be as large as a row; Kafka's default of 1 MiB would stop the stream on a larger one): "
                    + e.getCause().getMessage() + " — give shardlift's Kafka user the ALTER_CONFIGS right on its topics", e.getCause());
        }
    }

    static void ensure(String bootstrap, List<String> topics, int partitions, short replicationFactor) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, "shardlift-capture-setup");
        try (Admin admin = Admin.create(p)) {
            String maxMessage = String.valueOf(MAX_EVENT_BYTES + EVENT_OVERHEAD_BYTES);
            List<NewTopic> wanted = topics.stream().map(t -> new NewTopic(t, partitions, replicationFactor)
                    .configs(Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, maxMessage))).toList();
            var result = admin.createTopics(wanted);
            for (NewTopic t : wanted) {
                try {
                    result.values().get(t.name()).get(TIMEOUT_S, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new CaptureException("cannot create Kafka topic " + t.name() + " (" + partitions
                                + " partitions, replication factor " + replicationFactor + ") on " + bootstrap + ": "
                                + e.getCause().getMessage(), e.getCause());
                    }
                }
            }
            raiseMessageLimit(admin, topics, maxMessage);
            Map<String, TopicDescription> described = describe(admin, topics);
            List<String> wrong = new ArrayList<>();
            described.forEach((name, d) -> {
                if (d.partitions().size() != partitions) {
                    wrong.add(name + " has " + d.partitions().size());
                }
            });
            if (!wrong.isEmpty()) {
                throw new CaptureException("Kafka topics exist with another partition count than the configured "
                        + partitions + ": " + String.join(", ", wrong) + ". Keys map to partitions by that count; "
                        + "delete the topics or configure the count they have");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CaptureException("interrupted while creating Kafka topics on " + bootstrap, e);
        } catch (ExecutionException | TimeoutException e) {
            throw new CaptureException("cannot reach Kafka at " + bootstrap + " to create the table topics: " + e.getMessage(), e);
        }
    }
}
