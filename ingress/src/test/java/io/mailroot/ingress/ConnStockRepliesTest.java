package io.mailroot.ingress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.config.ConfigLoader;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.Topics;
import io.mailroot.ingress.connection.TrackedSocket;
import io.mailroot.testkit.FreePorts;
import io.mailroot.testkit.SharedKafka;
import io.mailroot.testkit.SmtpTestClient;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The replies SubEthaSMTP makes itself (an unknown command, a line its reader refuses) carry enhanced status codes
 * like ours, in clear text, after STARTTLS and on an implicit-TLS port; and a client that keeps sending what is not
 * SMTP is told 421 4.7.0 and cut off.
 */
class ConnStockRepliesTest {

    private static final String UNRECOGNIZED = "500 5.5.1 Command unrecognized";
    private static final String TOO_MANY = "421 4.7.0 Too many errors, closing connection";

    @TempDir
    static Path dir;
    private static IngressRole ingress;
    private static int port;

    @BeforeAll
    static void start() throws Exception {
        MailrootConfig config = ConfigLoader.parse("""
                fqdn: relay.test
                dataDir: data
                localDomains: [local.test]
                virtualServers:
                  - { name: Stock, addresses: [127.0.0.1], port: %d, tls: { implicitPort: %d } }
                """.formatted(FreePorts.next(), FreePorts.next()), dir);
        String prefix = SharedKafka.uniquePrefix("conn-stock");
        ingress = new IngressRole(config, new KafkaClients(SharedKafka.bootstrap(), prefix), new Topics(prefix, 2));
        ingress.start();
        port = ingress.ports().get(0);
    }

    @AfterAll
    static void stop() {
        if (ingress != null) {
            ingress.close();
        }
    }

    private static SmtpTestClient greeted() throws IOException {
        SmtpTestClient c = new SmtpTestClient("127.0.0.1", port);
        assertTrue(c.greeting().startsWith("220 relay.test"), c.greeting());
        assertTrue(c.command("EHLO client.test").contains("ENHANCEDSTATUSCODES"));
        return c;
    }

    private static SmtpTestClient afterStartTls() throws IOException {
        SmtpTestClient c = greeted();
        assertTrue(c.command("STARTTLS").startsWith("220 2.0.0"));
        c.startTls();
        assertTrue(c.command("EHLO client.test").startsWith("250"));
        return c;
    }

    @Test
    void anUnknownCommandIsUnrecognizedWithAnEnhancedCode() throws Exception {
        try (SmtpTestClient c = greeted()) {
            assertEquals(UNRECOGNIZED, c.command("FOO bar"));
            assertEquals(UNRECOGNIZED, c.command("XYZZY"));
            assertEquals("500 5.5.2 Syntax error", c.command(""), "an empty line");
            assertEquals("214 2.0.0 See RFC 5321", c.command("HELP"));
            assertEquals("250 2.0.0 Ok", c.command("NOOP"), "the session goes on");
        }
    }

    @Test
    void anUnknownCommandAfterStartTlsAndOnTheImplicitTlsPort() throws Exception {
        try (SmtpTestClient c = afterStartTls()) {
            assertEquals(UNRECOGNIZED, c.command("FOO bar"));
            assertEquals("250 2.0.0 Ok", c.command("NOOP"));
        }
        try (SmtpTestClient c = SmtpTestClient.implicitTls("127.0.0.1", ingress.implicitTlsPorts().get(0))) {
            assertTrue(c.greeting().startsWith("220 relay.test"), c.greeting());
            assertEquals(UNRECOGNIZED, c.command("FOO bar"));
            assertTrue(c.command("EHLO client.test").startsWith("250"));
        }
    }

