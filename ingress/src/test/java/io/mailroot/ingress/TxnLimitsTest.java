package io.mailroot.ingress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.message.MailRecord;
import io.mailroot.testkit.SmtpTestClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each limit at its boundary and one past it, over real sessions; the session goes on after each refusal. */
class TxnLimitsTest {

    @TempDir
    static Path dir;
    private static TxnHarness harness;
    /** maxMessageSizeKb 64, everything else at its default (maxRecipientsPerMessage 100). */
    private static int port;

    @BeforeAll
    static void start() throws Exception {
        harness = TxnHarness.withIngress("txn-limits", dir, "maxMessageSizeKb: 64\nrelay: { allow: [] }");
        port = harness.port();
    }

    @AfterAll
    static void stop() {
        harness.close();
    }

    private static String data(SmtpTestClient client, String rawDataWithEnd) throws Exception {
        SmtpTestClient.expect(client.command("MAIL FROM:<alice@client.test>"), "250");
        SmtpTestClient.expect(client.command("RCPT TO:<bob@local.test>"), "250");
        SmtpTestClient.expect(client.command("DATA"), "354");
        client.send(rawDataWithEnd);
        return client.reply();
    }

    /** A message of exactly {@code size} octets as received (CRLF lines of 100 octets, then a shorter last one). */
    private static String messageOf(int size) {
        String header = "Subject: size\r\n\r\n";
        StringBuilder b = new StringBuilder(header);
        while (size - b.length() >= 100) {
            b.append("y".repeat(98)).append("\r\n");
        }
        int rest = size - b.length();
        if (rest >= 2) {
            b.append("z".repeat(rest - 2)).append("\r\n");
        }
        assertEquals(size, b.length());
        return b.toString();
    }

    @Test
    void hundredRecipientsByDefaultAndTheHundredAndFirstWaits() throws Exception {
        try (SmtpTestClient client = TxnHarness.connect(port)) {
            SmtpTestClient.expect(client.command("MAIL FROM:<alice@client.test>"), "250");
            StringBuilder pipelined = new StringBuilder();
            for (int i = 1; i <= 101; i++) {
                pipelined.append("RCPT TO:<r").append(i).append("@local.test>\r\n");
            }
            client.send(pipelined.toString());
            for (int i = 1; i <= 100; i++) {
                assertEquals("250 2.1.5 Ok", client.reply(), "recipient " + i);
            }
            assertEquals("452 4.5.3 Too many recipients", client.reply());
            SmtpTestClient.expect(client.command("DATA"), "354");
            client.send("Subject: many\r\n\r\nhi\r\n.\r\n");
            MailRecord mail = harness.queued(client.reply());
            assertEquals(100, mail.envelope().recipients().size());
        }
    }

    @Test
    void messageSizeAtAndPastTheLimit() throws Exception {
        try (SmtpTestClient client = TxnHarness.connect(port)) {
            String exact = messageOf(64 * 1024);
            MailRecord mail = harness.queued(data(client, exact + ".\r\n"));
            byte[] body = mail.message();
            assertTrue(new String(body, StandardCharsets.ISO_8859_1).endsWith(exact));
            assertEquals("552 5.3.4 Message size exceeds fixed limit", data(client, messageOf(64 * 1024 + 2) + ".\r\n"));
            // far past the limit: read to the end (not buffered), then the session goes on
            assertEquals("552 5.3.4 Message size exceeds fixed limit", data(client, messageOf(3 * 1024 * 1024) + ".\r\n"));
            assertEquals("250 2.0.0 Ok", client.command("NOOP"));
        }
    }

    @Test
    void commandLinesOverFiveHundredTwelveOctets() throws Exception {
        try (SmtpTestClient client = TxnHarness.connect(port)) {
            String atLimit = "NOOP " + "x".repeat(510 - 5);
            assertEquals(512, atLimit.length() + 2);
            assertEquals("250 2.0.0 Ok", client.command(atLimit));
            assertEquals("500 5.5.2 Line too long", client.command(atLimit + "x"));
            String longRcptLocal = "b".repeat(64) + "@" + ("l".repeat(60) + ".").repeat(7) + "local.test";
            SmtpTestClient.expect(client.command("MAIL FROM:<alice@client.test>"), "250");
            assertEquals("500 5.5.2 Line too long",
                    client.command("RCPT TO:<" + longRcptLocal + "> NOTIFY=NEVER ORCPT=rfc822;" + "o".repeat(60)));
            assertEquals("250 2.1.5 Ok", client.command("RCPT TO:<bob@local.test>"));
        }
    }

    @Test
    void textLinesOverOneThousandOctetsRefuseTheMessageWhole() throws Exception {
        try (SmtpTestClient client = TxnHarness.connect(port)) {
            String line998 = "x".repeat(998);
            MailRecord mail = harness.queued(data(client, "Subject: long\r\n\r\n" + line998 + "\r\n.\r\n"));
            String text = new String(mail.message(), StandardCharsets.ISO_8859_1);
            assertTrue(text.endsWith("\r\n" + line998 + "\r\n"), "never split");
            assertEquals("552 5.3.4 Line too long (RFC 5321 4.5.3.1.6)",
                    data(client, "Subject: long\r\n\r\n" + line998 + "x\r\n.\r\n"));
            assertEquals("250 2.0.0 Ok", client.command("NOOP"));
        }
    }

    @Test
    void sessionSizeCountsEveryBodyOfTheConnection() throws Exception {
        int bare = harness.bareServer(new SessionRules(false, false, 100_000), false, false, Optional.empty());
        String message = messageOf(40_000);
        try (SmtpTestClient client = TxnHarness.connect(bare)) {
            TxnHarness.queuedId(data(client, message + ".\r\n"));
            TxnHarness.queuedId(data(client, message + ".\r\n"));
            // 80 000 sent: the message that crosses 100 000, even declared, is accepted, never bounced
            SmtpTestClient.expect(client.command("MAIL FROM:<alice@client.test> SIZE=40000"), "250");
            SmtpTestClient.expect(client.command("RCPT TO:<bob@local.test>"), "250");
            SmtpTestClient.expect(client.command("DATA"), "354");
            client.send(message + ".\r\n");
            TxnHarness.queuedId(client.reply());
            // past the limit: the next MAIL hears a 4xx and the client reconnects
            assertEquals("421 4.7.0 Session size limit reached, closing connection",
                    client.command("MAIL FROM:<alice@client.test>"));
            assertTrue(client.closedByServer());
        }
        // a new connection has a budget of its own
        try (SmtpTestClient client = TxnHarness.connect(bare)) {
            TxnHarness.queuedId(data(client, message + ".\r\n"));
        }
        List<MailRecord> all = harness.inbound();
        assertEquals(4, all.stream().filter(m -> m.envelope().virtualServer().equals("Txn Bare Server")).count());
    }
}
