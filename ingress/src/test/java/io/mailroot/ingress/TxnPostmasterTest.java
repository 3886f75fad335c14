package io.mailroot.ingress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.Recipient;
import io.mailroot.testkit.SmtpTestClient;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RFC 5321 section 4.5.1: every server accepts {@code RCPT TO:<postmaster>} without a domain, in any case, as its
 * own postmaster, whoever asks; Mailroot queues it as {@code postmaster@fqdn}. {@code postmaster@fqdn} written out
 * is an ordinary address: local only when the fqdn is a local domain. Neither virtual server relays for anyone.
 */
class TxnPostmasterTest {

    @TempDir
    static Path dir;
    private static TxnHarness harness;
    /** fqdn relay.test, localDomains [local.test]: the fqdn is not local. */
    private static int fqdnNotLocal;
    /** fqdn relay.test, localDomains by default: the fqdn is local. */
    private static int fqdnLocal;

    @BeforeAll
    static void start() throws Exception {
        harness = new TxnHarness("txn-postmaster");
        fqdnNotLocal = harness.ingress(dir, "relay: { allow: [] }");
        fqdnLocal = harness.ingress(dir, "", "relay: { allow: [] }");
    }

    @AfterAll
    static void stop() {
        harness.close();
    }

    /** Offers one forward path and, when it is accepted, returns the recipients the message was queued for. */
    private static List<String> offer(int port, String path, String expectedReply) throws Exception {
        try (SmtpTestClient client = TxnHarness.connect(port)) {
            SmtpTestClient.expect(client.command("MAIL FROM:<alice@client.test>"), "250");
            String reply = client.command("RCPT TO:" + path);
            assertTrue(reply.startsWith(expectedReply), path + " got " + reply);
            if (!reply.startsWith("250")) {
                return List.of();
            }
            SmtpTestClient.expect(client.command("DATA"), "354");
            client.send("Subject: to the postmaster\r\n\r\nhello\r\n.\r\n");
            MailRecord mail = harness.queued(client.reply());
            return mail.envelope().recipients().stream().map(Recipient::address).toList();
        }
    }

    @Test
    void postmasterWithoutADomainIsThisServersPostmasterInAnyCase() throws Exception {
        for (String path : List.of("<postmaster>", "<POSTMASTER>", "<PostMaster>", "postmaster")) {
            assertEquals(List.of("postmaster@relay.test"), offer(fqdnNotLocal, path, "250 2.1.5"), path);
        }
        assertEquals(List.of("postmaster@relay.test"), offer(fqdnLocal, "<Postmaster>", "250 2.1.5"));
    }

    @Test
    void postmasterAtTheFqdnIsLocalOnlyWhenTheFqdnIs() throws Exception {
        offer(fqdnNotLocal, "<postmaster@relay.test>", "550 5.7.1 Unable to relay for <postmaster@relay.test>");
        assertEquals(List.of("postmaster@relay.test"), offer(fqdnLocal, "<postmaster@relay.test>", "250 2.1.5"));
    }

    @Test
    void lookalikesAreNotThePostmaster() throws Exception {
        offer(fqdnNotLocal, "<postmaster@remote.test>", "550 5.7.1");
        offer(fqdnNotLocal, "<postmaster@>", "501 5.1.3");
        offer(fqdnNotLocal, "<\"postmaster\">", "501 5.1.3");
        offer(fqdnNotLocal, "<postmaster.>", "501 5.1.3");
        offer(fqdnNotLocal, "<@remote.test:postmaster>", "501 5.1.3");
    }
}