    @Test
    void aCommandLineSubEthaSmtpCannotReadIsRefusedWithAnEnhancedCodeAndClosed() throws Exception {
        try (SmtpTestClient c = greeted()) {
            // 512 < length < 998: our own limit answers and the session goes on
            assertEquals("500 5.5.2 Line too long", c.command("NOOP " + "x".repeat(600)));
            // from 998 on SubEthaSMTP's reader gives up and closes
            assertEquals("500 5.5.2 Line too long", c.command("NOOP " + "x".repeat(1200)));
            assertTrue(c.closedByServer());
        }
        try (SmtpTestClient c = afterStartTls()) {
            assertEquals("500 5.5.2 Line too long", c.command("NOOP " + "x".repeat(1200)));
            assertTrue(c.closedByServer());
        }
        try (SmtpTestClient c = greeted()) {
            c.send("NOOP\nNOOP\r\n");
            assertEquals("501 5.5.2 Bare CR or LF in command", c.reply());
            assertTrue(c.closedByServer());
        }
        try (SmtpTestClient c = greeted()) {
            c.send("NOOP\rNOOP\r\n");
            assertEquals("501 5.5.2 Bare CR or LF in command", c.reply());
            assertTrue(c.closedByServer());
        }
        try (SmtpTestClient c = greeted()) {
            // a well-framed line that is not UTF-8 is one bad command: the session goes on
            c.send("NOOP \u0080\r\n");
            assertEquals("501 5.5.2 Invalid character encoding", c.reply());
            assertEquals("250 2.0.0 Ok", c.command("NOOP"));
        }
    }

    @Test
    void theTwentiethBadCommandEndsTheConnectionWith421() throws Exception {
        try (SmtpTestClient c = greeted()) {
            for (int i = 1; i < TrackedSocket.MAX_ERRORS; i++) {
                assertEquals(UNRECOGNIZED, c.command("BAD" + i));
                // good commands between do not wipe the slate
                assertEquals("250 2.0.0 Ok", c.command("NOOP"));
            }
            assertEquals(UNRECOGNIZED, c.command("BAD" + TrackedSocket.MAX_ERRORS));
            assertEquals(TOO_MANY, c.reply());
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void errorsCountAcrossStartTlsAndEveryKindCounts() throws Exception {
        try (SmtpTestClient c = greeted()) {
            for (int i = 0; i < 10; i++) {
                assertEquals(UNRECOGNIZED, c.command("BAD" + i));
            }
            assertTrue(c.command("STARTTLS").startsWith("220 2.0.0"));
            c.startTls();
            assertTrue(c.command("EHLO client.test").startsWith("250"));
            for (int i = 0; i < 3; i++) {
                assertEquals(UNRECOGNIZED, c.command("BAD" + i));
                String mail = c.command("MAIL FROM:<a b@client.test>");
                assertTrue(mail.startsWith("501 5.1.7"), mail);
                assertTrue(c.command("VRFY bob").startsWith("502 5.5.1"));
            }
            String rcpt = c.command("RCPT TO:bob@local.test");
            assertTrue(rcpt.startsWith("503 5.5.1"), "a bad sequence does not count: " + rcpt);
            String mail = c.command("MAIL FROM:<a@client.test> BOGUS=1");
            assertTrue(mail.startsWith("555 5.5.4"), mail);
            assertEquals(TOO_MANY, c.reply(), "the twentieth error, the last one after STARTTLS");
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void nothingPipelinedBehindTheLimitRuns() throws Exception {
        try (SmtpTestClient c = greeted()) {
            StringBuilder flood = new StringBuilder();
            for (int i = 0; i < TrackedSocket.MAX_ERRORS + 5; i++) {
                flood.append("BAD").append(i).append("\r\n");
            }
            flood.append("MAIL FROM:<a@client.test>\r\nRCPT TO:<bob@local.test>\r\nDATA\r\nSubject: x\r\n\r\nhi\r\n.\r\n");
            c.send(flood.toString());
            for (int i = 0; i < TrackedSocket.MAX_ERRORS; i++) {
                assertEquals(UNRECOGNIZED, c.reply());
            }
            assertEquals(TOO_MANY, c.reply());
            assertTrue(c.closedByServer(), "and nothing more is said: no 250 for the MAIL behind the flood");
        }
    }
}
