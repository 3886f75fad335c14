package io.mailroot.deliverer;

import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.TopicCreator;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import io.mailroot.testkit.SharedKafka;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.WakeupException;

/**
 * Topics of their own on the shared broker for one test, and the means to watch them: what appeared on a topic and
 * whether a group has committed all of it.
 */
public final class KafkaFixture implements AutoCloseable {

    public final String bootstrap;
    public final String prefix;
    public final Topics topics;
    public final KafkaClients clients;
    private final Admin admin;
    private final List<Runnable> stops = new CopyOnWriteArrayList<>();

    public KafkaFixture(String name, int partitions) throws Exception {
        bootstrap = SharedKafka.bootstrap();
        prefix = SharedKafka.uniquePrefix(name);
        topics = new Topics(prefix, 2);
        TopicCreator.ensure(bootstrap, topics, partitions, (short) 1);
        clients = new KafkaClients(bootstrap, prefix);
        admin = Admin.create(SharedKafka.adminConfig());
    }

    /** Sends the records and waits until Kafka has them all. */
    public void publish(List<ProducerRecord<String, byte[]>> records) throws Exception {
        try (KafkaProducer<String, byte[]> p = clients.producer("test-producer")) {
            List<Future<?>> acks = records.stream().<Future<?>>map(p::send).toList();
            for (Future<?> ack : acks) {
                ack.get(30, TimeUnit.SECONDS);
            }
        }
    }

    /** Collects what appears on a topic, from the beginning, on a thread of its own. */
    public List<MailRecord> watch(String topic) {
        List<MailRecord> seen = new CopyOnWriteArrayList<>();
        KafkaConsumer<String, byte[]> c = clients.consumer("test-watch-" + topic, "test-watch");
        // Assigned, not subscribed: no group to join, so the watcher sees records at once.
        List<TopicPartition> all = c.partitionsFor(topic).stream()
                .map(p -> new TopicPartition(topic, p.partition())).toList();
        c.assign(all);
        c.seekToBeginning(all);
        Thread t = new Thread(() -> {
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(100))) {
                        seen.add(EnvelopeCodec.fromRecord(r));
                    }
                }
            } catch (WakeupException | InterruptException e) {
                // stopping
            } finally {
                c.close(Duration.ofSeconds(2));
            }
        }, "watch-" + topic);
        t.start();
        stops.add(() -> {
            c.wakeup();
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        return seen;
    }

    /** Records on the topic so far, all partitions together. */
    public long end(String topic) throws Exception {
        int n = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().size();
        Map<TopicPartition, OffsetSpec> specs = new HashMap<>();
        for (int i = 0; i < n; i++) {
            specs.put(new TopicPartition(topic, i), OffsetSpec.latest());
        }
        return admin.listOffsets(specs).all().get().values().stream().mapToLong(o -> o.offset()).sum();
    }

    public long committed(String group, String topic) throws Exception {
        Map<TopicPartition, OffsetAndMetadata> offsets =
                admin.listConsumerGroupOffsets(prefix + group).partitionsToOffsetAndMetadata().get();
        return offsets.entrySet().stream().filter(e -> e.getKey().topic().equals(topic) && e.getValue() != null)
                .mapToLong(e -> e.getValue().offset()).sum();
    }

    /** Whether {@code group} has committed everything on {@code topic}. */
    public boolean caughtUp(String group, String topic) {
        try {
            return committed(group, topic) == end(topic);
        } catch (Exception e) {
            return false;
        }
    }

    @Override
    public void close() {
        stops.forEach(Runnable::run);
        admin.close();
    }
}
