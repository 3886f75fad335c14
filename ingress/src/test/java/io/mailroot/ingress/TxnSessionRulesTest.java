package io.mailroot.ingress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.message.MailRecord;
import io.mailroot.testkit.SmtpTestClient;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.subethamail.smtp.auth.EasyAuthenticationHandlerFactory;
import org.subethamail.smtp.auth.LoginFailedException;

/**
 * What a virtual server demands of the session at MAIL (TLS, AUTH), and what the session's facts (greeting, TLS,
 * AUTH identity, reverse name) make of the envelope and the Received header. These listeners are assembled as
 * IngressRole assembles its own, with SubEthaSMTP's stock AUTH standing in for Mailroot's.
 */
class TxnSessionRulesTest {

    private static TxnHarness harness;

    @BeforeAll
    static void start() throws Exception {
        harness = new TxnHarness("txn-rules");
    }

    @AfterAll
    static void stop() {
        harness.close();
    }

    private static EasyAuthenticationHandlerFactory aliceOnly() {
        return new EasyAuthenticationHandlerFactory((user, password, context) -> {
            if (!user.equals("alice") || !password.equals("secret")) {
                throw new LoginFailedException();
            }
        });
    }

    private static String plain(String user, String password) {
        return Base64.getEncoder().encodeToString(("\0" + user + "\0" + password).getBytes(StandardCharsets.UTF_8));
    }

    private static String message(SmtpTestClient client, String from, String to) throws Exception {
        SmtpTestClient.expect(client.command("MAIL FROM:<" + from + ">"), "250");
        SmtpTestClient.expect(client.command("RCPT TO:<" + to + ">"), "250");
        SmtpTestClient.expect(client.command("DATA"), "354");
        client.send("Subject: rules\r\n\r\nhi\r\n.\r\n");
        return client.reply();
    }

    @Test
    void requireTlsRefusesMailOnAPlainSession() throws Exception {
        int port = harness.bareServer(new SessionRules(true, false, Long.MAX_VALUE), false, false, Optional.empty());
        try (SmtpTestClient client = TxnHarness.connect(port)) {
            assertEquals("530 5.7.0 Must issue a STARTTLS command first", client.command("MAIL FROM:<alice@client.test>"));
            assertEquals("503 5.5.1 Error: need MAIL command", client.command("RCPT TO:<bob@local.test>"));
        }
    }

    @Test
    void withoutAnonymousAccessMailNeedsAuthAndTheIdentityIsRecorded() throws Exception {
        int port = harness.bareServer(new SessionRules(false, true, Long.MAX_VALUE), false, true, Optional.of(aliceOnly()));
        String reply;
        try (SmtpTestClient client = TxnHarness.connect(port)) {
            assertEquals("530 5.7.0 Authentication required", client.command("MAIL FROM:<alice@client.test>"));
            assertFalse(client.command("AUTH PLAIN " + plain("alice", "wrong")).startsWith("2"));
            assertEquals("530 5.7.0 Authentication required", client.command("MAIL FROM:<alice@client.test>"));
            SmtpTestClient.expect(client.command("AUTH PLAIN " + plain("alice", "secret")), "235");
            // authenticated and relay.allowAuthenticated: a remote recipient is fine
            reply = message(client, "alice@client.test", "bob@remote.test");
        }
        MailRecord mail = harness.queued(reply);
        assertEquals("alice", mail.envelope().authIdentity());
        assertFalse(mail.envelope().tls());
        assertTrue(new String(mail.message(), StandardCharsets.ISO_8859_1).contains(" with ESMTPA id "),
                new String(mail.message(), StandardCharsets.ISO_8859_1));
    }

    @Test
    void anonymousSessionCannotRelayEvenWhenAuthenticatedRelayIsAllowed() throws Exception {
        int port = harness.bareServer(SessionRules.NONE, false, true, Optional.of(aliceOnly()));
        try (SmtpTestClient client = TxnHarness.connect(port)) {
            SmtpTestClient.expect(client.command("MAIL FROM:<alice@client.test>"), "250");
            assertEquals("550 5.7.1 Unable to relay for <bob@remote.test>", client.command("RCPT TO:<bob@remote.test>"));
        }
    }

    @Test
    void heloMakesSmtpAndEhloEsmtpInTheReceivedHeader() throws Exception {
        int port = harness.bareServer(SessionRules.NONE, false, false, Optional.empty());
        String helo;
        String ehlo;
        try (SmtpTestClient client = new SmtpTestClient("127.0.0.1", port)) {
            SmtpTestClient.expect(client.command("HELO old.client.test"), "250");
            helo = message(client, "alice@client.test", "bob@local.test");
            SmtpTestClient.expect(client.command("EHLO new.client.test"), "250");
            ehlo = message(client, "alice@client.test", "bob@local.test");
        }
        MailRecord first = harness.queued(helo);
        String header = new String(first.message(), StandardCharsets.ISO_8859_1);
        assertTrue(header.startsWith("Received: from old.client.test (unknown [127.0.0.1])\r\n\tby relay.test (Mailroot) with SMTP id "), header);
        assertNull(first.envelope().authIdentity());
        String second = new String(harness.queued(ehlo).message(), StandardCharsets.ISO_8859_1);
        assertTrue(second.startsWith("Received: from new.client.test (unknown [127.0.0.1])\r\n\tby relay.test (Mailroot) with ESMTP id "), second);
    }

    @Test
    void reverseLookupSaysUnverifiedWhenTheGreetingDoesNotMatch() throws Exception {
        int port = harness.bareServer(SessionRules.NONE, true, false, Optional.empty());
        List<String> replies = new java.util.ArrayList<>();
        try (SmtpTestClient client = new SmtpTestClient("127.0.0.1", port)) {
            SmtpTestClient.expect(client.command("EHLO pretender.example"), "250");
            replies.add(message(client, "alice@client.test", "bob@local.test"));
            SmtpTestClient.expect(client.command("EHLO [127.0.0.1]"), "250");
            replies.add(message(client, "alice@client.test", "bob@local.test"));
        }
        String lie = new String(harness.queued(replies.get(0)).message(), StandardCharsets.ISO_8859_1);
        String firstLine = lie.substring(0, lie.indexOf("\r\n"));
        assertTrue(firstLine.startsWith("Received: from pretender.example (") && firstLine.endsWith(" [127.0.0.1] unverified)"), firstLine);
        String truth = new String(harness.queued(replies.get(1)).message(), StandardCharsets.ISO_8859_1);
        String truthLine = truth.substring(0, truth.indexOf("\r\n"));
        assertTrue(truthLine.startsWith("Received: from [127.0.0.1] (") && truthLine.endsWith(" [127.0.0.1])"), truthLine);
    }
}
