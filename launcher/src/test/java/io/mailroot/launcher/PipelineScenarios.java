package io.mailroot.launcher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.config.ConfigLoader;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.testkit.Await;
import io.mailroot.testkit.DnsResponder;
import io.mailroot.testkit.FreePorts;
import io.mailroot.testkit.ScriptedSmtpServer;
import io.mailroot.testkit.SharedKafka;
import io.mailroot.testkit.SmtpTestClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The whole pipeline with every part real: SMTP in over loopback, a Kafka broker, MX records from a DNS server
 * on loopback, and SMTP servers on 127.0.0.2-5 standing in for remote MX hosts. Subclasses choose the broker.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class PipelineScenarios {

    private static final Duration WAIT = Duration.ofSeconds(60);

    /** The Kafka bootstrap the relay is to use. */
    protected abstract String bootstrap();

    private DnsResponder dns;
    private ScriptedSmtpServer remote;
    private ScriptedSmtpServer retrying;
    private ScriptedSmtpServer rejecting;
    private ScriptedSmtpServer restartHop;
    private ScriptedSmtpServer busy;
    private int outboundPort;
    private Path dir;
    private int smtpPort;
    private int httpPort;
    private static final String API_KEY = "e2e-key-0123456789abcdef";
    private MailrootNode node;

    @BeforeAll
    void startRelay() throws Exception {
        dir = Files.createTempDirectory("mailroot-e2e");
        outboundPort = FreePorts.next();
        remote = new ScriptedSmtpServer("127.0.0.2", outboundPort);
        retrying = new ScriptedSmtpServer("127.0.0.3", outboundPort);
        rejecting = new ScriptedSmtpServer("127.0.0.4", outboundPort)
                .rejectRecipients(r -> true, "550 5.1.1 No such user here");
        restartHop = new ScriptedSmtpServer("127.0.0.5", outboundPort);
        busy = new ScriptedSmtpServer("127.0.0.6", outboundPort).rejectRecipients(r -> true, "451 4.2.1 Mailbox busy");
        dns = new DnsResponder()
                .mx("remote.test", 10, "mx.remote.test").a("mx.remote.test", "127.0.0.2")
                .mx("retry.test", 10, "mx.retry.test").a("mx.retry.test", "127.0.0.3")
                .mx("reject.test", 10, "mx.reject.test").a("mx.reject.test", "127.0.0.4")
                .mx("restart.test", 10, "mx.restart.test").a("mx.restart.test", "127.0.0.5")
                .mx("busy.test", 10, "mx.busy.test").a("mx.busy.test", "127.0.0.6");
        smtpPort = FreePorts.next();
        httpPort = FreePorts.next();
        node = new MailrootNode(config(SharedKafka.uniquePrefix("e2e"), "[1s, 1s]"), RoleName.all(), bootstrap());
        node.start();
    }

    private MailrootConfig config(String prefix, String retryIntervals) {
        String yaml = """
                fqdn: relay.test
                dataDir: %s
                mailroot: %s
                localDomains: [local.test]
                kafka: { topicPrefix: "%s", partitions: 2 }
                dns: { servers: ["%s"], timeout: 2s }
                pickup: { pollInterval: 200ms }
                http: { enabled: true, port: %d, apiKeys: ["%s"] }
                virtualServers:
                  - port: %d
                    relay: { allow: [127.0.0.0/8] }
                delivery:
                  retryIntervals: %s
                  outboundPort: %d
                  outboundTimeout: 20s
                  delayNotification: 3s
                  expirationTimeout: 8s
                  ndrCopyTo: postmaster@local.test
                """.formatted(dir.resolve("data"), dir.resolve("mailroot"), prefix, dns.address(), httpPort, API_KEY, smtpPort,
                retryIntervals, outboundPort);
        return ConfigLoader.parse(yaml, dir);
    }

    @AfterAll
    void stopRelay() {
        if (node != null) {
            node.close();
        }
        Stream.of(remote, retrying, rejecting, restartHop, busy).forEach(ScriptedSmtpServer::close);
        dns.close();
    }

    private static String message(String from, String to, String subject) {
        return "From: <" + from + ">\r\nTo: <" + to + ">\r\nSubject: " + subject + "\r\nMessage-ID: <" + subject
                + "@client.test>\r\n\r\nHello " + to + ",\r\n.leading dot stays\r\nBye.\r\n";
    }

    private void submit(String from, String to, String message) throws IOException {
        try (SmtpTestClient c = new SmtpTestClient("127.0.0.1", smtpPort)) {
            SmtpTestClient.expect(c.command("EHLO client.test"), "250");
            String reply = c.send(from, List.of(to), message);
            SmtpTestClient.expect(reply, "250");
            c.command("QUIT");
        }
    }

    private Optional<String> dropFileFor(String recipient) {
        try (Stream<Path> files = Files.list(dir.resolve("mailroot").resolve("Drop"))) {
            return files.filter(p -> p.toString().endsWith(".eml")).map(PipelineScenarios::read)
                    .filter(s -> s.contains("X-Receiver: " + recipient + "\r\n")).findFirst();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return "";
        }
    }

    @Test
    void localRecipientLandsInDrop() throws Exception {
        String msg = message("alice@client.test", "bob@local.test", "local-drop");
        submit("alice@client.test", "bob@local.test", msg);
        String file = Await.value("a Drop file for bob@local.test", WAIT, () -> dropFileFor("bob@local.test").orElse(null));
        assertTrue(file.startsWith("X-Sender: alice@client.test\r\nX-Receiver: bob@local.test\r\n"), file);
        assertTrue(file.contains("\r\nReceived: from client.test"), file);
        assertTrue(file.endsWith(msg), "the message after the relay's own header is byte-identical");
    }

    @Test
    void aFileInPickupIsQueuedAndDeletedThenDelivered() throws Exception {
        Path pickup = dir.resolve("mailroot").resolve("Pickup");
        Path file = pickup.resolve("web-order.eml");
        Path tmp = dir.resolve("web-order.tmp");
        Files.writeString(tmp, "X-Sender: shop@client.test\r\nX-Receiver: kim@local.test\r\nFrom: <shop@client.test>\r\n"
                + "To: <kim@local.test>\r\nSubject: order\r\n\r\nYour order shipped.\r\n", StandardCharsets.ISO_8859_1);
        Files.move(tmp, file);
        String drop = Await.value("the Pickup message in kim's Drop", WAIT, () -> dropFileFor("kim@local.test").orElse(null));
        assertTrue(drop.contains("Your order shipped."), drop);
        assertTrue(drop.startsWith("X-Sender: shop@client.test\r\nX-Receiver: kim@local.test\r\n"), drop);
        Await.until("the Pickup file is deleted", WAIT, () -> !Files.exists(file));
    }

    @Test
    void aWebApplicationSendsWithOneHttpRequest() throws Exception {
        var client = java.net.http.HttpClient.newHttpClient();
        var request = java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + httpPort + "/api/v1/messages"))
                .header("Authorization", "Bearer " + API_KEY)
                .header("Content-Type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("""
                        {"from": "app@client.test", "to": ["lee@local.test"], "subject": "Welcome", "text": "Hello Lee"}
                        """)).build();
        var response = client.send(request, java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(202, response.statusCode(), response.body());
        String drop = Await.value("the API message in lee's Drop", WAIT, () -> dropFileFor("lee@local.test").orElse(null));
        assertTrue(drop.contains("Subject: Welcome"), drop);
        assertTrue(drop.contains("Hello Lee"), drop);
    }

    @Test
    void remoteRecipientIsDeliveredByteIdenticalThroughMx() throws Exception {
        String msg = message("alice@client.test", "carol@remote.test", "remote-mx");
        submit("alice@client.test", "carol@remote.test", msg);
        Await.until("delivery to mx.remote.test", WAIT, () -> remote.received().size() == 1);
        ScriptedSmtpServer.Received got = remote.received().get(0);
        assertEquals("alice@client.test", got.from());
        assertEquals(List.of("carol@remote.test"), got.recipients());
        assertEquals("relay.test", got.helo());
        String data = new String(got.data(), StandardCharsets.ISO_8859_1);
        assertTrue(data.startsWith("Received: from client.test"), data);
        byte[] tail = Arrays.copyOfRange(got.data(), got.data().length - msg.length(), got.data().length);
        assertArrayEquals(msg.getBytes(StandardCharsets.ISO_8859_1), tail, "the client's bytes arrive unchanged");
    }

    @Test
    void temporaryFailuresAreRetriedUntilDelivered() throws Exception {
        retrying.dataReplies("451 4.3.0 Try again later", "451 4.3.0 Try again later", "250");
        submit("alice@client.test", "dave@retry.test", message("alice@client.test", "dave@retry.test", "retry"));
        Await.until("delivery after two retries", WAIT, () -> retrying.received().size() == 1);
        assertEquals(3, retrying.dataAttempts(), "two 451 answers, then the 250");
    }

    @Test
    void permanentFailureSendsAnRfc3464ReportToTheSender() throws Exception {
        submit("alice@local.test", "erin@reject.test", message("alice@local.test", "erin@reject.test", "bounce"));
        String report = Await.value("a report in alice's Drop", WAIT, () -> dropFileFor("alice@local.test").orElse(null));
        assertTrue(report.startsWith("X-Sender: <>\r\n"), "reports come from the null sender: " + report);
        assertTrue(report.contains("multipart/report"), report);
        assertTrue(report.contains("report-type=delivery-status"), report);
        assertTrue(report.contains("Final-Recipient: rfc822; erin@reject.test") || report.contains("Final-Recipient: rfc822;erin@reject.test"), report);
        assertTrue(report.contains("Action: failed"), report);
        assertTrue(report.contains("Status: 5.1.1"), report);
        assertTrue(report.contains("Subject: bounce"), "the original headers are attached: " + report);
        String copy = Await.value("the NDR copy for postmaster", WAIT, () -> dropFileFor("postmaster@local.test").orElse(null));
        assertTrue(copy.contains("Status: 5.1.1"), copy);
    }

    @Test
    void aMessageThatWaitsTooLongIsReportedDelayedOnceThenExpired() throws Exception {
        submit("ivy@local.test", "jo@busy.test", message("ivy@local.test", "jo@busy.test", "slow"));
        Await.until("a delay notice and then an expiry report for ivy", WAIT, () -> reportsFor("ivy@local.test").size() >= 2);
        List<String> reports = reportsFor("ivy@local.test");
        assertEquals(1, reports.stream().filter(r -> r.contains("Action: delayed")).count(), "exactly one delay notice");
        String expired = reports.stream().filter(r -> r.contains("Action: failed")).findFirst().orElseThrow();
        assertTrue(expired.contains("Status: 4.4.7"), expired);
        assertTrue(busy.received().isEmpty());
    }

    private List<String> reportsFor(String recipient) {
        try (Stream<Path> files = Files.list(dir.resolve("mailroot").resolve("Drop"))) {
            return files.filter(p -> p.toString().endsWith(".eml")).map(PipelineScenarios::read)
                    .filter(s -> s.contains("X-Receiver: " + recipient + "\r\n")).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    @Test
    void reportThatCannotBeDeliveredLandsInBadmail() throws Exception {
        submit("frank@reject.test", "gina@reject.test", message("frank@reject.test", "gina@reject.test", "double-bounce"));
        Path badmail = dir.resolve("mailroot").resolve("Badmail");
        Path bad = Await.value("a .bad file", WAIT, () -> {
            try (Stream<Path> files = Files.list(badmail)) {
                return files.filter(p -> p.toString().endsWith(".bad")).filter(p -> read(p).contains("frank@reject.test"))
                        .findFirst().orElse(null);
            } catch (IOException e) {
                return null;
            }
        });
        Path reason = bad.resolveSibling(bad.getFileName().toString().replace(".bad", ".bdr"));
        assertTrue(Files.exists(reason), "the reason lies beside the message");
        assertTrue(read(reason).contains("frank@reject.test"), read(reason));
    }

    @Test
    void mailInRetrySurvivesARestart() throws Exception {
        String prefix = SharedKafka.uniquePrefix("restart");
        MailrootConfig restartConfig = config(prefix, "[5s]");
        restartHop.dataReplies("451 4.3.0 Not now");
        node.close();
        try {
            MailrootNode first = new MailrootNode(restartConfig, RoleName.all(), bootstrap());
            first.start();
            submit("alice@client.test", "hal@restart.test", message("alice@client.test", "hal@restart.test", "restart"));
            Await.until("the first attempt", WAIT, () -> restartHop.dataAttempts() == 1);
            first.close();
            assertTrue(restartHop.received().isEmpty(), "stopped while the message waited in retry");
            MailrootNode second = new MailrootNode(restartConfig, RoleName.all(), bootstrap());
            second.start();
            try {
                Await.until("delivery after the restart", WAIT, () -> restartHop.received().size() == 1);
            } finally {
                second.close();
            }
        } finally {
            node = new MailrootNode(config(SharedKafka.uniquePrefix("e2e2"), "[1s, 1s]"), RoleName.all(), bootstrap());
            node.start();
        }
    }
}
