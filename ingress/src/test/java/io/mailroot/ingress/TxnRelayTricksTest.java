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
 * Every spelling of a forward path that has opened relays somewhere, against a virtual server that relays for
 * nobody (relay.allow empty, client 127.0.0.1 not authenticated). Each is either refused or accepted as the local
 * recipient it literally names; after all of them, inbound holds no remote recipient at all. A local part that
 * carries routing syntax (percent hack, bang path, quoted address) is refused to such a client, and accepted
 * literally from one that may relay (relay.allow, or authenticated with allowAuthenticated).
 */
class TxnRelayTricksTest {

    private static final String MESSAGE = "Subject: trick\r\n\r\nbody\r\n";

    @TempDir
    static Path dir;
    @TempDir
    static Path relayDir;
    private static TxnHarness harness;
    private static int port;
    /** The same ingress configuration, but 127.0.0.1 may relay. */
    private static int relayPort;

    @BeforeAll
    static void start() throws Exception {
        harness = TxnHarness.withIngress("txn-relay", dir, "relay: { allow: [] }");
        port = harness.port();
        relayPort = harness.ingress(relayDir, "relay: { allow: [127.0.0.1] }");
    }

    @AfterAll
    static void noRemoteRecipientWasEverQueued() {
        try {
            List<MailRecord> all = harness.inbound();
            assertTrue(!all.isEmpty(), "the accepted local tricks were queued");
            for (MailRecord m : all) {
                for (Recipient r : m.envelope().recipients()) {
                    assertEquals("local.test", r.domain(), "queued recipient " + r.address());
                }
            }
        } finally {
            harness.close();
        }
    }

    /** Offers one forward path; when it is accepted, sends a message and checks how the recipient was queued. */
    private static void offer(String path, String expectedReply, String queuedAs) throws Exception {
        offer(port, path, expectedReply, queuedAs);
    }

    private static void offer(int port, String path, String expectedReply, String queuedAs) throws Exception {
        try (SmtpTestClient client = TxnHarness.connect(port)) {
            SmtpTestClient.expect(client.command("MAIL FROM:<alice@client.test>"), "250");
            String reply = client.command("RCPT TO:" + path);
            assertTrue(reply.startsWith(expectedReply), path + " got " + reply);
            if (queuedAs == null) {
                assertTrue(!reply.startsWith("2"), path + " must not be accepted: " + reply);
                return;
            }
            SmtpTestClient.expect(client.command("DATA"), "354");
            client.send(MESSAGE + ".\r\n");
            MailRecord mail = harness.queued(client.reply());
            assertEquals(List.of(queuedAs), mail.envelope().recipients().stream().map(Recipient::address).toList());
        }
    }

    @Test
    void sourceRouteIsRefused() throws Exception {
        offer("<@local.test:bob@remote.test>", "501 5.1.3 Bad recipient address syntax: Source routes are not accepted", null);
        offer("<@local.test,@relay.test:bob@remote.test>", "501 5.1.3", null);
        offer("<@remote.test:bob@local.test>", "501 5.1.3", null);
    }

    private static final String ROUTING_REFUSED = "550 5.7.1 Sender-specified routing is not accepted for ";

    @Test
    void percentHackIsRefusedUnlessTheClientMayRelay() throws Exception {
        offer("<bob%remote.test@local.test>", ROUTING_REFUSED + "<bob%remote.test@local.test>", null);
        offer(relayPort, "<bob%remote.test@local.test>", "250 2.1.5", "bob%remote.test@local.test");
        offer("<bob@remote.test%local.test>", "501 5.1.3", null);
        offer("<bob%local.test@remote.test>", "550 5.7.1 Unable to relay", null);
    }

    @Test
    void bangPathIsRefusedUnlessTheClientMayRelay() throws Exception {
        offer("<remote.test!bob@local.test>", ROUTING_REFUSED + "<remote.test!bob@local.test>", null);
        offer(relayPort, "<remote.test!bob@local.test>", "250 2.1.5", "remote.test!bob@local.test");
        offer("<local.test!bob@remote.test>", "550 5.7.1 Unable to relay", null);
        offer("<remote.test!bob>", "501 5.1.3", null);
    }

    @Test
    void quotedAddressAsLocalPartIsRefusedUnlessTheClientMayRelay() throws Exception {
        offer("<\"bob@remote.test\"@local.test>", ROUTING_REFUSED + "<\"bob@remote.test\"@local.test>", null);
        offer(relayPort, "<\"bob@remote.test\"@local.test>", "250 2.1.5", "\"bob@remote.test\"@local.test");
        offer("<\"bob%remote.test\"@local.test>", ROUTING_REFUSED, null);
        offer("<\"bob remote\"@local.test>", "250 2.1.5", "\"bob remote\"@local.test");
        offer("<\"bob@local.test\"@remote.test>", "550 5.7.1", null);
        offer("<\"bob>\"@remote.test>", "550 5.7.1", null);
        offer("<bob@local.test@remote.test>", "501 5.1.3", null);
    }

    @Test
    void addressLiteralIsNeverLocal() throws Exception {
        offer("<bob@[192.0.2.1]>", "550 5.7.1", null);
        offer("<bob@[127.0.0.1]>", "550 5.7.1", null);
        offer("<bob@[IPv6:::1]>", "550 5.7.1", null);
        offer("<bob@[local.test]>", "501 5.1.3", null);
    }

    @Test
    void trailingDotIsTheSameDomain() throws Exception {
        offer("<bob@local.test.>", "250 2.1.5", "bob@local.test");
        offer("<bob@remote.test.>", "550 5.7.1 Unable to relay for <bob@remote.test>", null);
        offer("<bob@local.test..>", "501 5.1.3", null);
    }

    @Test
    void caseDoesNotChangeTheDomain() throws Exception {
        offer("<BOB@LOCAL.TEST>", "250 2.1.5", "BOB@local.test");
        offer("<bob@REMOTE.TEST>", "550 5.7.1", null);
        offer("<bob@Local.Test.>", "250 2.1.5", "bob@local.test");
    }

    @Test
    void otherSpellingsAreRefused() throws Exception {
        offer("bob@remote.test", "550 5.7.1", null);
        offer("<bob@remote.test>local.test", "501 5.5.4", null);
        offer("<bob@remote.test >", "501 5.1.3", null);
        offer("<bob@l\u043ecal.test>", "501 5.1.3", null);
        offer("<<bob@local.test>>", "501", null);
    }
}
