package io.mailroot.ingress.pickup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How a Pickup file's headers become an envelope, without a folder or Kafka. */
class PickupMessageTest {

    private static PickupMessage read(String file) throws PickupMessage.UnreadableMessage {
        return PickupMessage.read(file.getBytes(StandardCharsets.UTF_8));
    }

    private static String reason(String file) {
        return assertThrows(PickupMessage.UnreadableMessage.class, () -> read(file)).getMessage();
    }

    @Test
    void anEmptyXSenderIsTheNullSender() throws Exception {
        PickupMessage m = read("x-sender: <>\r\nx-receiver: postmaster@local.test\r\nSubject: report\r\n\r\nbody\r\n");
        assertEquals("", m.sender());
        assertEquals(List.of("postmaster@local.test"), m.recipients());
        assertEquals("Subject: report\r\n\r\nbody\r\n", new String(m.queued(), StandardCharsets.UTF_8));
    }

    @Test
    void groupsAreExpandedAndRecipientsCountedOnce() throws Exception {
        PickupMessage m = read("Sender: agent@client.test\r\nTo: undisclosed-recipients:;\r\n"
                + "Cc: Team: a@local.test, B <b@local.test>;, A@LOCAL.test\r\n\r\n");
        assertEquals("agent@client.test", m.sender(), "Sender stands in for a missing From");
        assertEquals(List.of("a@local.test", "b@local.test"), m.recipients());
    }

    @Test
    void aCrlfFileIsQueuedByteForByte() throws Exception {
        String file = "From: a@client.test\r\nTo: b@local.test\r\nX-Long: folded\r\n  value\r\n\r\nbody \u00e9\r\n.\r\n";
        assertEquals(file, new String(read(file).queued(), StandardCharsets.UTF_8));
        byte[] crlf = "From: a@client.test\r\nTo: b@local.test\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        assertSame(crlf, HeaderSection.withCrlf(crlf), "nothing to convert, nothing copied");
    }

    @Test
    void whatIsNotAMessageSaysWhy() {
        assertEquals("no header section", reason(""));
        assertTrue(reason("\r\nTo: b@local.test\r\n").startsWith("no header section"));
        assertEquals("line 1 is a continuation line without a header field", reason(" To: b@local.test\r\n\r\n"));
        assertTrue(reason("From: a@client.test\r\nTo b@local.test\r\n\r\n").startsWith("line 2 is not a header field"));
        assertTrue(reason("To: b@local.test\r\n\r\nhi\r\n").startsWith("no sender"));
        assertTrue(reason("From: a@client.test\r\nTo: <b@local.test\r\n\r\n").startsWith("bad address in To"));
        assertTrue(reason("From: a@client.test\r\nTo: bob\r\n\r\n").startsWith("bad address in To: bob"));
        assertTrue(reason("X-Sender: a@client.test, c@client.test\r\nTo: b@local.test\r\n\r\n").startsWith("X-Sender must name exactly one"));
    }

    @Test
    void addressesAreReadAsRcptToReadsThemAndQueuedNormalised() throws Exception {
        PickupMessage m = read("X-Sender: <Alice@Client.TEST.>\r\nX-Receiver: <Bob@LOCAL.test.>\r\nX-Receiver: bob@local.test\r\n"
                + "X-Receiver: Carol <carol@Remote.Test>\r\n\r\n");
        assertEquals("Alice@client.test", m.sender());
        assertEquals(List.of("Bob@local.test", "carol@remote.test"), m.recipients(), "a root dot is the same domain");
        assertEquals(List.of("bob@local.test"), read("From: a@client.test\r\nTo: Bob <bob@local.test.>\r\n\r\n").recipients());
        assertEquals("bad address in X-Receiver: @hop.test:bob@local.test (Source routes are not accepted)",
                reason("X-Sender: a@client.test\r\nX-Receiver: <@hop.test:bob@local.test>\r\n\r\n"));
        assertEquals("bad address in To: bob@-bad.test (Bad domain)", reason("From: a@client.test\r\nTo: bob@-bad.test\r\n\r\n"));
        assertEquals("bad address in From: " + "a".repeat(65) + "@client.test (Local part too long)",
                reason("From: " + "a".repeat(65) + "@client.test\r\nTo: b@local.test\r\n\r\n"));
    }
}
