package io.mailroot.queue;

import io.mailroot.core.kafka.KafkaClients;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads partitions of the compacted {@code queue} topic from the beginning up to their end, as read_committed sees
 * it (the last stable offset), with a consumer of its own that belongs to no group: the newest record of each key
 * is the message's state, a tombstone removes it.
 */
public final class QueueSnapshot {

    private static final Logger LOG = LoggerFactory.getLogger(QueueSnapshot.class);
    private static final Duration POLL = Duration.ofMillis(200);

    private QueueSnapshot() {
    }

    /** The partition numbers of a topic; throws {@link TimeoutException} when Kafka does not answer in time. */
    public static List<Integer> partitions(KafkaClients clients, String topic, Duration timeout) throws TimeoutException {
        try (KafkaConsumer<String, byte[]> c = consumer(clients, "queue-partitions")) {
            List<PartitionInfo> infos = c.partitionsFor(topic, timeout);
            if (infos == null || infos.isEmpty()) {
                throw new IllegalStateException("topic " + topic + " does not exist at " + clients.bootstrap());
            }
            return infos.stream().map(PartitionInfo::partition).sorted().toList();
        } catch (org.apache.kafka.common.errors.TimeoutException e) {
            throw new TimeoutException("Kafka at " + clients.bootstrap() + " did not answer within " + timeout);
        }
    }

    /**
     * The messages in the given partitions of {@code topic}, by partition and message id.
     *
     * @param timeout how long the whole read may take
     */
    public static Map<Integer, Map<String, QueuedMessage>> read(KafkaClients clients, String topic,
                                                                Collection<Integer> partitions, Duration timeout)
            throws TimeoutException {
        Map<Integer, Map<String, QueuedMessage>> state = new HashMap<>();
        partitions.forEach(p -> state.put(p, new HashMap<>()));
        if (partitions.isEmpty()) {
            return state;
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        List<TopicPartition> tps = partitions.stream().map(p -> new TopicPartition(topic, p)).toList();
        try (KafkaConsumer<String, byte[]> c = consumer(clients, "queue-snapshot")) {
            c.assign(tps);
            c.seekToBeginning(tps);
            Map<TopicPartition, Long> end = c.endOffsets(tps, timeout);
            while (!reached(c, end)) {
                if (System.nanoTime() > deadline) {
                    throw new TimeoutException("reading " + topic + " at " + clients.bootstrap() + " took more than " + timeout);
                }
                for (ConsumerRecord<String, byte[]> r : c.poll(POLL)) {
                    Map<String, QueuedMessage> part = state.get(r.partition());
                    if (r.value() == null) {
                        part.remove(r.key());
                        continue;
                    }
                    try {
                        part.put(r.key(), QueueCodec.decode(r.value()));
                    } catch (RuntimeException e) {
                        // One unreadable state must not hide the rest of the queue; the next event of the
                        // message writes it anew.
                        LOG.warn("skipping unreadable queue record {}-{}@{}: {}", r.topic(), r.partition(), r.offset(),
                                e.getMessage());
                    }
                }
            }
        } catch (org.apache.kafka.common.errors.TimeoutException e) {
            throw new TimeoutException("Kafka at " + clients.bootstrap() + " did not answer within " + timeout);
        }
        return state;
    }

    private static boolean reached(KafkaConsumer<String, byte[]> c, Map<TopicPartition, Long> end) {
        for (var e : end.entrySet()) {
            if (c.position(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    private static KafkaConsumer<String, byte[]> consumer(KafkaClients clients, String clientId) {
        Map<String, Object> config = clients.consumerConfig("unused", clientId);
        config.remove(ConsumerConfig.GROUP_ID_CONFIG);
        config.remove(ConsumerConfig.GROUP_PROTOCOL_CONFIG);
        // The queue topic's records are small; one fetch may take many of them.
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000);
        return new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer());
    }
}
