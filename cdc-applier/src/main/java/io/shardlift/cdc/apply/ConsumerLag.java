package io.shardlift.cdc.apply;

import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records in Kafka not yet applied on every node, over the partitions this applier holds: per partition as a gauge,
 * and in total for the status. The end-to-end lag by commit time is {@link ApplyMetrics#commitLagMillis}.
 */
final class ConsumerLag {

    private static final Logger log = LoggerFactory.getLogger(ConsumerLag.class);

    private final Positions positions;
    private final ApplyMetrics metrics;
    private volatile long total;

    ConsumerLag(Positions positions, ApplyMetrics metrics) {
        this.positions = positions;
        this.metrics = metrics;
    }

    long total() {
        return total;
    }

    void refresh(Consumer<?, ?> consumer) {
        // a copy: the assignment is a live view that a rebalance during endOffsets may change
        Set<TopicPartition> assigned = new HashSet<>(consumer.assignment());
        if (assigned.isEmpty()) {
            total = 0;
            return;
        }
        Map<TopicPartition, Long> ends;
        try {
            ends = consumer.endOffsets(assigned, Duration.ofSeconds(5));
        } catch (WakeupException | InterruptException e) {
            throw e;
        } catch (RuntimeException e) {
            // the lag is a gauge: a failed read (a timeout, a rebalance racing it: seen as a ConcurrentModificationException
            // inside the consumer's offset fetcher) keeps the last figure and must never stop the applier
            log.debug("consumer lag not refreshed: {}", e.toString());
            return;
        }
        long sum = 0;
        for (TopicPartition tp : assigned) {
            long lag = positions.lag(tp, ends.getOrDefault(tp, 0L));
            metrics.consumerLag(tp.topic(), tp.partition(), lag);
            sum += lag;
        }
        total = sum;
    }
}
