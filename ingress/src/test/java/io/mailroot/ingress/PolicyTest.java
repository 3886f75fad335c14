package io.mailroot.ingress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.List;
import org.junit.jupiter.api.Test;

class PolicyTest {

    private static final Client LOOPBACK = new Client(InetAddress.getLoopbackAddress(), null, "client.test", null);

    private static MailboxAddress mailbox(String path) throws MailboxAddress.Invalid {
        return MailboxAddress.parse(path);
    }

    @Test
    void recipientSyntaxIsMailboxAddressAlone() {
        for (String good : List.of("bob@local.test", "first.last+tag@sub.local.test", "\"odd name\"@local.test", "bob@[192.0.2.1]")) {
            assertTrue(MailboxAddress.tryParse(good).isPresent(), good);
        }
        for (String bad : List.of("bob", "bob@", "@local.test", "bob@-bad-.test", "a..b@local.test", "postmaster")) {
            assertTrue(MailboxAddress.tryParse(bad).isEmpty(), bad);
        }
    }

    @Test
    void relayPolicyLetsLocalDomainsThroughAndRemoteOnlyFromAllowedOrAuthenticated() throws Exception {
        RelayPolicy closed = new RelayPolicy("local.test"::equals, AddressList.parse("relay.allow", List.of()), true);
        assertTrue(closed.check(LOOPBACK, mailbox("bob@LOCAL.test"), 0).isEmpty());
        assertEquals("550 5.7.1 Unable to relay for <bob@remote.test>",
                closed.check(LOOPBACK, mailbox("bob@remote.test"), 0).orElseThrow().toString());
        Client authenticated = new Client(InetAddress.getLoopbackAddress(), null, "c", "alice");
        assertTrue(closed.check(authenticated, mailbox("bob@remote.test"), 0).isEmpty());
        RelayPolicy authNotEnough = new RelayPolicy("local.test"::equals, AddressList.parse("relay.allow", List.of()), false);
        assertTrue(authNotEnough.check(authenticated, mailbox("bob@remote.test"), 0).isPresent());
        RelayPolicy open = new RelayPolicy("local.test"::equals, AddressList.parse("relay.allow", List.of("127.0.0.0/8")), false);
        assertTrue(open.check(LOOPBACK, mailbox("bob@remote.test"), 0).isEmpty());
        Client stranger = new Client(InetAddress.getByName("198.51.100.1"), null, "c", null);
        assertTrue(open.check(stranger, mailbox("bob@remote.test"), 0).isPresent());
    }

    @Test
    void routingInALocalPartNeedsAClientThatMayRelay() throws Exception {
        Client authenticated = new Client(InetAddress.getLoopbackAddress(), null, "c", "alice");
        RelayPolicy authRelays = new RelayPolicy("local.test"::equals, AddressList.parse("relay.allow", List.of()), true);
        RelayPolicy authDoesNot = new RelayPolicy("local.test"::equals, AddressList.parse("relay.allow", List.of()), false);
        for (String routed : List.of("bob%remote.test@local.test", "remote.test!bob@local.test", "\"bob@remote.test\"@local.test")) {
            assertEquals("550 5.7.1 Sender-specified routing is not accepted for <" + routed + ">",
                    authRelays.check(LOOPBACK, mailbox(routed), 0).orElseThrow().toString(), routed);
            assertTrue(authRelays.check(authenticated, mailbox(routed), 0).isEmpty(), routed);
            assertTrue(authDoesNot.check(authenticated, mailbox(routed), 0).isPresent(), routed);
        }
        assertTrue(authDoesNot.check(LOOPBACK, mailbox("\"bob smith\"@local.test"), 0).isEmpty(), "no routing in it");
    }

    @Test
    void postmasterWithoutADomainIsAlwaysLocalAndWellFormed() throws Exception {
        Client stranger = new Client(InetAddress.getByName("198.51.100.1"), null, "c", null);
        RelayPolicy closed = new RelayPolicy("local.test"::equals, AddressList.parse("relay.allow", List.of()), false);
        assertTrue(closed.check(stranger, MailboxAddress.DOMAINLESS_POSTMASTER, 0).isEmpty());
        assertTrue(closed.check(stranger, mailbox("postmaster@relay.test"), 0).isPresent(), "relay.test is not local here");
        assertTrue(MailboxAddress.isDomainlessPostmaster("POSTMASTER"));
        assertFalse(MailboxAddress.isDomainlessPostmaster("postmasters"));
        assertEquals("postmaster", MailboxAddress.DOMAINLESS_POSTMASTER.address());
    }

    @Test
    void recipientLimitRefusesTheOneTooMany() throws Exception {
        RecipientLimit limit = new RecipientLimit(2);
        assertTrue(limit.check(LOOPBACK, mailbox("a@local.test"), 1).isEmpty());
        assertEquals("452 4.5.3 Too many recipients", limit.check(LOOPBACK, mailbox("a@local.test"), 2).orElseThrow().toString());
    }

    @Test
    void receivedHeadersAreCountedInTheHeaderSectionOnly() {
        String message = "Received: from a\r\n\tby b; date\r\nRECEIVED: from c by d\r\nSubject: x\r\n\r\n"
                + "Received: in the body, not a header\r\n";
        assertEquals(2, ReceivedHeader.count(message.getBytes(StandardCharsets.US_ASCII)));
        assertEquals(1, ReceivedHeader.count("Received: x\n\nReceived: y\n".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(0, ReceivedHeader.count(new byte[0]));
    }

    @Test
    void receivedHeaderNamesClientServerAndId() {
        Client client = new Client(InetAddress.getLoopbackAddress(), null, "client.test", null);
        String header = ReceivedHeader.format(client, "relay.test", "ID1",
                ZonedDateTime.of(2026, 11, 28, 17, 5, 9, 0, ZoneOffset.UTC));
        assertEquals("Received: from client.test (unknown [127.0.0.1])\r\n"
                + "\tby relay.test (Mailroot) with ESMTP id ID1;\r\n"
                + "\tSat, 28 Nov 2026 17:05:09 +0000\r\n", header);
        assertEquals(1, ReceivedHeader.count((header + "\r\n").getBytes(StandardCharsets.US_ASCII)));
    }
}
