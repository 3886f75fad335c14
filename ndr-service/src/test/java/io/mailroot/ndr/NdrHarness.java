package io.mailroot.ndr;

import io.mailroot.core.config.ConfigLoader;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.TopicCreator;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import io.mailroot.testkit.Await;
import io.mailroot.testkit.SharedKafka;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;

/** A running ndr-service on the shared broker with topics of its own, and the means to feed and read it. */
final class NdrHarness implements AutoCloseable {

    static final Duration WAIT = Duration.ofSeconds(30);

    final String bootstrap = SharedKafka.bootstrap();
    final Topics topics;
    final KafkaClients clients;
    final MailrootConfig config;
    NdrRole role;
    private final KafkaProducer<String, byte[]> producer;
    private final KafkaConsumer<String, byte[]> inbound;
    private final Admin admin;
    private final List<ConsumerRecord<String, byte[]>> seen = new ArrayList<>();

    NdrHarness(String name, Path dir, String extraDeliveryYaml) throws Exception {
        this(name, dir, extraDeliveryYaml, true);
    }

    /** @param start false to feed the dsn topic first and start the service with {@link #restartRole()} */
    NdrHarness(String name, Path dir, String extraDeliveryYaml, boolean start) throws Exception {
        String prefix = SharedKafka.uniquePrefix(name);
        topics = new Topics(prefix, 2);
        clients = new KafkaClients(bootstrap, prefix);
        TopicCreator.ensure(bootstrap, topics, 3, (short) 1);
        config = ConfigLoader.parse("fqdn: relay.test\nlocalDomains: [local.test]\nmailroot: " + dir.resolve("mailroot")
                + "\ndelivery:\n  retryIntervals: [1s, 1s]\n" + extraDeliveryYaml, dir);
        producer = clients.producer("test-dsn-writer");
        inbound = clients.consumer("test-inbound-reader", "test-inbound-reader");
        List<TopicPartition> parts = inbound.partitionsFor(topics.inbound()).stream()
                .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
        inbound.assign(parts);
        inbound.seekToBeginning(parts);
        admin = Admin.create(clients.adminConfig());
        role = new NdrRole(config, clients, topics);
        if (start) {
            role.start();
        }
    }

    /** Closes the running service (if it runs) and starts a new one in the same group. */
    void restartRole() {
        role.close();
        role = new NdrRole(config, clients, topics);
        role.start();
    }

    /** Puts the ndr group's committed offsets on the dsn topic back to the beginning, as if nothing was done. */
    void forgetCommittedOffsets() {
        Map<TopicPartition, OffsetAndMetadata> zero = new HashMap<>();
        for (var p : inbound.partitionsFor(topics.dsn())) {
            zero.put(new TopicPartition(p.topic(), p.partition()), new OffsetAndMetadata(0));
        }
        // The group must be empty; the closed service's member may take a moment to leave.
        Await.until("ndr group offsets reset", WAIT, () -> {
            try {
                admin.alterConsumerGroupOffsets(clients.groupPrefix() + NdrRole.GROUP, zero).all().get(10, TimeUnit.SECONDS);
                return true;
            } catch (Exception e) {
                return false;
            }
        });
    }

    void sendDsn(int partition, MailRecord failed) throws Exception {
        ProducerRecord<String, byte[]> r = EnvelopeCodec.toRecord(topics.dsn(), failed.envelope().id(), failed);
        producer.send(new ProducerRecord<>(r.topic(), partition, r.key(), r.value(), r.headers())).get(10, TimeUnit.SECONDS);
    }

    void sendDsn(String key, MailRecord failed) throws Exception {
        producer.send(EnvelopeCodec.toRecord(topics.dsn(), key, failed)).get(10, TimeUnit.SECONDS);
    }

    RecordMetadata sendRaw(ProducerRecord<String, byte[]> record) throws Exception {
        return producer.send(record).get(10, TimeUnit.SECONDS);
    }

    /** Every inbound record so far, once at least {@code n} have arrived. */
    List<ConsumerRecord<String, byte[]>> awaitInbound(int n) {
        Await.until(n + " record(s) on " + topics.inbound(), WAIT, () -> {
            inbound.poll(Duration.ofMillis(100)).forEach(seen::add);
            return seen.size() >= n;
        });
        return List.copyOf(seen);
    }

    /** The offset the ndr group has committed on the dsn topic, summed over partitions. */
    long committedDsnOffsets() throws Exception {
        Map<TopicPartition, OffsetAndMetadata> offsets = admin
                .listConsumerGroupOffsets(clients.groupPrefix() + NdrRole.GROUP)
                .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
        return offsets.entrySet().stream().filter(e -> e.getKey().topic().equals(topics.dsn()))
                .mapToLong(e -> e.getValue() == null ? 0 : e.getValue().offset()).sum();
    }

    void awaitCommitted(long total) {
        Await.until("ndr group committed " + total + " dsn records", WAIT, () -> {
            try {
                return committedDsnOffsets() >= total;
            } catch (Exception e) {
                return false;
            }
        });
    }

    @Override
    public void close() {
        role.close();
        producer.close(Duration.ofSeconds(5));
        inbound.close(Duration.ofSeconds(5));
        admin.close(Duration.ofSeconds(5));
    }
}
