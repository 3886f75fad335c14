package io.mailroot.core.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.TopicCreator;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.Recipient;
import io.mailroot.testkit.Await;
import io.mailroot.testkit.SharedKafka;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The lag snapshot against the shared broker: records, seconds, transaction markers, waiting and overdue retries. */
class TopicLagReaderTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    private String prefix;
    private Topics topics;
    private KafkaClients clients;
    private Admin admin;
    private TopicLagReader reader;

    @BeforeEach
    void topics() throws Exception {
        prefix = SharedKafka.uniquePrefix("lag");
        topics = new Topics(prefix, 2);
        clients = new KafkaClients(SharedKafka.bootstrap(), prefix);
        TopicCreator.ensure(clients, topics, 1, (short) 1);
        admin = Admin.create(clients.adminConfig());
        reader = new TopicLagReader(clients, topics, TIMEOUT);
    }

    @AfterEach
    void close() {
        reader.close();
        admin.close();
    }

    private void commit(String group, String topic, long offset) throws Exception {
        admin.alterConsumerGroupOffsets(prefix + group, Map.of(new TopicPartition(topic, 0), new OffsetAndMetadata(offset)))
                .all().get(30, TimeUnit.SECONDS);
    }

    private static PartitionLag row(LagSnapshot s, String topic, String group) {
        return s.of(topic).stream().filter(p -> java.util.Objects.equals(p.group(), group)).findFirst()
                .orElseThrow(() -> new AssertionError("no row for " + topic + " / " + group + " in " + s.partitions()));
    }

    @Test
    void aGroupThatConsumedPartOfATopicLagsByTheRestAndByTheAgeOfItsOldestRecord() throws Exception {
        Instant now = Instant.now();
        try (KafkaProducer<String, byte[]> p = clients.producer("lag-test")) {
            for (int i = 0; i < 5; i++) {
                // Records 50, 40, 30, 20 and 10 s old.
                long ts = now.minusSeconds(50 - 10L * i).toEpochMilli();
                p.send(new ProducerRecord<>(topics.inbound(), 0, ts, "m" + i, new byte[] {1})).get(30, TimeUnit.SECONDS);
            }
        }
        commit("router", topics.inbound(), 2);

        LagSnapshot s = reader.read();
        PartitionLag inbound = row(s, topics.inbound(), prefix + "router");
        assertEquals(5, inbound.endOffset());
        assertEquals(2, inbound.committedOffset());
        assertEquals(3, inbound.lagRecords());
        double expected = (s.at().toEpochMilli() - now.minusSeconds(30).toEpochMilli()) / 1000.0;
        assertEquals(expected, inbound.lagSeconds(), 0.5, "the age of record 2, the oldest not consumed");
        assertFalse(inbound.retry());
        assertEquals(0, inbound.waiting());

        PartitionLag outbound = row(s, topics.outbound(), null);
        assertEquals(0, outbound.lagRecords(), "a topic nobody wrote has no lag");
        assertEquals(0, outbound.lagSeconds());

        commit("router", topics.inbound(), 5);
        PartitionLag done = row(reader.read(), topics.inbound(), prefix + "router");
        assertEquals(0, done.lagRecords());
        assertEquals(0, done.lagSeconds());
    }

    @Test
    void aTransactionsMarkerCountsUntilItIsCommittedPast() throws Exception {
        try (KafkaProducer<String, byte[]> p = clients.transactionalProducer(prefix + "lag-test-tx")) {
            p.initTransactions();
            p.beginTransaction();
            for (int i = 0; i < 3; i++) {
                p.send(new ProducerRecord<>(topics.local(), 0, "m" + i, new byte[] {1}));
            }
            p.commitTransaction();
        }
        commit("drop", topics.local(), 3);
        PartitionLag lastPlusOne = row(reader.read(), topics.local(), prefix + "drop");
        assertEquals(4, lastPlusOne.endOffset(), "three records and the commit marker");
        assertEquals(1, lastPlusOne.lagRecords(), "committing last + 1 leaves the marker behind");
        assertEquals(0, lastPlusOne.lagSeconds(), "but no record waits");

        commit("drop", topics.local(), 4);
        assertEquals(0, row(reader.read(), topics.local(), prefix + "drop").lagRecords());
    }

    private void putRetry(String topic, String id, Instant due) throws Exception {
        Envelope env = Envelope.received(id, "alice@client.test", List.of(Recipient.of("bob@remote.test")),
                Instant.now().minus(Duration.ofHours(1))).withAttempt(1, Instant.now().minus(Duration.ofHours(1)), due,
                "451 4.3.0 try later");
        try (KafkaProducer<String, byte[]> p = clients.producer("lag-test")) {
            p.send(EnvelopeCodec.toRecord(topic, "remote.test", new MailRecord(env,
                    "Subject: x\r\n\r\nbody\r\n".getBytes(StandardCharsets.US_ASCII)))).get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void retriesPastTheirDueTimeAreOverdueAndTheOthersWait() throws Exception {
        Instant now = Instant.now();
        putRetry(topics.retry(1), "past-1", now.minus(Duration.ofMinutes(10)));
        putRetry(topics.retry(1), "past-2", now.minus(Duration.ofMinutes(5)));
        putRetry(topics.retry(1), "within-grace", now.minus(Duration.ofSeconds(5)));
        putRetry(topics.retry(2), "future", now.plus(Duration.ofMinutes(10)));

        LagSnapshot s = reader.read();
        PartitionLag level1 = row(s, topics.retry(1), null);
        assertNull(level1.group(), "no consumer has read retry.1");
        assertTrue(level1.retry());
        assertEquals(3, level1.waiting());
        assertEquals(2, level1.overdue(), "due more than a minute ago, and nobody released them");
        assertEquals(2, s.overdue(topics.retry(1)));
        PartitionLag level2 = row(s, topics.retry(2), null);
        assertEquals(1, level2.waiting());
        assertEquals(0, level2.overdue(), "due in ten minutes: waiting on purpose");

        commit("retry", topics.retry(1), 1);
        PartitionLag afterOne = row(reader.read(), topics.retry(1), prefix + "retry");
        assertEquals(2, afterOne.waiting());
        assertEquals(1, afterOne.overdue());
    }

    @Test
    void aLevelLeftBehindByShorterRetryIntervalsIsStillReported() throws Exception {
        Topics longer = new Topics(prefix, 3);
        TopicCreator.ensure(clients, longer, 1, (short) 1);
        putRetry(longer.retry(3), "left-behind", Instant.now().minus(Duration.ofHours(1)));
        PartitionLag level3 = row(reader.read(), longer.retry(3), null);
        assertEquals(1, level3.overdue());
    }

    @Test
    void gaugesFollowTheSnapshotAndGoWithTheirMonitor() throws Exception {
        try (KafkaProducer<String, byte[]> p = clients.producer("lag-test")) {
            for (int i = 0; i < 4; i++) {
                p.send(new ProducerRecord<>(topics.outbound(), 0, "m" + i, new byte[] {1})).get(30, TimeUnit.SECONDS);
            }
        }
        commit("deliverer", topics.outbound(), 1);
        putRetry(topics.retry(1), "past", Instant.now().minus(Duration.ofMinutes(10)));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        TopicLagMetrics metrics = TopicLagMetrics.start(clients, topics, registry, Duration.ofMillis(200));
        TopicLagMetrics again = TopicLagMetrics.start(clients, topics, registry, Duration.ofMillis(200));
        try {
            Await.until("lag gauges", TIMEOUT, () -> value(registry, "mailroot.topic.lag.records", topics.outbound(),
                    prefix + "deliverer") == 3);
            assertEquals(4, registry.find("mailroot.topic.end.offset").tags("topic", topics.outbound(), "partition", "0")
                    .gauge().value());
            assertTrue(value(registry, "mailroot.topic.lag.seconds", topics.outbound(), prefix + "deliverer") >= 0);
            assertEquals(1, registry.find("mailroot.retry.overdue").tag("topic", topics.retry(1)).gauge().value());
            assertEquals(0, registry.find("mailroot.retry.overdue").tag("topic", topics.retry(2)).gauge().value());
            assertTrue(registry.find("mailroot.topic.lag.records").tag("topic", topics.retry(1)).gauges().isEmpty(),
                    "no group reads retry.1: no lag gauge, only the overdue count");

            commit("deliverer", topics.outbound(), 4);
            Await.until("lag gauge follows the commit", TIMEOUT, () -> value(registry, "mailroot.topic.lag.records",
                    topics.outbound(), prefix + "deliverer") == 0);
            metrics.close();
            assertTrue(registry.find("mailroot.topic.lag.records").gauges().size() > 0,
                    "one monitor per installation, shared: it runs until its last user closes it");
        } finally {
            metrics.close();
            again.close();
        }
        assertTrue(registry.find("mailroot.topic.lag.records").gauges().isEmpty(), "closed, the gauges are gone");
    }

    private double value(SimpleMeterRegistry registry, String name, String topic, String group) {
        Gauge g = registry.find(name).tags("topic", topic, "partition", "0", "group", group).gauge();
        return g == null ? Double.NaN : g.value();
    }
}
