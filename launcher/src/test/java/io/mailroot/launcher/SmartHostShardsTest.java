package io.mailroot.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.config.ConfigLoader;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.TopicCreator;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.NextHop;
import io.mailroot.core.message.Recipient;
import io.mailroot.core.role.Role;
import io.mailroot.deliverer.DelivererRole;
import io.mailroot.router.RouterRole;
import io.mailroot.testkit.Await;
import io.mailroot.testkit.ScriptedSmtpServer;
import io.mailroot.testkit.SharedKafka;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A smart host through the router and the deliverer on the shared broker: one message to many domains is one record
 * and one transaction, and the smart host's mail is spread over the partitions of {@code outbound}.
 */
class SmartHostShardsTest {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final int PARTITIONS = 6;

    @TempDir
    Path dir;

    private final List<Role> roles = new ArrayList<>();
    private ScriptedSmtpServer smartHost;
    private Topics topics;
    private KafkaClients clients;
    private Admin admin;

    @BeforeEach
    void start() throws Exception {
        smartHost = new ScriptedSmtpServer();
        String bootstrap = SharedKafka.bootstrap();
        String prefix = SharedKafka.uniquePrefix("shards");
        topics = new Topics(prefix, 1);
        TopicCreator.ensure(bootstrap, topics, PARTITIONS, (short) 1);
        clients = new KafkaClients(bootstrap, prefix);
        admin = Admin.create(SharedKafka.adminConfig());
        awaitLeaders();
        MailrootConfig config = ConfigLoader.parse("""
                fqdn: relay.test
                dataDir: %s
                localDomains: [local.test]
                kafka: { partitions: %d }
                delivery:
                  retryIntervals: [1s]
                  smartHost: "[127.0.0.1]:%d"
                """.formatted(dir.resolve("data"), PARTITIONS, smartHost.port()), dir);
        roles.add(new RouterRole(config, clients, topics, "shards"));
        roles.add(new DelivererRole(config, clients, topics));
        for (Role r : roles) {
            r.start();
        }
    }

    @AfterEach
    void stop() throws Exception {
        for (Role r : roles) {
            r.close();
        }
        admin.close();
        smartHost.close();
    }

    private void publish(List<Envelope> messages) throws Exception {
        try (KafkaProducer<String, byte[]> p = clients.producer("test-ingress")) {
            List<Future<?>> acks = new ArrayList<>();
            for (Envelope e : messages) {
                byte[] bytes = ("Message-ID: <" + e.id() + "@test>\r\nSubject: shards\r\n\r\nbody\r\n")
                        .getBytes(StandardCharsets.US_ASCII);
                acks.add(p.send(EnvelopeCodec.toRecord(topics.inbound(), e.id(), new MailRecord(e, bytes))));
            }
            for (Future<?> ack : acks) {
                ack.get(30, TimeUnit.SECONDS);
            }
        }
    }

    private static Envelope message(String id, String... to) {
        return Envelope.received(id, "alice@sender.test", List.of(to).stream().map(Recipient::of).toList(),
                Instant.now());
    }

    /** Every record on outbound so far, read from the start of each partition. */
    private List<ConsumerRecord<String, byte[]>> outbound(int expected) {
        List<ConsumerRecord<String, byte[]>> seen = new CopyOnWriteArrayList<>();
        try (KafkaConsumer<String, byte[]> c = clients.consumer("test-watch", "test-watch")) {
            List<TopicPartition> all = new ArrayList<>();
            for (int i = 0; i < PARTITIONS; i++) {
                all.add(new TopicPartition(topics.outbound(), i));
            }
            c.assign(all);
            c.seekToBeginning(all);
            Await.until(expected + " outbound records", WAIT, () -> {
                c.poll(Duration.ofMillis(200)).forEach(seen::add);
                return seen.size() >= expected;
            });
        }
        return seen;
    }

    /**
     * Whether the deliverer has committed past each of these records, so nothing more of them reaches the smart
     * host. (End offsets would not do: the router's transaction markers take offsets of their own.)
     */
    private boolean delivered(List<ConsumerRecord<String, byte[]>> records) {
        try {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(topics.prefix()
                    + "deliverer").partitionsToOffsetAndMetadata().get();
            return records.stream().allMatch(r -> {
                OffsetAndMetadata o = committed.get(new TopicPartition(r.topic(), r.partition()));
                return o != null && o.offset() > r.offset();
            });
        } catch (Exception e) {
            return false;
        }
    }

    /**
     * Waits until the broker leads every partition of the test's topics: a producer that starts while leadership
     * is still moving sees NOT_LEADER_OR_FOLLOWER and its retries can be refused as out of sequence.
     */
    private void awaitLeaders() {
        List<String> names = List.of(topics.inbound(), topics.outbound());
        Await.until("leaders for " + names, WAIT, () -> {
            try {
                return admin.describeTopics(names).allTopicNames().get().values().stream()
                        .flatMap(d -> d.partitions().stream()).allMatch(p -> p.leader() != null && !p.leader().isEmpty());
            } catch (Exception e) {
                return false;
            }
        });
    }

    @Test
    void oneMessageToThreeDomainsIsOneTransactionWithThreeRecipients() throws Exception {
        publish(List.of(message("THREE", "a@one.test", "b@two.test", "c@three.test")));

        List<ConsumerRecord<String, byte[]>> records = outbound(1);
        Await.until("the smart host received the message", WAIT, () -> smartHost.received().size() == 1);
        Await.until("the deliverer committed it", WAIT, () -> delivered(records));

        List<ScriptedSmtpServer.Received> got = smartHost.received();
        assertEquals(1, got.size(), "one transaction, not one per domain");
        assertEquals(List.of("a@one.test", "b@two.test", "c@three.test"), got.get(0).recipients());
        assertEquals(1, outbound(1).size(), "one outbound record");
        assertEquals(3, EnvelopeCodec.fromRecord(records.get(0)).envelope().recipients().size(),
                "the record carries all three domains");
        assertEquals(NextHop.relay("[127.0.0.1]:" + smartHost.port()).sharded("THREE", PARTITIONS).key(),
                records.get(0).key());
    }

    @Test
    void mailToOneSmartHostIsSpreadOverSeveralPartitions() throws Exception {
        List<Envelope> messages = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            messages.add(message("SPREAD-" + i, "r" + i + "@far" + (i % 3) + ".test"));
        }
        publish(messages);

        List<ConsumerRecord<String, byte[]>> records = outbound(messages.size());
        Set<Integer> partitions = new TreeSet<>();
        Set<String> keys = new TreeSet<>();
        records.forEach(r -> {
            partitions.add(r.partition());
            keys.add(r.key());
        });
        assertTrue(keys.size() > 1 && keys.stream().allMatch(k -> k.matches("\\[\\[127\\.0\\.0\\.1]:\\d+]#[0-5]")),
                "the smart host's shards: " + keys);
        assertTrue(partitions.size() > 1, "one smart host on more than one partition: " + partitions);
        Await.until("the smart host received every message", WAIT, () -> smartHost.received().size() == 30);
    }
}
