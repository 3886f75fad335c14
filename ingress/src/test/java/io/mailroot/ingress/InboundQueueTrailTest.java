package io.mailroot.ingress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.event.EventCodec;
import io.mailroot.core.event.EventLog;
import io.mailroot.core.event.MessageEvent;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.TopicCreator;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.Recipient;
import io.mailroot.testkit.Await;
import io.mailroot.testkit.FreePorts;
import io.mailroot.testkit.SharedKafka;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/** RECEIVED is written only for mail Kafka took, and an event that cannot be written never costs the mail. */
class InboundQueueTrailTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    private static MailRecord mail(String id) {
        Envelope e = Envelope.received(id, "a@client.test", List.of(Recipient.of("b@remote.test")), Instant.now())
                .withClient("192.0.2.1", "mail.client.test", "client.test", null, false, "Default");
        return new MailRecord(e, "Subject: hi\r\n\r\nhello\r\n".getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void acceptedMailIsReceivedInTheTrailAndRefusedMailIsNot() throws Exception {
        String prefix = SharedKafka.uniquePrefix("received");
        Topics topics = new Topics(prefix, 1);
        TopicCreator.ensure(SharedKafka.bootstrap(), topics, 2, (short) 1);
        KafkaClients clients = new KafkaClients(SharedKafka.bootstrap(), prefix);
        try (KafkaProducer<String, byte[]> producer = clients.producer("received-test")) {
            InboundQueue queue = new InboundQueue(producer, topics.inbound(), Duration.ofSeconds(10), IngressMetrics.SMTP,
                    new EventLog(producer, topics.events(), "node-a", "ingress"));
            assertTrue(queue.put(mail("ACCEPTED1")));
            // A topic that does not exist: Kafka never acknowledges, so the client hears 451 and nothing is RECEIVED.
            Map<String, Object> quick = clients.producerConfig("refused-test");
            quick.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 500);
            try (KafkaProducer<String, byte[]> refusing = new KafkaProducer<>(quick, new StringSerializer(), new ByteArraySerializer())) {
                InboundQueue nowhere = new InboundQueue(refusing, prefix + "no-such-topic", Duration.ofMillis(500), IngressMetrics.SMTP,
                        new EventLog(refusing, topics.events(), "node-a", "ingress"));
                assertFalse(nowhere.put(mail("REFUSED1")));
            }
            assertTrue(queue.put(mail("ACCEPTED2")));
            List<MessageEvent> events = Await.value("two RECEIVED events", WAIT, () -> {
                List<MessageEvent> e = events(clients, topics);
                return e.size() >= 2 ? e : null;
            });
            assertEquals(List.of("ACCEPTED1", "ACCEPTED2"), events.stream().map(MessageEvent::messageId).sorted().toList());
            MessageEvent first = events.stream().filter(e -> e.messageId().equals("ACCEPTED1")).findFirst().orElseThrow();
            assertEquals(MessageEvent.Type.RECEIVED, first.type());
            assertEquals("mail.client.test [192.0.2.1] helo=client.test server=Default", first.client());
            assertEquals(List.of("b@remote.test"), first.recipients());
            assertEquals("node-a", first.node());
        }
    }

    @Test
    void anEventLogWhoseBrokerIsGoneLeavesTheMailPathAlone() throws Exception {
        String prefix = SharedKafka.uniquePrefix("gone");
        Topics topics = new Topics(prefix, 1);
        TopicCreator.ensure(SharedKafka.bootstrap(), topics, 2, (short) 1);
        KafkaClients clients = new KafkaClients(SharedKafka.bootstrap(), prefix);
        Map<String, Object> gone = new java.util.HashMap<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + FreePorts.next(),
                ProducerConfig.MAX_BLOCK_MS_CONFIG, 2_000));
        try (KafkaProducer<String, byte[]> producer = clients.producer("gone-test");
             KafkaProducer<String, byte[]> nowhere = new KafkaProducer<>(gone, new StringSerializer(), new ByteArraySerializer())) {
            EventLog events = new EventLog(nowhere, topics.events(), "node-a", "ingress");
            InboundQueue queue = new InboundQueue(producer, topics.inbound(), Duration.ofSeconds(10), IngressMetrics.SMTP, events);
            for (int i = 0; i < 3; i++) {
                assertTrue(queue.put(mail("M" + i)), "the mail is queued whatever becomes of its event");
            }
            Await.until("the three events counted as failed", WAIT, () -> events.failures() == 3);
        }
    }

    private static List<MessageEvent> events(KafkaClients clients, Topics topics) {
        try (KafkaConsumer<String, byte[]> c = clients.consumer("check-" + System.nanoTime(), "check")) {
            List<TopicPartition> tps = c.partitionsFor(topics.events()).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            c.assign(tps);
            c.seekToBeginning(tps);
            Map<TopicPartition, Long> end = c.endOffsets(tps);
            List<MessageEvent> out = new ArrayList<>();
            while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
                    out.add(EventCodec.decode(r.value()));
                }
            }
            return out;
        }
    }
}
