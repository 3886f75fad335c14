package io.mailroot.launcher;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.Topics;
import io.mailroot.queue.QueuedMessage;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * The messages queued now, as the queue view knows them: what a dry run matches an action against. The queue view's
 * own reader can stand in for {@link #fromTopic}; this one reads the compacted {@code queue} topic whole (latest value
 * per message id, a tombstone for a message that left).
 */
interface QueueSnapshot {

    List<QueuedMessage> messages();

    static QueueSnapshot fromTopic(KafkaClients clients, Topics topics) {
        return () -> read(clients, topics.queueState());
    }

    private static List<QueuedMessage> read(KafkaClients clients, String topic) {
        ObjectMapper json = new ObjectMapper().registerModule(new JavaTimeModule())
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
        Map<String, Object> c = clients.consumerConfig("queue-command", "queue-command");
        c.remove(ConsumerConfig.GROUP_ID_CONFIG);
        Map<String, QueuedMessage> byId = new LinkedHashMap<>();
        try (KafkaConsumer<String, byte[]> consumer =
                     new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer())) {
            List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(30));
            if (infos == null || infos.isEmpty()) {
                return List.of();
            }
            List<TopicPartition> all = infos.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(all);
            consumer.seekToBeginning(all);
            Map<TopicPartition, Long> end = consumer.endOffsets(all, Duration.ofSeconds(30));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (all.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("could not read the queue topic " + topic + " within 60 s");
                }
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.key() == null) {
                        continue;
                    }
                    if (r.value() == null) {
                        byId.remove(r.key());
                        continue;
                    }
                    try {
                        byId.put(r.key(), json.readValue(r.value(), QueuedMessage.class));
                    } catch (IOException e) {
                        // a value this version cannot read is not shown; the action still applies to it
                    }
                }
            }
        }
        return new ArrayList<>(byId.values());
    }
}
