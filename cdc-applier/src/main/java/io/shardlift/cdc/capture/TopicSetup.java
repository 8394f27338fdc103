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
import org.apache.kafka.clients.admin.NewTopic;
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

    static void ensure(String bootstrap, List<String> topics, int partitions, short replicationFactor) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, "shardlift-capture-setup");
        try (Admin admin = Admin.create(p)) {
            List<NewTopic> wanted = topics.stream().map(t -> new NewTopic(t, partitions, replicationFactor)).toList();
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
