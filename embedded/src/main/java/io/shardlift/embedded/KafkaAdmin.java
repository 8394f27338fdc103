package io.shardlift.embedded;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * The few admin operations a broker handle needs (wait for the cluster, create topics): for the embedded broker here
 * and the test kit's external and containerised ones.
 */
public final class KafkaAdmin {

    private static final long POLL_MS = 50;

    private KafkaAdmin() {
    }

    static Admin open(String bootstrapServers) {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, "shardlift-embedded-admin");
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
        props.put(AdminClientConfig.RETRY_BACKOFF_MS_CONFIG, "100");
        props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
        return Admin.create(props);
    }

    /**
     * Waits until {@code bootstrapServers} answers describeCluster with at least one live (unfenced) broker.
     *
     * @return the number of brokers the cluster reported
     * @throws IllegalStateException naming the address and the last error once {@code timeout} has passed
     */
    public static int awaitCluster(String bootstrapServers, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Throwable last = null;
        Admin admin = open(bootstrapServers);
        try {
            while (true) {
                long remainingMs = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (remainingMs <= 0) {
                    break;
                }
                try {
                    int callMs = (int) Math.min(remainingMs, 5_000);
                    var nodes = admin.describeCluster(new DescribeClusterOptions().timeoutMs(callMs))
                            .nodes().get(callMs + 1_000L, TimeUnit.MILLISECONDS);
                    if (!nodes.isEmpty()) {
                        return nodes.size();
                    }
                    last = null;
                } catch (ExecutionException e) {
                    last = e.getCause();
                } catch (TimeoutException e) {
                    last = e;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for Kafka at " + bootstrapServers, e);
                }
                sleep(POLL_MS);
            }
        } finally {
            close(admin);
        }
        throw new IllegalStateException("Kafka at " + bootstrapServers + " did not report a live broker within "
                + timeout.toMillis() + " ms" + (last == null ? " (it answered with no brokers)" : "; last error: " + last),
                last);
    }

    public static void createTopics(String bootstrapServers, Map<String, Integer> partitionsByTopic, Duration timeout) {
        validate(partitionsByTopic);
        if (partitionsByTopic.isEmpty()) {
            return;
        }
        Map<String, Integer> wanted = new TreeMap<>(partitionsByTopic);
        long deadline = System.nanoTime() + timeout.toNanos();
        Admin admin = open(bootstrapServers);
        try {
            List<NewTopic> newTopics = new ArrayList<>();
            wanted.forEach((topic, partitions) -> newTopics.add(new NewTopic(topic, Optional.of(partitions), Optional.empty())));
            Map<String, KafkaFuture<Void>> created = admin.createTopics(newTopics).values();
            for (Map.Entry<String, KafkaFuture<Void>> e : created.entrySet()) {
                try {
                    e.getValue().get(remainingMs(deadline), TimeUnit.MILLISECONDS);
                } catch (ExecutionException ex) {
                    if (!(ex.getCause() instanceof TopicExistsException)) {
                        throw new IllegalStateException("cannot create topic '" + e.getKey() + "' on " + bootstrapServers
                                + ": " + ex.getCause(), ex.getCause());
                    }
                }
            }
            awaitLeaders(admin, bootstrapServers, wanted, deadline);
        } catch (TimeoutException e) {
            throw new IllegalStateException("creating topics " + wanted.keySet() + " on " + bootstrapServers
                    + " did not finish within " + timeout.toMillis() + " ms", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics " + wanted.keySet(), e);
        } finally {
            close(admin);
        }
    }

    /** Admin.close() waits for calls still in flight (up to their API timeout); a caller that gave up must not. */
    private static void close(Admin admin) {
        admin.close(Duration.ofSeconds(1));
    }

    /** Reports every bad entry at once, naming the topic and the value. */
    private static void validate(Map<String, Integer> partitionsByTopic) {
        List<String> problems = new ArrayList<>();
        partitionsByTopic.forEach((topic, partitions) -> {
            if (topic == null || topic.isBlank()) {
                problems.add("topic name must not be blank but is '" + topic + "'");
            }
            if (partitions == null || partitions < 1) {
                problems.add("partitions of topic '" + topic + "' must be at least 1 but is " + partitions);
            }
        });
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", problems));
        }
    }

    /**
     * Metadata reaches the broker's cache a moment after the controller commits it: wait until every
     * partition has a leader, so the caller's first produce does not start with a retry.
     */
    private static void awaitLeaders(Admin admin, String bootstrapServers, Map<String, Integer> wanted, long deadline)
            throws InterruptedException, TimeoutException {
        while (true) {
            Map<String, TopicDescription> described;
            try {
                described = admin.describeTopics(wanted.keySet()).allTopicNames().get(remainingMs(deadline), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                // UnknownTopicOrPartition until the new topic is in the broker's metadata cache
                sleep(POLL_MS);
                remainingMs(deadline);
                continue;
            }
            List<String> mismatches = new ArrayList<>();
            boolean allLed = true;
            for (Map.Entry<String, Integer> w : wanted.entrySet()) {
                List<TopicPartitionInfo> partitions = described.get(w.getKey()).partitions();
                if (partitions.size() != w.getValue()) {
                    mismatches.add("topic '" + w.getKey() + "' has " + partitions.size() + " partitions but "
                            + w.getValue() + " were requested");
                }
                for (TopicPartitionInfo p : partitions) {
                    Node leader = p.leader();
                    allLed &= leader != null && !leader.isEmpty();
                }
            }
            if (!mismatches.isEmpty()) {
                throw new IllegalStateException(String.join("; ", mismatches) + " (on " + bootstrapServers
                        + "; existing topics are not altered)");
            }
            if (allLed) {
                return;
            }
            sleep(POLL_MS);
            remainingMs(deadline);
        }
    }

    private static long remainingMs(long deadline) throws TimeoutException {
        long ms = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (ms <= 0) {
            throw new TimeoutException();
        }
        return ms;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for Kafka", e);
        }
    }
}
