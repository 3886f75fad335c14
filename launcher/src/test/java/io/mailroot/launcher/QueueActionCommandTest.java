package io.mailroot.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.mailroot.core.config.ConfigLoader;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.control.ControlAction;
import io.mailroot.core.control.ControlAction.Verb;
import io.mailroot.core.control.ControlCodec;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.TopicCreator;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.MessageIds;
import io.mailroot.core.message.NextHop;
import io.mailroot.core.message.Recipient;
import io.mailroot.core.role.Role;
import io.mailroot.deliverer.DelivererRole;
import io.mailroot.deliverer.RetryRole;
import io.mailroot.queue.QueuedMessage;
import io.mailroot.queue.QueuedMessage.QueuedRecipient;
import io.mailroot.queue.QueuedMessage.State;
import io.mailroot.testkit.Await;
import io.mailroot.testkit.ScriptedSmtpServer;
import io.mailroot.testkit.SharedKafka;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mailroot queue retry-now|hold|release|delete|expire} against the shared broker. */
class QueueActionCommandTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;
    private String prefix;
    private Topics topics;
    private KafkaClients clients;
    private CommandClients kafka;

    @BeforeEach
    void topics() throws Exception {
        prefix = SharedKafka.uniquePrefix("queue-action");
        topics = new Topics(prefix, 1);
        TopicCreator.ensure(SharedKafka.bootstrap(), topics, 1, (short) 1);
        clients = new KafkaClients(SharedKafka.bootstrap(), prefix);
        kafka = new CommandClients(clients, topics);
    }

    private record Run(int status, String out, String err) {
    }

    private Run run(QueueSnapshot queue, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = QueueActionCommand.run(List.of(args), kafka, queue, "alice", new PrintStream(out, true),
                new PrintStream(err, true));
        Run r = new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        System.out.println("$ mailroot queue " + String.join(" ", args) + "\n" + r.out() + r.err());
        return r;
    }

    private List<ConsumerRecord<String, byte[]>> control(int atLeast) {
        List<ConsumerRecord<String, byte[]>> seen = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> c = clients.consumer("test-control", "test-control")) {
            TopicPartition tp = new TopicPartition(topics.control(), 0);
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            Await.until(atLeast + " control records", WAIT, () -> {
                c.poll(Duration.ofMillis(100)).forEach(seen::add);
                return seen.size() >= atLeast;
            });
            long end = c.endOffsets(List.of(tp)).get(tp);
            assertEquals(seen.size(), end, "nothing more on the control topic");
        }
        return seen;
    }

    private static long end(String topic) {
        TopicPartition tp = new TopicPartition(topic, 0);
        try (var admin = org.apache.kafka.clients.admin.Admin.create(SharedKafka.adminConfig())) {
            return admin.listOffsets(Map.of(tp, org.apache.kafka.clients.admin.OffsetSpec.latest())).all().get()
                    .get(tp).offset();
        } catch (Exception e) {
            return -1;
        }
    }

    @Test
    void anArgumentShapedLikeAQueueIdIsAMessageAndAnythingElseADomain() {
        String id = MessageIds.next();
        QueueActionCommand.Request byId = QueueActionCommand.parse(List.of("retry-now", id));
        assertEquals(id, byId.messageId());
        assertNull(byId.domain());
        QueueActionCommand.Request byDomain = QueueActionCommand.parse(List.of("retry-now", "Example.ORG"));
        assertEquals("example.org", byDomain.domain());
        assertNull(byDomain.messageId());
        assertEquals("localhost", QueueActionCommand.parse(List.of("hold", "--domain", "localhost")).domain());
        QueueActionCommand.Request delete = QueueActionCommand.parse(List.of("delete", id, "--report", "--dry-run"));
        assertTrue(delete.withReport() && delete.dryRun());
        assertThrows(IllegalArgumentException.class, () -> QueueActionCommand.parse(List.of("hold")));
        assertThrows(IllegalArgumentException.class, () -> QueueActionCommand.parse(List.of("hold", id, "example.org")));
        assertThrows(IllegalArgumentException.class, () -> QueueActionCommand.parse(List.of("expire", id, "--report")));
        assertThrows(IllegalArgumentException.class, () -> QueueActionCommand.parse(List.of("hold", "--id", "example.org")));
        assertTrue(QueueActionCommand.handles(List.of("release", id)));
        assertFalse(QueueActionCommand.handles(List.of("summary")));
    }

    @Test
    void anActionIsWrittenToTheControlTopicUnderItsKey() throws Exception {
        Run r = run(List::of, "hold", "--domain", "Remote.Test");

        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().startsWith("asked: hold domain remote.test (action "), r.out());
        ConsumerRecord<String, byte[]> rec = control(1).get(0);
        assertEquals("domain:remote.test/hold", rec.key());
        ControlAction a = ControlCodec.decode(rec.value());
        assertEquals(Verb.HOLD, a.verb());
        assertEquals("remote.test", a.domain());
        assertEquals("alice", a.operator());
        assertTrue(r.out().contains(a.id()));
    }

    @Test
    void aDryRunShowsWhatMatchesAndWritesNothing() throws Exception {
        Instant now = Instant.parse("2026-12-03T12:00:00Z");
        QueuedMessage bob = new QueuedMessage("MIPNX1K0.6D0C8A1B2E3F4051", "alice@sender.test", 812, now,
                List.of(new QueuedRecipient("bob@remote.test", "remote.test", State.DEFERRED, "451 4.3.0 busy", 2,
                        now.plusSeconds(3600)), new QueuedRecipient("dan@other.test", "other.test", State.ACTIVE,
                        null, 0, null)), now);
        QueuedMessage carol = new QueuedMessage("MIPNX1K4.0A1B2C3D4E5F6071", "", 540, now,
                List.of(new QueuedRecipient("carol@other.test", "other.test", State.DEFERRED, "451 4.3.0 busy", 1,
                        now.plusSeconds(600))), now);
        ObjectMapper json = new ObjectMapper().registerModule(new JavaTimeModule())
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
        try (KafkaProducer<String, byte[]> p = clients.producer("test-queue-view")) {
            for (QueuedMessage m : List.of(bob, carol)) {
                p.send(new ProducerRecord<>(topics.queueState(), m.id(), json.writeValueAsBytes(m))).get(30, TimeUnit.SECONDS);
            }
        }

        Run r = run(QueueSnapshot.fromTopic(clients, topics), "delete", "remote.test", "--report", "--dry-run");

        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("would match 1 queued message(s)"), r.out());
        assertTrue(r.out().contains(bob.id()) && r.out().contains("bob@remote.test  deferred, 2 attempts"), r.out());
        assertFalse(r.out().contains(carol.id()) || r.out().contains("dan@other.test"), r.out());
        Run byId = run(QueueSnapshot.fromTopic(clients, topics), "expire", carol.id(), "--dry-run");
        assertTrue(byId.out().contains(carol.id()) && byId.out().contains("<>"), byId.out());
        assertEquals(0, end(topics.control()), "a dry run writes nothing to the control topic");
    }

    @Test
    void retryNowFromTheCommandLineDeliversADeferredMessageAtOnce() throws Exception {
        try (ScriptedSmtpServer smartHost = new ScriptedSmtpServer()) {
            Path file = dir.resolve("mailroot.yml");
            Files.writeString(file, """
                    fqdn: relay.test
                    nodeId: queue-test
                    dataDir: %s
                    kafka:
                      bootstrap: "%s"
                      topicPrefix: "%s"
                      partitions: 1
                    delivery:
                      retryIntervals: [1h]
                      smartHost: "[127.0.0.1]:%d"
                    """.formatted(dir.resolve("data"), SharedKafka.bootstrap(), prefix, smartHost.port()));
            MailrootConfig config = ConfigLoader.load(file, Map.of());
            smartHost.dataReplies("451 4.3.0 busy");
            List<Role> roles = List.of(new DelivererRole(config, clients, topics), new RetryRole(config, clients, topics));
            try {
                for (Role role : roles) {
                    role.start();
                }
                Envelope env = Envelope.received(MessageIds.next(), "alice@sender.test",
                        List.of(Recipient.of("bob@remote.test")), Instant.now()).withNextHop(NextHop.relay(config.delivery().smartHost()));
                try (KafkaProducer<String, byte[]> p = clients.producer("test-router")) {
                    p.send(EnvelopeCodec.toRecord(topics.outbound(), env.nextHop().key(), new MailRecord(env,
                            "Subject: wait\r\n\r\nbody\r\n".getBytes(StandardCharsets.US_ASCII)))).get(30, TimeUnit.SECONDS);
                }
                Await.until("the first attempt was deferred", WAIT, () -> smartHost.dataAttempts() == 1);
                // A retry-now hurries records written before it: wait until the deferral is on retry.1.
                Await.until("the deferral waits on retry.1", WAIT, () -> end(topics.retry(1)) == 1);

                int status = Main.run(new String[] {"queue", "retry-now", env.id(), "--config", file.toString()}, Map.of());

                assertEquals(0, status);
                Await.until("the message was delivered without waiting its hour", WAIT,
                        () -> smartHost.received().size() == 1);
                assertEquals(List.of("bob@remote.test"), smartHost.received().get(0).recipients());
            } finally {
                for (Role role : roles) {
                    role.close();
                }
            }
        }
    }
}
