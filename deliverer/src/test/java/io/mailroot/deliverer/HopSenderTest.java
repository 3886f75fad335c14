package io.mailroot.deliverer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.config.ConfigLoader;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.NextHop;
import io.mailroot.core.message.Recipient;
import io.mailroot.deliverer.DeliveryResult.Verdict;
import io.mailroot.deliverer.smtp.SmtpClient;
import io.mailroot.testkit.DnsResponder;
import io.mailroot.testkit.ScriptedSmtpServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One next hop's sending, against a real DNS responder and SMTP server on loopback, without Kafka. */
class HopSenderTest {

    private static final byte[] MESSAGE = "Subject: hi\r\n\r\nhello\r\n".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path dir;

    private DnsResponder dns;
    private ScriptedSmtpServer mx;
    private MailrootConfig config;
    private HopSender sender;

    @BeforeEach
    void start() throws Exception {
        dns = new DnsResponder();
        mx = new ScriptedSmtpServer();
        config = ConfigLoader.parse("""
                fqdn: relay.test
                localDomains: [local.test]
                dns:
                  servers: ["%s"]
                  timeout: 1s
                delivery:
                  outboundPort: %d
                  outboundTimeout: 10s
                """.formatted(dns.address(), mx.port()), dir);
    }

    @AfterEach
    void stop() {
        if (sender != null) {
            sender.close();
        }
        mx.close();
        dns.close();
    }

    private List<DeliveryResult> deliver(NextHop hop, String... to) {
        sender = new HopSender(hop, config, new MxResolver(config.dns()), new SmtpClient("relay.test",
                config.delivery().outboundTimeout()));
        Envelope env = Envelope.received("M1", "alice@sender.test",
                List.of(to).stream().map(Recipient::of).toList(), Instant.now()).withNextHop(hop);
        return sender.deliver(new MailRecord(env, MESSAGE));
    }

    @Test
    void theNextMxIsTriedWhenTheFirstRefusesConnections() {
        // 127.0.0.2 is loopback too, but nothing listens there on the MX port.
        dns.mx("remote.test", 10, "mx1.remote.test").a("mx1.remote.test", "127.0.0.2")
                .mx("remote.test", 20, "mx2.remote.test").a("mx2.remote.test", "127.0.0.1");

        List<DeliveryResult> results = deliver(NextHop.direct("remote.test"), "bob@remote.test");

        assertTrue(results.get(0).accepted(), results.toString());
        assertEquals("mx2.remote.test", results.get(0).remoteHost());
        assertEquals(1, mx.received().size());
    }

    @Test
    void aHostThatRefusesToTalkIsSkippedForTheNextMx() throws Exception {
        dns.mx("remote.test", 10, "mx1.remote.test").a("mx1.remote.test", "127.0.0.2")
                .mx("remote.test", 20, "mx2.remote.test").a("mx2.remote.test", "127.0.0.1");
        try (java.net.ServerSocket busy = new java.net.ServerSocket()) {
            busy.bind(new java.net.InetSocketAddress("127.0.0.2", mx.port()));
            Thread greeter = new Thread(() -> {
                try (java.net.Socket c = busy.accept()) {
                    c.getOutputStream().write("421 4.3.2 too busy\r\n".getBytes(StandardCharsets.US_ASCII));
                    c.getOutputStream().flush();
                    c.getInputStream().read();
                } catch (java.io.IOException ignored) {
                    // the test is over
                }
            });
            greeter.start();

            List<DeliveryResult> results = deliver(NextHop.direct("remote.test"), "bob@remote.test");

            assertTrue(results.get(0).accepted(), results.toString());
            assertEquals("mx2.remote.test", results.get(0).remoteHost());
            greeter.join(5000);
        }
    }

    @Test
    void excessRecipientsRefusedWith452GoInTheNextTransaction() {
        dns.mx("remote.test", 10, "mx.remote.test").a("mx.remote.test", "127.0.0.1");
        AtomicBoolean first = new AtomicBoolean(true);
        mx.rejectRecipients(r -> r.equals("carol@remote.test") && first.getAndSet(false),
                "452 4.5.3 too many recipients");

        List<DeliveryResult> results = deliver(NextHop.direct("remote.test"), "bob@remote.test", "carol@remote.test");

        assertTrue(results.stream().allMatch(DeliveryResult::accepted), results.toString());
        assertEquals(Verdict.RELAYED, results.get(0).verdict(), "the test server does not offer DSN");
        assertEquals(List.of(List.of("bob@remote.test"), List.of("carol@remote.test")),
                mx.received().stream().map(ScriptedSmtpServer.Received::recipients).toList());
    }

    @Test
    void allHostsUnreachableIsATemporaryFailure() {
        dns.mx("remote.test", 10, "mx1.remote.test").a("mx1.remote.test", "127.0.0.2");

        List<DeliveryResult> results = deliver(NextHop.direct("remote.test"), "bob@remote.test");

        assertEquals(Verdict.DEFERRED, results.get(0).verdict());
        assertEquals("4.4.1", results.get(0).status());
        assertEquals("mx1.remote.test", results.get(0).remoteHost());
    }

    @Test
    void aDnsFailureIsTemporaryAndANullMxPermanent() {
        dns.servfail("flaky.test").mx("nomail.test", 0, ".");

        DeliveryResult flaky = deliver(NextHop.direct("flaky.test"), "x@flaky.test").get(0);
        sender.close();
        DeliveryResult nomail = deliver(NextHop.direct("nomail.test"), "x@nomail.test").get(0);

        assertEquals(Verdict.DEFERRED, flaky.verdict());
        assertEquals("4.4.3", flaky.status());
        assertEquals(Verdict.FAILED, nomail.verdict());
        assertEquals("5.1.10", nomail.status());
    }

    @Test
    void aRelayIsUsedWithoutLookingUpMx() {
        List<DeliveryResult> results = deliver(new NextHop("anywhere.test", "[127.0.0.1]:" + mx.port(), null),
                "someone@anywhere.test");

        assertTrue(results.get(0).accepted(), results.toString());
        assertEquals(1, mx.received().size());
    }
}
