package io.mailroot.ingress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.Recipient;
import io.mailroot.testkit.SmtpTestClient;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ESMTP parameters over a real session: SIZE at MAIL, DSN parameters into the envelope, unknown ones refused. */
class TxnParametersTest {

    @TempDir
    static Path dir;
    private static TxnHarness harness;
    private static int port;

    @BeforeAll
    static void start() throws Exception {
        harness = TxnHarness.withIngress("txn-params", dir, "maxMessageSizeKb: 64\nrelay: { allow: [] }");
        port = harness.port();
    }

    @AfterAll
    static void stop() {
        harness.close();
    }

    @Test
    void sessionWithEveryKindOfReply() throws Exception {
        SmtpConversation.play("txn-transaction.smtp", port);
    }

    @Test
    void declaredSizeIsJudgedAtMail() throws Exception {
        try (SmtpTestClient client = TxnHarness.connect(port)) {
            assertEquals("250 2.1.0 Ok", client.command("MAIL FROM:<alice@client.test> SIZE=65536"));
            assertEquals("250 2.0.0 Ok", client.command("RSET"));
            assertEquals("552 5.3.4 Message size exceeds fixed limit", client.command("MAIL FROM:<alice@client.test> SIZE=65537"));
            // refused MAIL started nothing
            assertEquals("503 5.5.1 Error: need MAIL command", client.command("RCPT TO:<bob@local.test>"));
        }
    }

    @Test
    void dsnParametersTravelInTheEnvelope() throws Exception {
        String reply;
        try (SmtpTestClient client = TxnHarness.connect(port)) {
            assertEquals("250 2.1.0 Ok",
                    client.command("MAIL FROM:<alice@client.test> SIZE=100 BODY=8BITMIME RET=HDRS ENVID=env+2B1 AUTH=<>"));
            assertEquals("250 2.1.5 Ok",
                    client.command("RCPT TO:<bob@local.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Bob+40local.test"));
            assertEquals("250 2.1.5 Ok", client.command("RCPT TO:<carol@local.test> notify=never"));
            assertEquals("250 2.1.5 Ok", client.command("RCPT TO:<dave@local.test>"));
            SmtpTestClient.expect(client.command("DATA"), "354");
            client.send("Subject: dsn\r\n\r\nhi\r\n.\r\n");
            reply = client.reply();
        }
        Envelope e = harness.queued(reply).envelope();
        assertEquals("env+1", e.envId());
        assertEquals(Envelope.Ret.HDRS, e.ret());
        assertEquals(List.of(
                new Recipient("bob@local.test", Set.of(Recipient.Notify.SUCCESS, Recipient.Notify.FAILURE), "rfc822;Bob@local.test", null),
                new Recipient("carol@local.test", Set.of(Recipient.Notify.NEVER), null, null),
                Recipient.of("dave@local.test")), e.recipients());
    }

    @Test
    void unknownOrMalformedParametersAreRefused() throws Exception {
        try (SmtpTestClient client = TxnHarness.connect(port)) {
            assertEquals("555 5.5.4 Unsupported parameter XFOO", client.command("MAIL FROM:<alice@client.test> XFOO=1"));
            assertEquals("555 5.5.4 Unsupported parameter SMTPUTF8", client.command("MAIL FROM:<alice@client.test> SMTPUTF8"));
            assertTrue(client.command("MAIL FROM:<alice@client.test> BODY=BINARYMIME").startsWith("501 5.5.4"));
            assertTrue(client.command("MAIL FROM:<alice@client.test> RET=NONE").startsWith("501 5.5.4"));
            assertTrue(client.command("MAIL FROM:<bad address@client.test>").startsWith("501 5.1.7"));
            assertTrue(client.command("MAIL FROM <alice@client.test>").startsWith("501 5.5.4"));
            assertEquals("250 2.1.0 Ok", client.command("MAIL FROM:<>"));
            assertEquals("503 5.5.1 Sender already specified", client.command("MAIL FROM:<alice@client.test>"));
            assertEquals("555 5.5.4 Unsupported parameter SIZE", client.command("RCPT TO:<bob@local.test> SIZE=1"));
            assertTrue(client.command("RCPT TO:<bob@local.test> NOTIFY=NEVER,DELAY").startsWith("501 5.5.4"));
            assertTrue(client.command("RCPT TO:<bob@local.test> ORCPT=bob@local.test").startsWith("501 5.5.4"));
            assertEquals("503 5.5.1 Error: need RCPT command", client.command("DATA"));
            assertEquals("250 2.1.5 Ok", client.command("RCPT TO:<bob@local.test>"));
            assertEquals("501 5.5.4 Syntax: DATA (no parameters)", client.command("DATA now"));
            assertEquals("502 5.5.1 BDAT not implemented", client.command("BDAT 10 LAST"));
            assertEquals("502 5.5.1 VRFY command is disabled", client.command("VRFY bob"));
            assertEquals("221 2.0.0 Bye", client.command("QUIT"));
        }
    }

    @Test
    void mailBeforeHelloIsRefused() throws Exception {
        try (SmtpTestClient client = new SmtpTestClient("127.0.0.1", port)) {
            assertEquals("503 5.5.1 Error: send HELO or EHLO first", client.command("MAIL FROM:<alice@client.test>"));
            assertEquals("503 5.5.1 Error: need MAIL command", client.command("RCPT TO:<bob@local.test>"));
        }
    }
}
