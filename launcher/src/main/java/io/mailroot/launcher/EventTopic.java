package io.mailroot.launcher;

import io.mailroot.core.config.ConfigException;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.event.EventCodec;
import io.mailroot.core.event.MessageEvent;
import io.mailroot.core.kafka.HopPartitioner;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.Topics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * The {@code events} topic as {@code mailroot trail} and {@code mailroot log} read it: a consumer of no group
 * (nothing is committed, nobody else's offsets move), reading committed records only, so a router's aborted
 * transaction never shows.
 */
final class EventTopic implements AutoCloseable {

    /** How long a read may take at most, so a command never hangs on a cluster that does not answer. */
    private static final Duration READ_LIMIT = Duration.ofSeconds(60);
    private static final Duration POLL = Duration.ofMillis(200);

    /** An event with where it was read, so events of one instant keep the topic's order. */
    record Read(MessageEvent event, int partition, long offset, int bytes) {
        static final Comparator<Read> BY_TIME = Comparator.comparing((Read r) -> r.event().at())
                .thenComparingInt(Read::partition).thenComparingLong(Read::offset);
    }

    private final KafkaConsumer<String, byte[]> consumer;
    private final String topic;

    EventTopic(KafkaClients clients, Topics topics) {
        Map<String, Object> c = clients.consumerConfig("unused", "mailroot-events-reader");
        c.remove(ConsumerConfig.GROUP_ID_CONFIG);
        c.remove(ConsumerConfig.GROUP_PROTOCOL_CONFIG);
        this.consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
        this.topic = topics.events();
    }

    static EventTopic of(MailrootConfig config) {
        Topics topics = new Topics(config.kafka().topicPrefix(), config.delivery().retryIntervals().size());
        return new EventTopic(clients(config), topics);
    }

    /** The configured Kafka, as {@code mailroot topics} reaches it (see {@link TopicsCommand#clients}). */
    static KafkaClients clients(MailrootConfig config) {
        try {
            return TopicsCommand.clients(config, null);
        } catch (IOException e) {
            throw new ConfigException(e.getMessage());
        }
    }

    /** The partition the producers put {@code key} on: {@link HopPartitioner}, murmur2 for a message id. */
    TopicPartition partitionOf(String key) {
        int partitions = partitions().size();
        return new TopicPartition(topic, HopPartitioner.partitionOf(key, key.getBytes(StandardCharsets.UTF_8), partitions));
    }

    List<TopicPartition> partitions() {
        List<PartitionInfo> info = consumer.partitionsFor(topic, Duration.ofSeconds(30));
        if (info == null || info.isEmpty()) {
            throw new ConfigException("there is no topic " + topic + " (is kafka.topicPrefix right, and has Mailroot"
                    + " started on this Kafka?)");
        }
        return info.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
    }

    /** Every event of {@code key}'s partition from the beginning to the end as it is now, whose key is {@code key}. */
    List<Read> of(String key) {
        TopicPartition tp = partitionOf(key);
        long begin = consumer.beginningOffsets(List.of(tp)).get(tp);
        long end = consumer.endOffsets(List.of(tp)).get(tp);
        return read(List.of(tp), Map.of(tp, begin), Map.of(tp, end), key::equals);
    }

    /** The last {@code perPartition} records of each partition (or fewer), as they are now. */
    List<Read> tail(long perPartition) {
        List<TopicPartition> all = partitions();
        Map<TopicPartition, Long> begin = consumer.beginningOffsets(all);
        Map<TopicPartition, Long> end = consumer.endOffsets(all);
        Map<TopicPartition, Long> from = new java.util.HashMap<>();
        all.forEach(tp -> from.put(tp, Math.max(begin.get(tp), end.get(tp) - perPartition)));
        return read(all, from, end, k -> true);
    }

    /** From where {@link #tail} stopped (or from the end), for ever: each batch as it comes. */
    void follow(java.util.function.Consumer<List<Read>> sink, java.util.function.BooleanSupplier stop) {
        while (!stop.getAsBoolean()) {
            List<Read> batch = new ArrayList<>();
            for (ConsumerRecord<String, byte[]> r : consumer.poll(POLL)) {
                decode(r).ifPresent(batch::add);
            }
            if (!batch.isEmpty()) {
                batch.sort(Read.BY_TIME);
                sink.accept(batch);
            }
        }
    }

    /** Follows every partition from its end, when nothing was read before. */
    void fromEnd() {
        List<TopicPartition> all = partitions();
        consumer.assign(all);
        consumer.seekToEnd(all);
        all.forEach(consumer::position);
    }

    private List<Read> read(List<TopicPartition> tps, Map<TopicPartition, Long> from, Map<TopicPartition, Long> to,
                            Predicate<String> key) {
        consumer.assign(tps);
        tps.forEach(tp -> consumer.seek(tp, from.get(tp)));
        List<Read> out = new ArrayList<>();
        long deadline = System.nanoTime() + READ_LIMIT.toNanos();
        while (tps.stream().anyMatch(tp -> consumer.position(tp) < to.get(tp))) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("reading " + topic + " took longer than " + READ_LIMIT);
            }
            for (ConsumerRecord<String, byte[]> r : consumer.poll(POLL)) {
                TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                if (r.offset() < to.get(tp) && r.key() != null && key.test(r.key())) {
                    decode(r).ifPresent(out::add);
                }
            }
        }
        out.sort(Read.BY_TIME);
        return out;
    }

    private static java.util.Optional<Read> decode(ConsumerRecord<String, byte[]> r) {
        if (r.value() == null) {
            return java.util.Optional.empty();
        }
        try {
            int bytes = r.serializedKeySize() + r.serializedValueSize();
            return java.util.Optional.of(new Read(EventCodec.decode(r.value()), r.partition(), r.offset(), bytes));
        } catch (RuntimeException e) {
            return java.util.Optional.empty(); // an event nobody can read is not worth stopping the command for
        }
    }

    @Override
    public void close() {
        consumer.close();
    }
}
