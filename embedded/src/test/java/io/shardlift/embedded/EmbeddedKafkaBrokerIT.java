package io.shardlift.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

class EmbeddedKafkaBrokerIT {

    private static final String TOPIC = "events";

    @Test
    void embeddedBrokerKeepsTopicsRecordsAndOffsetsAcrossRestartAndLeavesNothingBehind() throws Exception {
        Set<Thread> threadsBefore = Thread.getAllStackTraces().keySet();
        long t0 = System.nanoTime();
        EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start();
        System.out.printf("embedded Kafka startup: %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        int port = broker.port();
        int controllerPort = broker.controllerPort();
        try {
            assertThat(broker.isEmbedded()).isTrue();
            assertThat(broker.dir()).startsWith(EmbeddedDir.baseDir()).isDirectory();
            assertThat(broker.dir().getFileName().toString()).startsWith("kafka-");

            broker.createTopics(Map.of(TOPIC, 3));
            broker.createTopics(Map.of(TOPIC, 3)); // idempotent
            assertThatThrownBy(() -> broker.createTopics(Map.of(TOPIC, 5)))
                    .hasMessageContaining("topic 'events' has 3 partitions but 5 were requested");

            try (KafkaProducer<String, String> producer = producer(broker);
                 KafkaConsumer<String, String> groupA = consumer(broker, "group-a")) {
                Set<Integer> partitions = produce(producer, 0, 1000);
                assertThat(partitions).containsExactlyInAnyOrder(0, 1, 2);
                assertThat(consume(groupA, 1000)).isEqualTo(expected(0, 1000));
                groupA.commitSync();

                // the broker restarts while the producer keeps sending: sends that hit the closed port are
                // retried, and idempotence keeps the retries from writing a record twice
                CompletableFuture<Set<Integer>> sending = CompletableFuture.supplyAsync(() -> produceSlowly(producer, 1000, 1500));
                Thread.sleep(200);
                long r0 = System.nanoTime();
                broker.restart();
                System.out.printf("embedded Kafka restart (stop + start): %d ms%n", (System.nanoTime() - r0) / 1_000_000);
                assertThat(broker.port()).isEqualTo(port);
                assertThat(broker.state()).isEqualTo(EmbeddedKafkaBroker.State.RUNNING);
                assertThat(sending.get(60, TimeUnit.SECONDS)).containsExactlyInAnyOrder(0, 1, 2);

                // the consumer from before the restart reconnects on its own; the group's committed offsets
                // survived, so it sees exactly the records sent since, once each
                assertThat(consume(groupA, 500)).isEqualTo(expected(1000, 1500));
            }
            // a new group reads everything from the start: no record lost, none duplicated by the retries
            try (KafkaConsumer<String, String> groupB = consumer(broker, "group-b")) {
                assertThat(consume(groupB, 1500)).isEqualTo(expected(0, 1500));
            }

            broker.stop();
            assertThat(portIsFree(port)).as("broker port closed while stopped").isTrue();
            assertThatThrownBy(broker::stop).hasMessageContaining("it is STOPPED, expected RUNNING");
            // another process took the port while the broker was down: restart fails naming the broker and
            // stays STOPPED (Kafka itself logs the bind failure at ERROR), then succeeds once the port is back
            try (ServerSocket squatter = new ServerSocket()) {
                squatter.setReuseAddress(true);
                squatter.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port));
                assertThatThrownBy(broker::restart).hasMessageContaining("Kafka broker 127.0.0.1:" + port)
                        .hasMessageContaining("failed to restart");
                assertThat(broker.state()).isEqualTo(EmbeddedKafkaBroker.State.STOPPED);
            }
            broker.restart();
            try (KafkaConsumer<String, String> groupC = consumer(broker, "group-c")) {
                assertThat(consume(groupC, 1500)).hasSize(1500);
            }
        } finally {
            broker.close();
        }
        broker.close(); // idempotent
        assertThat(Files.exists(broker.dir())).as("broker directory deleted").isFalse();
        assertThat(portIsFree(port)).as("broker port %d released", port).isTrue();
        assertThat(portIsFree(controllerPort)).as("controller port %d released", controllerPort).isTrue();
        assertThatThrownBy(broker::restart).hasMessageContaining("it is CLOSED, expected [RUNNING, STOPPED]");
        assertThat(threadsLeftBehind(threadsBefore)).as("threads the broker and its clients left running").isEmpty();
    }

    @Test
    void persistentBrokerReopensItsDataOnTheSamePortsAfterClose() throws Exception {
        java.nio.file.Path dir = Files.createTempDirectory(EmbeddedDir.baseDir(), "kafka-persistent-");
        String bootstrap;
        try (EmbeddedKafkaBroker first = EmbeddedKafkaBroker.openPersistent(dir)) {
            bootstrap = first.bootstrapServers();
            first.createTopics(Map.of(TOPIC, 2));
            try (KafkaProducer<String, String> p = producer(first)) {
                produce(p, 0, 100);
            }
        }
        assertThat(dir.resolve("data")).exists(); // closed, data kept
        try (EmbeddedKafkaBroker again = EmbeddedKafkaBroker.openPersistent(dir);
             KafkaConsumer<String, String> c = consumer(again, "after-reopen")) {
            assertThat(again.bootstrapServers()).isEqualTo(bootstrap);
            assertThat(consume(c, 100)).isEqualTo(expected(0, 100));
        } finally {
            PgNode.deleteQuietly(dir);
        }
    }

    @Test
    void persistentBrokerReopensOnOtherPortsWhenAnotherProcessHoldsAnOldOne() throws Exception {
        java.nio.file.Path dir = Files.createTempDirectory(EmbeddedDir.baseDir(), "kafka-persistent-");
        int port;
        int controllerPort;
        try (EmbeddedKafkaBroker first = EmbeddedKafkaBroker.openPersistent(dir)) {
            port = first.port();
            controllerPort = first.controllerPort();
            first.createTopics(Map.of(TOPIC, 2));
            try (KafkaProducer<String, String> p = producer(first)) {
                produce(p, 0, 100);
            }
        }
        for (int held : new int[] {port, controllerPort}) {
            try (ServerSocket other = new ServerSocket(held, 50, InetAddress.getByName(EmbeddedKafkaBroker.HOST));
                 EmbeddedKafkaBroker again = EmbeddedKafkaBroker.openPersistent(dir);
                 KafkaConsumer<String, String> c = consumer(again, "after-reopen-" + held)) {
                assertThat(again.port()).isNotEqualTo(held);
                assertThat(again.controllerPort()).isNotEqualTo(held);
                assertThat(consume(c, 100)).isEqualTo(expected(0, 100));
            }
        }
        PgNode.deleteQuietly(dir);
    }

    private static KafkaProducer<String, String> producer(KafkaBroker broker) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.RETRIES_CONFIG, String.valueOf(Integer.MAX_VALUE));
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "60000");
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        p.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        return new KafkaProducer<>(p);
    }

    private static KafkaConsumer<String, String> consumer(KafkaBroker broker, String group) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        KafkaConsumer<String, String> c = new KafkaConsumer<>(p);
        c.subscribe(List.of(TOPIC));
        return c;
    }

    /** Sends records key-i / value-i for i in [from, to) and returns the partitions they landed on. */
    private static Set<Integer> produce(KafkaProducer<String, String> producer, int from, int to) throws Exception {
        List<Future<RecordMetadata>> acks = new ArrayList<>();
        for (int i = from; i < to; i++) {
            acks.add(producer.send(new ProducerRecord<>(TOPIC, "key-" + i, "value-" + i)));
        }
        producer.flush();
        Set<Integer> partitions = new HashSet<>();
        for (Future<RecordMetadata> ack : acks) {
            partitions.add(ack.get().partition());
        }
        return partitions;
    }

    /** Sends key-i / value-i for i in [from, to) over about two seconds, then waits for every acknowledgement. */
    private static Set<Integer> produceSlowly(KafkaProducer<String, String> producer, int from, int to) {
        try {
            List<Future<RecordMetadata>> acks = new ArrayList<>();
            for (int i = from; i < to; i++) {
                acks.add(producer.send(new ProducerRecord<>(TOPIC, "key-" + i, "value-" + i)));
                if (i % 5 == 0) {
                    Thread.sleep(20);
                }
            }
            producer.flush();
            Set<Integer> partitions = new HashSet<>();
            for (Future<RecordMetadata> ack : acks) {
                partitions.add(ack.get().partition());
            }
            return partitions;
        } catch (Exception e) {
            throw new CompletionException(e);
        }
    }

    /** Polls until {@code count} records arrived (failing on a duplicate key) and a further poll brings none. */
    private static Map<String, String> consume(KafkaConsumer<String, String> consumer, int count) {
        Map<String, String> got = new LinkedHashMap<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (got.size() < count && System.nanoTime() < deadline) {
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                assertThat(got.put(r.key(), r.value())).as("duplicate record %s", r.key()).isNull();
            }
        }
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
            assertThat(got.put(r.key(), r.value())).as("duplicate record %s", r.key()).isNull();
        }
        return got;
    }

    private static Map<String, String> expected(int from, int to) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = from; i < to; i++) {
            m.put("key-" + i, "value-" + i);
        }
        return m;
    }

    /**
     * Live threads that did not exist before, after giving exiting ones a moment to finish. Yammer metrics
     * (which the broker reports through) starts its two daemon "metrics-meter-tick" threads once per JVM, on
     * first use, and keeps them for every later broker: they are not owned by any one broker.
     */
    private static List<String> threadsLeftBehind(Set<Thread> before) throws InterruptedException {
        List<String> left = List.of();
        for (int i = 0; i < 50; i++) {
            left = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.isAlive() && !before.contains(t))
                    .filter(t -> !(t.isDaemon() && t.getName().startsWith("metrics-meter-tick-thread-")))
                    .map(Thread::getName)
                    .sorted()
                    .toList();
            if (left.isEmpty()) {
                break;
            }
            Thread.sleep(100);
        }
        return left;
    }

    private static boolean portIsFree(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
