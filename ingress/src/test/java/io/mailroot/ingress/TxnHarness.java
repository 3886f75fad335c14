package io.mailroot.ingress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.config.ConfigLoader;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.TopicCreator;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import io.mailroot.testkit.FreePorts;
import io.mailroot.testkit.SharedKafka;
import io.mailroot.testkit.SmtpTestClient;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.subethamail.smtp.AuthenticationHandlerFactory;
import org.subethamail.smtp.server.SMTPServer;

/**
 * Test support for the transaction layer: an ingress with its own inbound topic on the shared broker, and a way to
 * read everything that topic holds, so a test can say exactly how many messages were queued.
 */
final class TxnHarness implements AutoCloseable {

    final Topics topics;
    final KafkaClients clients;
    private final String bootstrap;
    private final List<AutoCloseable> running = new ArrayList<>();
    private int port = -1;

    TxnHarness(String name) throws Exception {
        bootstrap = SharedKafka.bootstrap();
        String prefix = SharedKafka.uniquePrefix(name);
        topics = new Topics(prefix, 2);
        clients = new KafkaClients(bootstrap, prefix);
        TopicCreator.ensure(bootstrap, topics, 3, (short) 1);
    }

    /**
     * The usual class setup: a harness named {@code name} with one ingress on it ({@code virtualServerLines} as in
     * {@link #ingress(Path, String)}), whose port {@link #port()} gives.
     */
    static TxnHarness withIngress(String name, Path dir, String virtualServerLines) throws Exception {
        TxnHarness harness = new TxnHarness(name);
        try {
            harness.port = harness.ingress(dir, virtualServerLines);
        } catch (Exception | Error e) {
            harness.close();
            throw e;
        }
        return harness;
    }

    /** The port of the ingress {@link #withIngress} started. */
    int port() {
        if (port < 0) {
            throw new IllegalStateException("no ingress started by withIngress");
        }
        return port;
    }

    /** An ingress role on a free loopback port; {@code virtualServerLines} are extra keys of its virtual server. */
    int ingress(Path dir, String virtualServerLines) throws Exception {
        return ingress(dir, "localDomains: [local.test]", virtualServerLines);
    }

    /** The same with {@code topLevelLines} in place of the local domains ("" for localDomains' default). */
    int ingress(Path dir, String topLevelLines, String virtualServerLines) throws Exception {
        int free = FreePorts.next();
        MailrootConfig config = ConfigLoader.parse("""
                fqdn: relay.test
                %s
                virtualServers:
                  - name: Txn Virtual Server
                    addresses: [127.0.0.1]
                    port: %d
                    tls: { enabled: false }
                    %s
                """.formatted(topLevelLines, free, virtualServerLines.replace("\n", "\n    ")), dir);
        IngressRole role = new IngressRole(config, clients, topics);
        role.start();
        running.add(role::close);
        return role.ports().get(0);
    }

    /**
     * A listener assembled like IngressRole's, with the session rules given (IngressRole passes them once it
     * builds its intake with {@link Intake#withRules}), and optionally SubEthaSMTP's AUTH.
     */
    int bareServer(SessionRules rules, boolean reverseDnsLookup, boolean allowAuthenticatedRelay,
                   Optional<AuthenticationHandlerFactory> auth) {
        InboundQueue queue = new InboundQueue(clients.producer("txn-bare"), topics.inbound(), Duration.ofSeconds(30));
        running.add(queue);
        List<RecipientPolicy> recipientPolicies = List.of(new RecipientLimit(100),
                new RelayPolicy("local.test"::equals, AddressList.parse("relay.allow", List.of()), allowAuthenticatedRelay));
        Intake intake = new Intake("Txn Bare Server", "relay.test", reverseDnsLookup, 64 * 1024, recipientPolicies,
                List.of(new HopCountPolicy(30)), queue).withRules(rules);
        SMTPServer.Builder builder = SMTPServer.port(0)
                .bindAddress(Optional.of(InetAddress.getLoopbackAddress()))
                .hostName("relay.test")
                .softwareName("Mailroot")
                .messageHandlerFactory(intake::open)
                .insertReceivedHeaders(false)
                .maxMessageSize(intake.maxMessageBytes())
                .maxRecipients(-1)
                .connectionTimeout(30, TimeUnit.SECONDS);
        auth.ifPresent(builder::authenticationHandlerFactory);
        SMTPServer server = builder.build();
        SmtpCommands.install(server);
        server.start();
        running.add(server::stop);
        return server.getPortAllocated();
    }

    /** Everything in inbound now, from the beginning. A 250 means Kafka acknowledged, so nothing is in flight. */
    List<MailRecord> inbound() {
        List<MailRecord> all = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = clients.consumer("txn-check-" + System.nanoTime(), "txn-check")) {
            List<TopicPartition> partitions = consumer.partitionsFor(topics.inbound()).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                assertTrue(System.nanoTime() < deadline, "inbound not read to its end in time");
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    all.add(EnvelopeCodec.fromRecord(r));
                }
            }
        }
        return all;
    }

    /** The records queued under the id a 250 reply names. */
    MailRecord queued(String reply) {
        String id = queuedId(reply);
        List<MailRecord> found = inbound().stream().filter(m -> m.envelope().id().equals(id)).toList();
        assertEquals(1, found.size(), "records for " + id);
        return found.get(0);
    }

    static String queuedId(String reply) {
        assertTrue(reply.startsWith("250 2.0.0 Ok: queued as "), reply);
        return reply.substring("250 2.0.0 Ok: queued as ".length()).trim();
    }

    static SmtpTestClient connect(int port) throws Exception {
        SmtpTestClient client = new SmtpTestClient("127.0.0.1", port);
        SmtpTestClient.expect(client.greeting(), "220");
        SmtpTestClient.expect(client.command("EHLO client.test"), "250");
        return client;
    }

    private static List<AutoCloseable> reversed(List<AutoCloseable> list) {
        List<AutoCloseable> r = new ArrayList<>(list);
        java.util.Collections.reverse(r);
        return r;
    }

    @Override
    public void close() {
        for (AutoCloseable c : reversed(running)) {
            try {
                c.close();
            } catch (Exception e) {
                // closing what the test started; the next test gets fresh topics anyway
            }
        }
    }
}
