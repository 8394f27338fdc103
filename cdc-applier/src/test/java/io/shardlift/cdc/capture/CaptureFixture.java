package io.shardlift.cdc.capture;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardlift.cdc.event.ChangeEvent;
import io.shardlift.cdc.event.TableCodec;
import io.shardlift.core.TableId;
import io.shardlift.core.catalog.SourceCatalog;
import io.shardlift.core.catalog.TableInfo;
import io.shardlift.core.spec.ConnInfo;
import io.shardlift.embedded.EmbeddedKafkaBroker;
import io.shardlift.embedded.PgNode;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;

/** One source database with a publication and a pgoutput slot, and the means to read what capture wrote. */
final class CaptureFixture {

    static final int PARTITIONS = 3;

    /** One change as found in Kafka. */
    record Got(String topic, int partition, long offset, ChangeEvent event) {
    }

    final PgNode pg;
    final EmbeddedKafkaBroker kafka;
    final String db;
    final String prefix;
    /** Slots are per server, so each database gets its own. */
    final String slot;
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    SourceCatalog catalog;
    Map<TableId, TableCodec> codecs = new HashMap<>();

    CaptureFixture(PgNode pg, EmbeddedKafkaBroker kafka, String db) {
        this.pg = pg;
        this.kafka = kafka;
        this.db = db;
        this.prefix = "sl-" + db;
        this.slot = "sl_" + db;
        pg.createDatabase(db);
    }

    /** Creates the publication for {@code tables}, then the slot, as the snapshotter does; reads the catalog. */
    void publishAndCreateSlot(List<String> tables) throws SQLException {
        pg.execute(db, "CREATE PUBLICATION shardlift FOR TABLE " + String.join(", ", tables));
        Properties p = new Properties();
        PGProperty.USER.set(p, pg.user());
        PGProperty.REPLICATION.set(p, "database");
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(p, "10");
        PGProperty.PREFER_QUERY_MODE.set(p, "simple");
        try (Connection rc = DriverManager.getConnection(pg.jdbcUrl(db), p)) {
            rc.unwrap(PGConnection.class).getReplicationAPI().createReplicationSlot().logical()
                    .withSlotName(slot).withOutputPlugin("pgoutput").make();
        }
        try (Connection c = pg.connect(db)) {
            catalog = SourceCatalog.read(c, List.of("public"));
        }
        for (String t : tables) {
            TableInfo info = table(t);
            codecs.put(info.id(), TableCodec.of(info));
        }
    }

    TableInfo table(String name) {
        return catalog.table(TableId.parse(name, "public")).orElseThrow();
    }

    Capture.Config config(List<String> tables) {
        return new Capture.Config(ConnInfo.parse(pg.connstr(db)), slot, "shardlift",
                tables.stream().map(this::table).toList(),
                new Capture.Kafka(kafka.bootstrapServers(), prefix, PARTITIONS, (short) 1, prefix + ".offsets"),
                new Capture.Tuning(Duration.ofMillis(300), Duration.ofMillis(50), 8192, 32768));
    }

    Capture start(List<String> tables) throws InterruptedException {
        Capture c = new Capture(config(tables), registry);
        c.start();
        c.awaitStreaming(Duration.ofSeconds(60));
        return c;
    }

    long queryLong(String sql) throws SQLException {
        try (Connection c = pg.connect(db); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    long confirmedFlushLsn() throws SQLException {
        return queryLong("SELECT (confirmed_flush_lsn - '0/0')::bigint FROM pg_replication_slots WHERE slot_name = '" + slot + "'");
    }

    KafkaConsumer<byte[], byte[]> consumer() {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        return new KafkaConsumer<>(p);
    }

    List<TopicPartition> partitions(TableId table) {
        String topic = io.shardlift.cdc.event.Topics.forTable(prefix, table);
        List<TopicPartition> l = new ArrayList<>();
        for (int i = 0; i < PARTITIONS; i++) {
            l.add(new TopicPartition(topic, i));
        }
        return l;
    }

    Map<TopicPartition, Long> endOffsets(List<TableId> tables) {
        try (KafkaConsumer<byte[], byte[]> c = consumer()) {
            return c.endOffsets(tables.stream().flatMap(t -> partitions(t).stream()).toList());
        }
    }

    /** Reads every topic of {@code tables} from the start until {@code done} holds for what was read, or fails. */
    List<Got> readUntil(List<TableId> tables, Predicate<List<Got>> done, Duration timeout) {
        Map<String, TableCodec> byTopic = new HashMap<>();
        List<TopicPartition> parts = new ArrayList<>();
        for (TableId t : tables) {
            byTopic.put(io.shardlift.cdc.event.Topics.forTable(prefix, t), codecs.get(t));
            parts.addAll(partitions(t));
        }
        List<Got> got = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        try (KafkaConsumer<byte[], byte[]> c = consumer()) {
            c.assign(parts);
            c.seekToBeginning(parts);
            while (!done.test(got)) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("Kafka did not hold the expected changes within " + timeout + "; read "
                            + got.size() + " changes");
                }
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    got.add(new Got(r.topic(), r.partition(), r.offset(), byTopic.get(r.topic()).decode(r.value())));
                }
            }
        }
        return got;
    }
}
