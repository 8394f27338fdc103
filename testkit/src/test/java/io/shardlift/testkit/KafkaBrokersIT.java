package io.shardlift.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.shardlift.embedded.EmbeddedKafkaBroker;
import io.shardlift.embedded.KafkaBroker;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/** The test kit's broker choice: in-process, an external bootstrap, a Testcontainers broker where Docker runs. */
class KafkaBrokersIT {

    @Test
    void kafkaBrokersUsesTheBootstrapFromTheEnvironmentAndStartsOneInProcessOtherwise() {
        try (EmbeddedKafkaBroker real = EmbeddedKafkaBroker.start()) {
            Map<String, String> env = Map.of(KafkaBrokers.BOOTSTRAP_ENV, real.bootstrapServers());
            try (KafkaBroker external = KafkaBrokers.start(env::get)) {
                assertThat(external).isInstanceOf(ExternalKafkaBroker.class);
                assertThat(external.isEmbedded()).isFalse();
                assertThat(external.bootstrapServers()).isEqualTo(real.bootstrapServers());
                external.createTopics(Map.of("through-external", 2));
            }
            // closing the external handle stopped nothing: the topic is there with its two partitions
            assertThat(real.state()).isEqualTo(EmbeddedKafkaBroker.State.RUNNING);
            real.createTopics(Map.of("through-external", 2));

            // a blank variable counts as unset; a second in-process broker runs next to the first
            try (KafkaBroker embedded = KafkaBrokers.start(Map.of(KafkaBrokers.BOOTSTRAP_ENV, " ")::get)) {
                assertThat(embedded.isEmbedded()).isTrue();
                assertThat(embedded.bootstrapServers()).isNotEqualTo(real.bootstrapServers());
                embedded.createTopics(Map.of("second", 1));
            }
        }
    }

    @Test
    void externalBrokerThatDoesNotAnswerFailsWithItsAddress() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = s.getLocalPort();
        }
        String bootstrap = "127.0.0.1:" + port;
        assertThatThrownBy(() -> ExternalKafkaBroker.connect(bootstrap, Duration.ofSeconds(2)))
                .hasMessageStartingWith("Kafka at " + bootstrap + " did not report a live broker within 2000 ms");
        assertThatThrownBy(() -> EmbeddedKafkaBroker.start(Map.of("log.dirs", "/tmp/x")))
                .hasMessageContaining("broker settings [log.dirs] are set by the test kit");
    }

    @Test
    void testcontainersBrokerCarriesRecordsWhereDockerRuns() throws Exception {
        assumeTrue(TestcontainersKafkaBroker.dockerAvailable(), "no Docker engine answers on this machine (Testcontainers"
                + " found none): the Testcontainers Kafka option (SHARDLIFT_KAFKA=testcontainers) is not tested here");
        try (KafkaBroker broker = KafkaBrokers.start(Map.of(KafkaBrokers.KIND_ENV, "testcontainers")::get)) {
            assertThat(broker).isInstanceOf(TestcontainersKafkaBroker.class);
            assertThat(broker.isEmbedded()).isFalse();
            broker.createTopics(Map.of("in-container", 2));
            broker.createTopics(Map.of("in-container", 2)); // idempotent
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
            p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
                producer.send(new ProducerRecord<>("in-container", "k", "v")).get();
            }
            Properties c = new Properties();
            c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
            c.put(ConsumerConfig.GROUP_ID_CONFIG, "in-container");
            c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
            c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c)) {
                consumer.subscribe(List.of("in-container"));
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                String value = null;
                while (value == null && System.nanoTime() < deadline) {
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                        value = r.value();
                    }
                }
                assertThat(value).isEqualTo("v");
            }
        }
    }
}
