package io.mailroot.ingress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.config.ConfigException;
import io.mailroot.core.config.ConfigLoader;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.TopicCreator;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.Recipient;
import io.mailroot.testkit.FreePorts;
import io.mailroot.testkit.SharedKafka;
import io.mailroot.testkit.SmtpTestClient;
import java.net.ConnectException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Ingress over real sockets against the shared embedded broker: what the client hears, and what lands in inbound. */
class IngressRoleTest {

    private static final String MESSAGE = "From: alice@client.test\r\nTo: bob@local.test\r\nSubject: hello\r\n\r\n"
            + "Hello Bob.\r\n.A line that starts with a dot.\r\n\r\nBye.\r\n";

    @TempDir
    static Path dir;
    private static String bootstrap;
    private static Topics topics;
    private static KafkaClients clients;
    private static IngressRole ingress;
    private static int port;

    @BeforeAll
    static void startIngress() throws Exception {
        bootstrap = SharedKafka.bootstrap();
        String prefix = SharedKafka.uniquePrefix("ingress");
        topics = new Topics(prefix, 2);
        clients = new KafkaClients(bootstrap, prefix);
        TopicCreator.ensure(bootstrap, topics, 3, (short) 1);
        ingress = start("relay: { allow: [] }", clients, IngressRole.DEFAULT_QUEUE_TIMEOUT);
        port = ingress.ports().get(0);
    }

    @AfterAll
    static void stopIngress() {
        ingress.close();
    }

    /** Starts an ingress role on a free port with the given extra lines of the virtual server. */
    private static IngressRole start(String virtualServerLines, KafkaClients kafka, Duration queueTimeout) throws Exception {
        int free = FreePorts.next();
        MailrootConfig config = ConfigLoader.parse("""
                fqdn: relay.test
                localDomains: [local.test]
                virtualServers:
                  - name: Test Virtual Server
                    addresses: [127.0.0.1]
                    port: %d
                    maxMessageSizeKb: 64
                    maxRecipientsPerMessage: 3
                    %s
                delivery:
                  maxHopCount: 12
                """.formatted(free, virtualServerLines), dir);
        IngressRole role = new IngressRole(config, kafka, topics, queueTimeout);
        role.start();
        assertEquals(List.of(free), role.ports());
        return role;
    }

    private static SmtpTestClient connect(int p) throws Exception {
        SmtpTestClient client = new SmtpTestClient("127.0.0.1", p);
        SmtpTestClient.expect(client.greeting(), "220");
        SmtpTestClient.expect(client.command("EHLO client.test"), "250");
        return client;
    }

    private static String queuedId(String reply) {
        assertTrue(reply.startsWith("250 2.0.0 Ok: queued as "), reply);
        return reply.substring("250 2.0.0 Ok: queued as ".length()).trim();
    }

