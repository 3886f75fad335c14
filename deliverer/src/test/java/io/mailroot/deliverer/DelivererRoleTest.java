package io.mailroot.deliverer;

import static io.mailroot.deliverer.TestServerData.withoutTracing;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.mailroot.core.config.ConfigLoader;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.MessageIds;
import io.mailroot.core.message.NextHop;
import io.mailroot.core.message.Outcome;
import io.mailroot.core.message.Recipient;
import io.mailroot.core.role.Role;
import io.mailroot.testkit.Await;
import io.mailroot.testkit.DnsResponder;
import io.mailroot.testkit.ScriptedSmtpServer;
import io.mailroot.testkit.SharedKafka;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The deliverer and retry roles against a real broker, a real DNS responder and a real SMTP server on loopback. */
class DelivererRoleTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final byte[] MESSAGE = ("From: alice@sender.test\r\nTo: bob@remote.test\r\nSubject: hello\r\n\r\n"
            + ".a line that starts with a dot\r\n\u00fcml\u00e4ut\r\nbye\r\n").getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    private final List<Role> roles = new ArrayList<>();
    private String bootstrap;
    private String prefix;
    private KafkaFixture kafka;
    private Topics topics;
    private KafkaClients clients;
    private DnsResponder dns;
    private Admin admin;
    private ScriptedSmtpServer mx;

    @BeforeEach
    void setUp() throws Exception {
        bootstrap = SharedKafka.bootstrap();
        dns = new DnsResponder();
        dns.mx("remote.test", 10, "mx.remote.test").a("mx.remote.test", "127.0.0.1");
        mx = new ScriptedSmtpServer();
    }

    @AfterEach
    void tearDown() throws Exception {
        for (Role r : roles) {
            r.close();
        }
        if (admin != null) {
            admin.close();
        }
        if (kafka != null) {
            kafka.close();
        }
        mx.close();
        dns.close();
    }

    private MailrootConfig start(int partitions, String outboundTimeout) throws Exception {
        return start(partitions, outboundTimeout, mx.port(), "");
    }

    private MailrootConfig start(int partitions, String outboundTimeout, int port, String delivery) throws Exception {
        kafka = new KafkaFixture("deliverer", partitions);
        prefix = kafka.prefix;
        topics = kafka.topics;
        clients = kafka.clients;
        admin = Admin.create(SharedKafka.adminConfig());
        MailrootConfig config = ConfigLoader.parse("""
                fqdn: relay.test
                localDomains: [local.test]
                dns:
                  servers: ["%s"]
                  timeout: 2s
                delivery:
                  retryIntervals: [1s, 1s]
                  outboundPort: %d
                  outboundTimeout: %s
                """.formatted(dns.address(), port, outboundTimeout) + delivery, dir);
        Role deliverer = new DelivererRole(config, clients, topics);
        deliverer.start();
        roles.add(deliverer);
        return config;
    }

    private void startRetry(MailrootConfig config) throws Exception {
        Role retry = new RetryRole(config, clients, topics);
        retry.start();
        roles.add(retry);
    }

    private Envelope send(NextHop hop, String... to) throws Exception {
        return sendAll(1, hop, to).get(0);
    }

    private List<Envelope> sendAll(int copies, NextHop hop, String... to) throws Exception {
        List<Envelope> sent = new ArrayList<>();
        try (KafkaProducer<String, byte[]> p = clients.producer("test-producer")) {
            for (int i = 0; i < copies; i++) {
                Envelope env = Envelope.received(MessageIds.next(), "alice@sender.test",
                        List.of(to).stream().map(Recipient::of).toList(), Instant.now()).withNextHop(hop);
                p.send(EnvelopeCodec.toRecord(topics.outbound(), hop.key(), new MailRecord(env, MESSAGE)));
                sent.add(env);
            }
            p.flush();
        }
        return sent;
    }

    private long committed(String group, String topic) throws Exception {
        {
            Map<TopicPartition, OffsetAndMetadata> offsets =
                    admin.listConsumerGroupOffsets(prefix + group).partitionsToOffsetAndMetadata().get();
            return offsets.entrySet().stream().filter(e -> e.getKey().topic().equals(topic) && e.getValue() != null)
                    .mapToLong(e -> e.getValue().offset()).sum();
        }
    }

    private long end(String topic) throws Exception {
        {
            int n = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().size();
            Map<TopicPartition, OffsetSpec> specs = new java.util.HashMap<>();
            for (int i = 0; i < n; i++) {
                specs.put(new TopicPartition(topic, i), OffsetSpec.latest());
            }
            return admin.listOffsets(specs).all().get().values().stream().mapToLong(o -> o.offset()).sum();
        }
    }

    private boolean caughtUp(String group, String topic) {
        try {
            return committed(group, topic) == end(topic);
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void deliversTheBytesUnchangedToTheMxOfTheDomain() throws Exception {
        start(3, "30s");

        Envelope env = send(NextHop.direct("remote.test"), "bob@remote.test");

        Await.until("the MX received the message", WAIT, () -> mx.received().size() == 1);
        ScriptedSmtpServer.Received got = mx.received().get(0);
        assertArrayEquals(MESSAGE, withoutTracing(got.data()));
        assertEquals(env.sender(), got.from());
        assertEquals(List.of("bob@remote.test"), got.recipients());
        assertEquals("relay.test", got.helo());
        Await.until("the outbound offset is committed", WAIT, () -> caughtUp("deliverer", topics.outbound()));
    }

    @Test
    void busyTwiceThenAcceptedIsDeliveredOnceAfterTwoRetries() throws Exception {
        mx.dataReplies("451 4.3.0 busy", "451 4.3.0 still busy", "250");
        MailrootConfig config = start(3, "30s");
        startRetry(config);
        List<MailRecord> retries1 = kafka.watch(topics.retry(1));
        List<MailRecord> retries2 = kafka.watch(topics.retry(2));

        send(NextHop.direct("remote.test"), "bob@remote.test");

        Await.until("the MX accepted the message", WAIT, () -> mx.received().size() == 1);
        Await.until("every topic is consumed", WAIT, () -> caughtUp("deliverer", topics.outbound())
                && caughtUp("retry", topics.retry(1)) && caughtUp("retry", topics.retry(2)));
        assertEquals(3, mx.dataAttempts());
        assertEquals(1, mx.received().size());
        assertEquals(3, end(topics.outbound()), "the original and two retries");
        assertArrayEquals(MESSAGE, withoutTracing(mx.received().get(0).data()));
        Await.until("the retry records were seen", WAIT, () -> retries1.size() == 1 && retries2.size() == 1);
        Envelope first = retries1.get(0).envelope();
        Envelope second = retries2.get(0).envelope();
        assertEquals(1, first.attempt());
        assertEquals(2, second.attempt());
        assertEquals(first.firstAttemptAt(), second.firstAttemptAt());
        assertEquals("451 4.3.0 still busy", second.lastError());
        assertEquals(Outcome.Action.DELAYED, second.recipients().get(0).outcome().action());
    }

    @Test
    void aRefusedRecipientIsReportedAndTheOtherDelivered() throws Exception {
        mx.rejectRecipients(r -> r.startsWith("nobody@"), "550 5.1.1 no such user");
        start(3, "30s");
        List<MailRecord> dsn = kafka.watch(topics.dsn());

        Envelope env = send(NextHop.direct("remote.test"), "bob@remote.test", "nobody@remote.test");

        Await.until("bob's copy arrived", WAIT, () -> mx.received().size() == 1);
        assertEquals(List.of("bob@remote.test"), mx.received().get(0).recipients());
        Await.until("a report record appeared", WAIT, () -> dsn.size() == 1);
        MailRecord report = dsn.get(0);
        assertEquals(env.id(), report.envelope().id());
        assertEquals(List.of("nobody@remote.test"),
                report.envelope().recipients().stream().map(Recipient::address).toList());
        Outcome outcome = report.envelope().recipients().get(0).outcome();
        assertEquals(Outcome.Action.FAILED, outcome.action());
        assertEquals("5.1.1", outcome.status());
        assertEquals("smtp; 550 5.1.1 no such user", outcome.diagnostic());
        assertEquals("mx.remote.test", outcome.remoteMta());
        assertArrayEquals(MESSAGE, report.message());
        Await.until("the outbound offset is committed", WAIT, () -> caughtUp("deliverer", topics.outbound()));
    }

    @Test
    void aDomainThatDoesNotExistIsReportedAtOnce() throws Exception {
        start(3, "30s");
        List<MailRecord> dsn = kafka.watch(topics.dsn());

        send(NextHop.direct("nowhere.test"), "carol@nowhere.test");

        Await.until("a report record appeared", WAIT, () -> dsn.size() == 1);
        Outcome outcome = dsn.get(0).envelope().recipients().get(0).outcome();
        assertEquals(Outcome.Action.FAILED, outcome.action());
        assertEquals("5.1.2", outcome.status());
        assertNull(outcome.remoteMta());
    }

    @Test
    void aNextHopThatNeverAnswersHoldsUpNoOtherDomain() throws Exception {
        try (ServerSocket silent = new ServerSocket()) {
            silent.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            start(1, "10m");
            NextHop dead = new NextHop("dead.test", "[127.0.0.1]:" + silent.getLocalPort(), null);

            send(dead, "someone@dead.test");
            send(NextHop.direct("remote.test"), "bob@remote.test");

            Await.until("the live domain's mail arrived while the dead hop hangs", WAIT,
                    () -> mx.received().size() == 1);
            // Offset 0 (the dead hop's) is unfinished, so the group may commit 0 but never past it.
            Await.until("the deliverer committed its progress", WAIT,
                    () -> {
                        try {
                            return committed("deliverer", topics.outbound()) == 0 && hasCommit(topics.outbound());
                        } catch (Exception e) {
                            return false;
                        }
                    });
        }
    }

    @Test
    void aConnectionCarriesUpToMaxMessagesPerConnection() throws Exception {
        try (ConnectionCounter counter = new ConnectionCounter(mx.port())) {
            start(1, "30s", counter.port(), "  maxMessagesPerConnection: 2\n  maxConnectionsPerDomain: 1\n");

            sendAll(6, NextHop.direct("remote.test"), "bob@remote.test");

            Await.until("all six arrived", WAIT, () -> mx.received().size() == 6);
            int connections = counter.connections();
            // Six messages at two per connection need three; one more if the poll split the batch.
            org.junit.jupiter.api.Assertions.assertTrue(connections >= 3 && connections <= 4,
                    "connections used: " + connections);
        }
    }

    @Test
    void longRecipientListsAreSplitAndLocalRecipientsNeverLeave() throws Exception {
        start(3, "30s", mx.port(), "  maxRecipientsPerMessage: 2\n");

        send(NextHop.direct("remote.test"), "a@remote.test", "b@remote.test", "stray@local.test", "c@remote.test");

        Await.until("two transactions arrived", WAIT, () -> mx.received().size() == 2);
        assertEquals(List.of(List.of("a@remote.test", "b@remote.test"), List.of("c@remote.test")),
                mx.received().stream().map(ScriptedSmtpServer.Received::recipients).sorted(
                        java.util.Comparator.comparing(List::size, java.util.Comparator.reverseOrder())).toList());
        Await.until("the outbound offset is committed", WAIT, () -> caughtUp("deliverer", topics.outbound()));
        assertEquals(0, end(topics.dsn()) + end(topics.retry(1)), "nothing was left over");
        // The router thought local.test remote (localDomains rolled out to the deliverer first): local delivery has it.
        List<MailRecord> local = kafka.watch(topics.local());
        Await.until("the local recipient went to local delivery", WAIT, () -> local.size() == 1);
        assertEquals(List.of("stray@local.test"),
                local.get(0).envelope().recipients().stream().map(Recipient::address).toList());
        assertArrayEquals(MESSAGE, local.get(0).message());
    }

    @Test
    void whenDirectDeliveryFailsTheFallbackRelayTakesIt() throws Exception {
        dns.servfail("down.test");
        start(3, "30s");

        send(new NextHop("down.test", null, "[127.0.0.1]:" + mx.port()), "dora@down.test");

        Await.until("the fallback relay got it", WAIT, () -> mx.received().size() == 1);
        assertEquals(List.of("dora@down.test"), mx.received().get(0).recipients());
        Await.until("the outbound offset is committed", WAIT, () -> caughtUp("deliverer", topics.outbound()));
        assertEquals(0, end(topics.retry(1)), "no retry once the relay took it");
    }

    @Test
    void aMessageInFlightWhenTheDelivererStopsIsDeliveredByTheNextOne() throws Exception {
        // mx.remote.test first points at 127.0.0.2, where a server accepts and never answers.
        dns.clear();
        dns.mx("remote.test", 10, "mx.remote.test").a("mx.remote.test", "127.0.0.2");
        try (ServerSocket silent = new ServerSocket()) {
            silent.bind(new InetSocketAddress("127.0.0.2", mx.port()));
            MailrootConfig config = start(1, "10m");
            List<java.net.Socket> accepted = new CopyOnWriteArrayList<>();
            Thread acceptor = new Thread(() -> {
                try {
                    accepted.add(silent.accept());
                } catch (java.io.IOException ignored) {
                    // closed at the end of the test
                }
            });
            acceptor.start();

            send(NextHop.direct("remote.test"), "bob@remote.test");
            Await.until("the deliverer is stuck on the silent host", WAIT, () -> !accepted.isEmpty());
            roles.remove(0).close();
            assertEquals(0, mx.received().size());

            dns.clear();
            dns.mx("remote.test", 10, "mx.remote.test").a("mx.remote.test", "127.0.0.1");
            Role next = new DelivererRole(config, clients, topics);
            next.start();
            roles.add(next);

            Await.until("the next deliverer delivered it", WAIT, () -> mx.received().size() == 1);
            Await.until("and committed it", WAIT, () -> caughtUp("deliverer", topics.outbound()));
            for (java.net.Socket sock : accepted) {
                sock.close();
            }
        }
    }

    @Test
    void theRetryRoleKeepsReleasingAfterItsProducerFailed() throws Exception {
        MailrootConfig config = start(1, "30s");
        RetryRole retry = new RetryRole(config, clients, topics);
        java.util.concurrent.atomic.AtomicInteger sends = new java.util.concurrent.atomic.AtomicInteger();
        // The first send fails as a full buffer would, the second with something unexpected; then Kafka is fine.
        retry.beforeSend = r -> {
            int n = sends.incrementAndGet();
            if (n == 1) {
                throw new org.apache.kafka.common.errors.TimeoutException("injected: buffer full");
            }
            if (n == 2) {
                throw new IllegalStateException("injected: something unexpected");
            }
        };
        retry.start();
        roles.add(retry);
        Envelope env = Envelope.received(MessageIds.next(), "alice@sender.test",
                List.of(Recipient.of("bob@remote.test")), Instant.now()).withNextHop(NextHop.direct("remote.test"));
        try (KafkaProducer<String, byte[]> p = clients.producer("test-producer")) {
            p.send(EnvelopeCodec.toRecord(topics.retry(1), "remote.test", new MailRecord(env, MESSAGE))).get();
        }

        Await.until("the retry was released and delivered", WAIT, () -> mx.received().size() == 1);
        Await.until("and its offset committed", WAIT, () -> caughtUp("retry", topics.retry(1)));
        assertEquals(1, end(topics.outbound()), "released once");
        org.junit.jupiter.api.Assertions.assertTrue(sends.get() >= 3, "sends tried: " + sends.get());
    }

    private boolean hasCommit(String topic) throws Exception {
        {
            return admin.listConsumerGroupOffsets(prefix + "deliverer").partitionsToOffsetAndMetadata().get()
                    .entrySet().stream().anyMatch(e -> e.getKey().topic().equals(topic) && e.getValue() != null);
        }
    }
}
