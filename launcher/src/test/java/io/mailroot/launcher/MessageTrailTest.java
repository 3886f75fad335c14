package io.mailroot.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.config.ConfigLoader;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.event.MessageEvent;
import io.mailroot.core.event.MessageEvent.Type;
import io.mailroot.testkit.Await;
import io.mailroot.testkit.DnsResponder;
import io.mailroot.testkit.FreePorts;
import io.mailroot.testkit.ScriptedSmtpServer;
import io.mailroot.testkit.SharedKafka;
import io.mailroot.testkit.SmtpTestClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The message trail end to end: real SMTP in, the shared broker, MX from a DNS responder, scripted peers as the
 * remote hosts; the trail read back from the events topic as {@code mailroot trail} and {@code mailroot log} do.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MessageTrailTest {

    private static final Duration WAIT = Duration.ofSeconds(60);

    private Path dir;
    private DnsResponder dns;
    private ScriptedSmtpServer remote;
    private ScriptedSmtpServer retrying;
    private MailrootNode node;
    private MailrootConfig config;
    private String prefix;
    private int smtpPort;
    private int httpPort;
    private static final String API_KEY = "trail-key-0123456789abcdef";

    @BeforeAll
    void start() throws Exception {
        dir = Files.createTempDirectory("mailroot-trail");
        int outboundPort = FreePorts.next();
        remote = new ScriptedSmtpServer("127.0.0.2", outboundPort);
        retrying = new ScriptedSmtpServer("127.0.0.3", outboundPort);
        dns = new DnsResponder()
                .mx("remote.test", 10, "mx.remote.test").a("mx.remote.test", "127.0.0.2")
                .mx("retry.test", 10, "mx.retry.test").a("mx.retry.test", "127.0.0.3");
        smtpPort = FreePorts.next();
        httpPort = FreePorts.next();
        prefix = SharedKafka.uniquePrefix("trail");
        config = ConfigLoader.parse("""
                fqdn: relay.test
                dataDir: %s
                mailroot: %s
                localDomains: [local.test]
                kafka: { topicPrefix: "%s", partitions: 3 }
                dns: { servers: ["%s"], timeout: 2s }
                pickup: { pollInterval: 200ms }
                http: { enabled: true, port: %d, apiKeys: ["%s"] }
                virtualServers:
                  - port: %d
                    relay: { allow: [127.0.0.0/8] }
                delivery:
                  retryIntervals: [1s, 1s]
                  outboundPort: %d
                  outboundTimeout: 20s
                """.formatted(dir.resolve("data"), dir.resolve("mailroot"), prefix, dns.address(), httpPort, API_KEY, smtpPort,
                outboundPort), dir);
        node = new MailrootNode(config, RoleName.all(), SharedKafka.bootstrap());
        node.start();
    }

    @AfterAll
    void stop() {
        if (node != null) {
            node.close();
        }
        Stream.of(remote, retrying).forEach(ScriptedSmtpServer::close);
        dns.close();
    }

    /** Sends one message and returns its queue id, from the 250 reply. */
    private String submit(String from, List<String> to, String subject) throws IOException {
        try (SmtpTestClient c = new SmtpTestClient("127.0.0.1", smtpPort)) {
            SmtpTestClient.expect(c.command("EHLO client.test"), "250");
            String reply = c.send(from, to, "From: <" + from + ">\r\nSubject: " + subject + "\r\n\r\nHello.\r\n");
            SmtpTestClient.expect(reply, "250");
            c.command("QUIT");
            return reply.substring(reply.lastIndexOf(' ') + 1).trim();
        }
    }

    private List<EventTopic.Read> trail(String id) {
        try (EventTopic events = EventTopic.of(configFor(SharedKafka.bootstrap()))) {
            return TrailCommand.trail(events, id);
        }
    }

    private List<EventTopic.Read> awaitTrail(String id, String what, java.util.function.Predicate<List<MessageEvent>> done) {
        return Await.value(what, WAIT, () -> {
            List<EventTopic.Read> t = trail(id);
            return done.test(t.stream().map(EventTopic.Read::event).toList()) ? t : null;
        });
    }

    private static long count(List<MessageEvent> events, Type type) {
        return events.stream().filter(e -> e.type() == type).count();
    }

    private MailrootConfig configFor(String bootstrap) {
        return ConfigLoader.parse("""
                dataDir: %s
                kafka: { bootstrap: "%s", topicPrefix: "%s" }
                delivery: { retryIntervals: [1s, 1s] }
                """.formatted(dir.resolve("data"), bootstrap, prefix), dir);
    }

    @Test
    void aRemoteAndALocalRecipientAreReceivedRoutedAndDeliveredInOrder() throws Exception {
        String id = submit("alice@client.test", List.of("carol@remote.test", "bob@local.test"), "both");
        List<EventTopic.Read> reads = awaitTrail(id, "both deliveries in the trail of " + id,
                t -> count(t, Type.DELIVERED) == 2);
        List<MessageEvent> t = reads.stream().map(EventTopic.Read::event).toList();
        assertEquals(Type.RECEIVED, t.get(0).type(), t.toString());
        MessageEvent received = t.get(0);
        assertEquals("alice@client.test", received.sender());
        assertEquals(List.of("carol@remote.test", "bob@local.test"), received.recipients());
        assertTrue(received.size() > 0);
        assertTrue(received.client().contains("[127.0.0.1]") && received.client().contains("helo=client.test"),
                received.client());
        assertEquals("ingress", received.role());
        assertEquals(List.of(Type.ROUTED, Type.ROUTED), t.subList(1, 3).stream().map(MessageEvent::type).toList(),
                "both routings come before any delivery: " + t);
        assertEquals(List.of("local", "remote.test"), t.subList(1, 3).stream().map(MessageEvent::nextHop).sorted().toList());
        MessageEvent mx = t.stream().filter(e -> e.type() == Type.DELIVERED && "remote.test".equals(e.nextHop()))
                .findFirst().orElseThrow();
        assertEquals(List.of("carol@remote.test"), mx.recipients());
        assertEquals("mx.remote.test [127.0.0.2]", mx.remote());
        assertTrue(mx.reply().startsWith("250"), mx.reply());
        assertEquals("deliverer", mx.role());
        MessageEvent drop = t.stream().filter(e -> e.type() == Type.DELIVERED && "local".equals(e.nextHop()))
                .findFirst().orElseThrow();
        assertEquals(List.of("bob@local.test"), drop.recipients());
        assertEquals("drop", drop.role());
        assertTrue(drop.detail().endsWith(".eml"), drop.detail());
        assertEquals(5, t.size(), "nothing else happened: " + t);
        System.out.println("trail bytes, one remote and one local recipient delivered first time: "
                + reads.stream().mapToInt(EventTopic.Read::bytes).sum() + " in " + reads.size() + " events");

        String out = command("trail", id, "--config", configFile(SharedKafka.bootstrap()).toString());
        System.out.println(out);
        assertEquals(5, out.lines().count(), out);
        assertTrue(out.lines().findFirst().orElseThrow().contains("RECEIVED"), out);
        assertTrue(out.contains("DELIVERED") && out.contains("remote=\"mx.remote.test [127.0.0.2]\""), out);
        assertTrue(out.contains("hop=local"), out);
        String json = command("trail", id, "--json", "--config", configFile(SharedKafka.bootstrap()).toString());
        assertTrue(json.lines().allMatch(l -> l.startsWith("{\"messageId\":\"" + id + "\"")), json);
    }

    @Test
    void deferralsShowTheirAttemptAndNextDueThenTheDelivery() throws Exception {
        retrying.dataReplies("451 4.3.0 Try again later", "451 4.3.0 Try again later", "250");
        String id = submit("alice@client.test", List.of("dave@retry.test"), "deferred");
        List<EventTopic.Read> reads = awaitTrail(id, "the delivery after a deferral of " + id,
                t -> count(t, Type.DELIVERED) == 1);
        List<MessageEvent> t = reads.stream().map(EventTopic.Read::event).toList();
        assertEquals(List.of(Type.RECEIVED, Type.ROUTED, Type.DEFERRED, Type.DEFERRED, Type.DELIVERED),
                t.stream().map(MessageEvent::type).toList(), t.toString());
        for (int attempt = 1; attempt <= 2; attempt++) {
            MessageEvent deferred = t.get(1 + attempt);
            assertEquals(attempt, deferred.attempt());
            assertNotNull(deferred.nextDue());
            assertTrue(deferred.nextDue().isAfter(deferred.at()), deferred.toString());
            assertTrue(deferred.reply().contains("451 4.3.0 Try again later"), deferred.reply());
            assertEquals("retry.test", deferred.nextHop());
            assertEquals("mx.retry.test [127.0.0.3]", deferred.remote());
        }
        MessageEvent delivered = t.get(4);
        assertEquals(3, delivered.attempt());
        assertEquals("mx.retry.test [127.0.0.3]", delivered.remote());
        System.out.println("trail bytes, deferred twice then delivered: "
                + reads.stream().mapToInt(EventTopic.Read::bytes).sum() + " in " + reads.size() + " events");

        String out = command("trail", id, "--config", configFile(SharedKafka.bootstrap()).toString());
        System.out.println(out);
        assertTrue(out.contains("DEFERRED") && out.contains("attempt=2") && out.contains("next="), out);
        assertTrue(out.lines().reduce((a, b) -> b).orElseThrow().contains("DELIVERED"), out);
    }

    @Test
    void theLogReadsEmbeddedLikeARunningStartWouldBeReached() throws Exception {
        String id = submit("alice@client.test", List.of("erin@remote.test"), "log");
        List<EventTopic.Read> reads = awaitTrail(id, "the delivery of " + id, t -> count(t, Type.DELIVERED) == 1);
        System.out.println("trail bytes, one remote recipient delivered first time: "
                + reads.stream().mapToInt(EventTopic.Read::bytes).sum() + " in " + reads.size() + " events");
        // As 'mailroot start' leaves it: kafka.bootstrap embedded, the broker on embeddedPort, its secret in dataDir.
        Path data = Files.createDirectories(dir.resolve("embedded-data"));
        Files.copy(SharedKafka.secretFile(), data.resolve("kafka-secret"));
        String port = SharedKafka.bootstrap().substring(SharedKafka.bootstrap().lastIndexOf(':') + 1);
        Path file = dir.resolve("embedded.yml");
        Files.writeString(file, """
                dataDir: %s
                kafka: { bootstrap: embedded, embeddedPort: %s, topicPrefix: "%s" }
                delivery: { retryIntervals: [1s, 1s] }
                """.formatted(data, port, prefix));
        String out = command("log", "-n", "200", "--config", file.toString());
        System.out.println(out);
        String line = out.lines().filter(l -> l.contains(id + ": to=<erin@remote.test>") && l.contains("status=sent"))
                .findFirst().orElseThrow(() -> new AssertionError(out));
        assertTrue(line.contains(" deliverer " + id + ": to=<erin@remote.test>, relay=mx.remote.test[127.0.0.2], delay="), line);
        assertTrue(line.contains(", dsn=2.0.0, status=sent (250"), line);
        assertTrue(out.contains(id + ": client="), out);
    }

    @Test
    void theLogFollowsMailDeliveredAfterItStarted() throws Exception {
        ByteArrayOutputStream followed = new ByteArrayOutputStream();
        AtomicBoolean stop = new AtomicBoolean();
        int[] exit = {-1};
        Thread follower;
        String before = submit("alice@client.test", List.of("frank@remote.test"), "before following");
        awaitTrail(before, "the delivery of " + before, t -> count(t, Type.DELIVERED) == 1);
        try (PrintStream out = new PrintStream(followed, true, StandardCharsets.UTF_8)) {
            follower = new Thread(() -> exit[0] = LogCommand.run(List.of("-f", "-n", "1"),
                    configFor(SharedKafka.bootstrap()), out, System.err, stop::get), "log-follower");
            follower.start();
            // The tail (one line) printed: from here on the command follows.
            Await.until("'mailroot log -f' printing its tail", Duration.ofSeconds(60), () -> {
                synchronized (out) {
                    return followed.size() > 0;
                }
            });
            String id = submit("alice@client.test", List.of("frank@remote.test"), "followed");
            Await.until("'mailroot log -f' printing the delivery of " + id, Duration.ofSeconds(60), () -> {
                synchronized (out) {
                    return followed.toString(StandardCharsets.UTF_8).lines().anyMatch(l ->
                            l.contains(id + ": to=<frank@remote.test>") && l.contains("status=sent"));
                }
            });
            stop.set(true);
            follower.join(Duration.ofSeconds(30).toMillis());
        }
        assertTrue(!follower.isAlive(), "'mailroot log -f' did not stop when asked");
        assertEquals(0, exit[0]);
    }

    @Test
    void pickupAndHttpSayWhichChannelTheMailCameBy() throws Exception {
        Path tmp = dir.resolve("order.tmp");
        Files.writeString(tmp, "X-Sender: shop@client.test\r\nX-Receiver: kim@local.test\r\nSubject: order\r\n\r\nShipped.\r\n");
        Files.move(tmp, dir.resolve("mailroot").resolve("Pickup").resolve("order.eml"));
        var request = java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + httpPort + "/api/v1/messages"))
                .header("Authorization", "Bearer " + API_KEY).header("Content-Type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("""
                        {"from": "app@client.test", "to": ["lee@local.test"], "subject": "Welcome", "text": "Hello Lee"}
                        """)).build();
        var response = java.net.http.HttpClient.newHttpClient().send(request, java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(202, response.statusCode(), response.body());
        String httpId = response.body().replaceAll(".*\"id\"\\s*:\\s*\"([^\"]+)\".*", "$1").trim();
        List<MessageEvent> http = awaitTrail(httpId, "the HTTP message delivered", t -> count(t, Type.DELIVERED) == 1)
                .stream().map(EventTopic.Read::event).toList();
        assertEquals("http", http.get(0).role());
        assertEquals("http api-key-1 [127.0.0.1]", http.get(0).client());
        MessageEvent pickup = Await.value("RECEIVED from Pickup", WAIT, () -> {
            try (EventTopic events = EventTopic.of(configFor(SharedKafka.bootstrap()))) {
                return events.tail(1000).stream().map(EventTopic.Read::event)
                        .filter(e -> e.type() == Type.RECEIVED && "pickup".equals(e.role())).findFirst().orElse(null);
            }
        });
        assertEquals("pickup order.eml", pickup.client());
        assertEquals("shop@client.test", pickup.sender());
        assertEquals(List.of("kim@local.test"), pickup.recipients());
    }

    private Path configFile(String bootstrap) throws IOException {
        Path file = dir.resolve("trail.yml");
        Files.writeString(file, """
                dataDir: %s
                kafka: { bootstrap: "%s", topicPrefix: "%s" }
                delivery: { retryIntervals: [1s, 1s] }
                """.formatted(dir.resolve("data"), bootstrap, prefix));
        return file;
    }

    /** Main.run with {@code args}, its standard output. */
    private static synchronized String command(String... args) {
        PrintStream before = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int code;
        try (PrintStream out = new PrintStream(captured, true, StandardCharsets.UTF_8)) {
            System.setOut(out);
            code = Main.run(args, Map.of());
        } finally {
            System.setOut(before);
        }
        String text = captured.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, text);
        return text;
    }
}
