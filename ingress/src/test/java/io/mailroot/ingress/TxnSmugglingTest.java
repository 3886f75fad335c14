package io.mailroot.ingress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.mailroot.core.message.MailRecord;
import io.mailroot.testkit.SmtpTestClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SMTP smuggling (CVE-2023-51764 and kin): a client hides a second transaction behind an end-of-data marker that
 * some server along the way accepts and Mailroot must not. Each fake marker is followed by a whole smuggled
 * transaction and then the real CRLF.CRLF: the server must answer that whole stream with one refusal, run none of
 * the smuggled commands, and queue nothing.
 */
class TxnSmugglingTest {

    private static final String SMUGGLED = "MAIL FROM:<admin@local.test>\r\nRCPT TO:<victim@local.test>\r\nDATA\r\n"
            + "From: admin@local.test\r\nSubject: smuggled\r\n\r\nevil\r\n";

    @TempDir
    static Path dir;
    private static TxnHarness harness;
    private static int port;

    @BeforeAll
    static void start() throws Exception {
        // relay open to loopback: the smuggled transaction would be accepted if it ever ran as commands
        harness = TxnHarness.withIngress("txn-smuggle", dir, "relay: { allow: [127.0.0.0/8] }");
        port = harness.port();
    }

    @AfterAll
    static void stop() {
        harness.close();
    }

    private static void smuggle(String fakeEnd) throws Exception {
        try (SmtpTestClient client = TxnHarness.connect(port)) {
            SmtpTestClient.expect(client.command("MAIL FROM:<alice@client.test>"), "250");
            SmtpTestClient.expect(client.command("RCPT TO:<bob@local.test>"), "250");
            SmtpTestClient.expect(client.command("DATA"), "354");
            client.send("From: alice@client.test\r\nSubject: innocent\r\n\r\nhello" + fakeEnd + SMUGGLED + ".\r\n");
            assertEquals("550 5.6.11 Bare CR or LF in message (RFC 5321 2.3.8)", client.reply());
            // the next reply answers our NOOP: nothing smuggled was answered (250/250/354) in between
            assertEquals("250 2.0.0 Ok", client.command("NOOP"));
            // and the session is clean: the transaction is over, a new one may start
            SmtpTestClient.expect(client.command("MAIL FROM:<alice@client.test>"), "250 2.1.0");
        }
        List<MailRecord> queued = harness.inbound();
        for (MailRecord m : queued) {
            assertFalse(new String(m.message(), StandardCharsets.ISO_8859_1).contains("smuggled"));
        }
        assertEquals(0, queued.size(), "nothing queued for a refused message");
    }

    @Test
    void lfDotLf() throws Exception {
        smuggle("\n.\n");
    }

    @Test
    void crDotCr() throws Exception {
        smuggle("\r.\r");
    }

    @Test
    void crLfDotLf() throws Exception {
        smuggle("\r\n.\n");
    }

    @Test
    void lfDotCrLf() throws Exception {
        smuggle("\n.\r\n");
    }

    @Test
    void crDotCrLf() throws Exception {
        smuggle("\r.\r\n");
    }

    @Test
    void crLfDotCr() throws Exception {
        smuggle("\r\n.\r");
    }

    @Test
    void bareLfAloneIsRefusedToo() throws Exception {
        try (SmtpTestClient client = TxnHarness.connect(port)) {
            SmtpTestClient.expect(client.command("MAIL FROM:<alice@client.test>"), "250");
            SmtpTestClient.expect(client.command("RCPT TO:<bob@local.test>"), "250");
            SmtpTestClient.expect(client.command("DATA"), "354");
            // "\n.\r\n" is not the end (the dot does not start a CRLF line); the real end follows
            client.send("Subject: unix line ends\n\nhello\n.\r\nstill text\r\n.\r\n");
            assertEquals("550 5.6.11 Bare CR or LF in message (RFC 5321 2.3.8)", client.reply());
        }
        assertEquals(0, harness.inbound().size());
    }
}