    /**
     * Every record keyed {@code id} in inbound, read from the beginning to the end offsets taken at the start: the
     * 250 came after Kafka's acknowledgement, so every copy queued is below them.
     */
    private static List<MailRecord> inboundRecords(String id) {
        List<MailRecord> found = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = clients.consumer("check-" + id, "check-" + id)) {
            List<TopicPartition> partitions = consumer.partitionsFor(topics.inbound()).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                assertTrue(System.nanoTime() < deadline, "inbound not read to its end in time");
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (id.equals(r.key())) {
                        found.add(EnvelopeCodec.fromRecord(r));
                    }
                }
            }
        }
        assertFalse(found.isEmpty(), "no record " + id + " in " + topics.inbound());
        return found;
    }

    /** Splits off the first header, which must be ours: a Received header, folded lines included. */
    private static byte[] afterOurReceivedHeader(byte[] value) {
        String text = new String(value, StandardCharsets.ISO_8859_1);
        assertTrue(text.startsWith("Received: from client.test (unknown [127.0.0.1])\r\n\tby relay.test (Mailroot) with ESMTP id "),
                text.substring(0, Math.min(200, text.length())));
        int end = 0;
        do {
            end = text.indexOf("\r\n", end) + 2;
        } while (text.charAt(end) == ' ' || text.charAt(end) == '\t');
        return Arrays.copyOfRange(value, end, value.length);
    }

    @Test
    void ehloAdvertisesSizePipeliningAnd8BitMime() throws Exception {
        try (SmtpTestClient client = new SmtpTestClient("127.0.0.1", port)) {
            assertTrue(client.greeting().startsWith("220 relay.test"), client.greeting());
            String ehlo = client.command("EHLO client.test");
            List<String> lines = List.of(ehlo.split("\n"));
            assertEquals("250-relay.test", lines.get(0));
            assertTrue(lines.contains("250-SIZE 65536"), ehlo);
            assertTrue(lines.stream().anyMatch(l -> l.substring(4).equals("PIPELINING")), ehlo);
            assertTrue(lines.stream().anyMatch(l -> l.substring(4).equals("8BITMIME")), ehlo);
            assertFalse(ehlo.contains("CHUNKING"), ehlo);
        }
    }

    @Test
    void localMessageIsQueuedOnceWithReceivedHeaderAndEnvelope() throws Exception {
        String reply;
        try (SmtpTestClient client = connect(port)) {
            reply = client.send("alice@client.test", List.of("bob@local.test", "carol@local.test"), MESSAGE);
        }
        String id = queuedId(reply);
        List<MailRecord> records = inboundRecords(id);
        assertEquals(1, records.size());
        MailRecord mail = records.get(0);
        assertArrayEquals(MESSAGE.getBytes(StandardCharsets.ISO_8859_1), afterOurReceivedHeader(mail.message()));
        Envelope e = mail.envelope();
        assertEquals(id, e.id());
        assertEquals("alice@client.test", e.sender());
        assertEquals(List.of(Recipient.of("bob@local.test"), Recipient.of("carol@local.test")), e.recipients());
        assertEquals("127.0.0.1", e.clientAddress());
        assertEquals("client.test", e.helo());
        assertEquals("Test Virtual Server", e.virtualServer());
        assertEquals(0, e.attempt());
        assertFalse(e.tls());
        assertEquals(null, e.authIdentity());
        assertTrue(e.receivedAt() != null);
    }

    @Test
    void nullSenderIsAcceptedAndStoredAsEmpty() throws Exception {
        List<String> replies = SmtpConversation.play("null-sender.smtp", port);
        MailRecord mail = inboundRecords(queuedId(replies.get(replies.size() - 1))).get(0);
        assertEquals("", mail.envelope().sender());
        assertTrue(mail.envelope().nullSender());
        assertEquals(List.of(Recipient.of("postmaster@local.test")), mail.envelope().recipients());
        assertArrayEquals("Subject: delivery report\r\n\r\n.a line that starts with a dot\r\n".getBytes(StandardCharsets.US_ASCII),
                afterOurReceivedHeader(mail.message()));
    }

    @Test
    void remoteRecipientFromNonAllowedClientIsRefusedAtRcpt() throws Exception {
        SmtpConversation.play("relay-denied.smtp", port);
    }

    @Test
    void remoteRecipientFromAllowedSubnetIsAccepted() throws Exception {
        try (IngressRole open = start("relay: { allow: [127.0.0.0/8] }", clients, IngressRole.DEFAULT_QUEUE_TIMEOUT)) {
            SmtpConversation.play("relay-allowed.smtp", open.ports().get(0));
        }
    }

    @Test
    void badRecipientSyntaxAndTooManyRecipients() throws Exception {
        SmtpConversation.play("recipients.smtp", port);
    }

    @Test
    void tooManyHopsIsRefusedAndTheSessionGoesOn() throws Exception {
        // ours makes 12 in all with 11 already there, the limit; one more is a loop
        String atLimit = "Received: from a by b; date\r\n".repeat(11) + MESSAGE;
        String overLimit = "Received: from a by b; date\r\n".repeat(12) + MESSAGE;
        try (SmtpTestClient client = connect(port)) {
            assertEquals("554 5.4.6 Too many hops", client.send("alice@client.test", List.of("bob@local.test"), overLimit));
            queuedId(client.send("alice@client.test", List.of("bob@local.test"), atLimit));
        }
    }

    @Test
    void oversizeMessageIsRefusedAndTheSessionGoesOn() throws Exception {
        String big = "Subject: big\r\n\r\n" + ("x".repeat(998) + "\r\n").repeat(70);
        try (SmtpTestClient client = connect(port)) {
            assertEquals("552 5.3.4 Message size exceeds fixed limit",
                    client.send("alice@client.test", List.of("bob@local.test"), big));
            // the rest of the refused message was read as data, not as commands, and the transaction ended
            queuedId(client.send("alice@client.test", List.of("bob@local.test"), MESSAGE));
            assertTrue(client.command("MAIL FROM:<alice@client.test> SIZE=100000").startsWith("552 5.3.4"));
        }
    }

    @Test
    void unreachableKafkaAnswers451AndNever250() throws Exception {
        try (IngressRole down = start("relay: { allow: [] }", new KafkaClients("127.0.0.1:1", "nowhere."), Duration.ofSeconds(2));
             SmtpTestClient client = connect(down.ports().get(0))) {
            String reply = client.send("alice@client.test", List.of("bob@local.test"), MESSAGE);
            assertEquals("451 4.3.0 Queueing failed, try again later", reply);
            // the transaction is over, so the client may try the next message at once
            SmtpTestClient.expect(client.command("MAIL FROM:<alice@client.test>"), "250");
        }
    }

    /** A typo in an address list must stop the server, not turn into a name that matches nobody. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "relay: { allow: [127.0.0.1, 10.0.0.0/33] }                   | virtualServers[1].relay.allow                | 10.0.0.0/33",
        "connectionControl: { grant: [192.168.1.300] }                | virtualServers[1].connectionControl.grant    | 192.168.1.300",
        "connectionControl: { deny: [good.test, \"2001:db8::/129\"] } | virtualServers[1].connectionControl.deny     | 2001:db8::/129"})
    void addressListTypoFailsStartUpNamingTheKey(String lines, String key, String entry) throws Exception {
        int first = FreePorts.next();
        int second = FreePorts.next();
        MailrootConfig config = ConfigLoader.parse("""
                fqdn: relay.test
                localDomains: [local.test]
                virtualServers:
                  - name: Good Virtual Server
                    addresses: [127.0.0.1]
                    port: %d
                  - name: Bad Virtual Server
                    addresses: [127.0.0.1]
                    port: %d
                    %s
                """.formatted(first, second, lines), dir);
        try (IngressRole role = new IngressRole(config, clients, topics)) {
            ConfigException e = assertThrows(ConfigException.class, role::start);
            assertEquals("configuration key '" + key + "' has value '" + entry
                    + "'; allowed: an IP address, a CIDR subnet (e.g. 10.0.0.0/8) or a domain name", e.getMessage());
            assertEquals(List.of(), role.ports());
            // the virtual server started before the bad one was stopped again
            assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", first).close());
        }
    }
}
