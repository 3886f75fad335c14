package io.mailroot.ingress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.Recipient;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.subethamail.smtp.RejectException;

/** The transaction layer's parts alone: the address parser, ESMTP parameters, the DATA reader, the Received header. */
class TxnPartsTest {

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static MailboxAddress mailbox(String path) throws Exception {
        return MailboxAddress.parse(path);
    }

    @Test
    void mailboxDomainIsFoundByParsingAndNormalised() throws Exception {
        assertEquals(new MailboxAddress("Bob", "local.test"), mailbox("Bob@LOCAL.Test."));
        assertEquals(new MailboxAddress("\"a@remote.test\"", "local.test"), mailbox("\"a@remote.test\"@local.test"));
        assertEquals(new MailboxAddress("a%b", "local.test"), mailbox("a%b@local.test"));
        assertEquals(new MailboxAddress("x!y", "local.test"), mailbox("x!y@local.test"));
        assertEquals("[192.0.2.1]", mailbox("u@[192.0.2.1]").domain());
        assertTrue(mailbox("u@[192.0.2.1]").literal());
        assertTrue(mailbox("u@[IPv6:2001:db8::1]").literal());
        assertFalse(mailbox("u@local.test").literal());
        for (String bad : new String[] {"", "bob", "bob@", "@local.test", "@a:b@c", "a..b@c", ".a@c", "a.@c",
                "a@b..c", "a@-b.c", "a@b.c..", "a@[1.2.3]", "a@[x]", "\"unterminated@c", "a b@c", "a@b@c",
                "\u00e9@c", "a@\u00e9.c", "x".repeat(65) + "@c", "a@" + "b".repeat(64) + ".c"}) {
            assertThrows(MailboxAddress.Invalid.class, () -> mailbox(bad), bad);
        }
    }

    @Test
    void pathArgumentSplitsPathFromParametersBeyondQuotedBrackets() throws Exception {
        assertEquals(new PathArgument("a@b.c", "SIZE=10 BODY=8BITMIME"),
                PathArgument.parse("MAIL FROM:<a@b.c> SIZE=10 BODY=8BITMIME", "MAIL", "FROM:"));
        assertEquals(new PathArgument("", ""), PathArgument.parse("MAIL from: <>", "MAIL", "FROM:"));
        assertEquals(new PathArgument("\"x>y\"@b.c", "NOTIFY=NEVER"),
                PathArgument.parse("RCPT TO:<\"x>y\"@b.c> NOTIFY=NEVER", "RCPT", "TO:"));
        assertEquals(new PathArgument("a@b.c", ""), PathArgument.parse("RCPT TO:a@b.c", "RCPT", "TO:"));
        for (String bad : new String[] {"RCPT TO:<a@b.c", "RCPT TO:<a@b.c>x", "RCPT <a@b.c>", "RCPTTO:<a@b.c>",
                "RCPT TO:<a<b@c>"}) {
            assertThrows(RejectException.class, () -> PathArgument.parse(bad, "RCPT", "TO:"), bad);
        }
    }

    @Test
    void esmtpParametersAreUnderstoodOrRefused() throws Exception {
        EsmtpParameters.Mail mail = EsmtpParameters.mail("SIZE=1000 BODY=8BITMIME RET=HDRS ENVID=QQ+2Bx+3D1 AUTH=<>");
        assertEquals(new EsmtpParameters.Mail(1000, "QQ+x=1", Envelope.Ret.HDRS), mail);
        assertEquals(EsmtpParameters.Mail.NONE, EsmtpParameters.mail(""));
        EsmtpParameters.Rcpt rcpt = EsmtpParameters.rcpt("NOTIFY=SUCCESS,DELAY ORCPT=rfc822;bob+40x@local.test");
        assertEquals(Set.of(Recipient.Notify.SUCCESS, Recipient.Notify.DELAY), rcpt.notifyOn());
        assertEquals("rfc822;bob@x@local.test", rcpt.orcpt());
        assertEquals(Set.of(Recipient.Notify.NEVER), EsmtpParameters.rcpt("notify=never").notifyOn());
        assertEquals("555 5.5.4 Unsupported parameter SMTPUTF8",
                assertThrows(RejectException.class, () -> EsmtpParameters.mail("SMTPUTF8")).getErrorResponse());
        assertEquals(555, assertThrows(RejectException.class, () -> EsmtpParameters.rcpt("SIZE=1")).getCode());
        for (String bad : new String[] {"SIZE=x", "SIZE=", "BODY=BINARYMIME", "RET=ALL", "ENVID=a+zz", "ENVID=a=b",
                "SIZE=1 SIZE=2", "ENVID=" + "x".repeat(101)}) {
            assertEquals(501, assertThrows(RejectException.class, () -> EsmtpParameters.mail(bad), bad).getCode(), bad);
        }
        for (String bad : new String[] {"NOTIFY=NEVER,SUCCESS", "NOTIFY=ALWAYS", "NOTIFY=", "ORCPT=bob@x", "ORCPT=;x"}) {
            assertEquals(501, assertThrows(RejectException.class, () -> EsmtpParameters.rcpt(bad), bad).getCode(), bad);
        }
    }

    /** Reads DATA text the way the session does: from a buffered stream that holds the next commands too. */
    private static DataReader.Body read(String data, int limit, String expectedRest) throws Exception {
        InputStream in = new BufferedInputStream(new ByteArrayInputStream(ascii(data)));
        DataReader.Body body = DataReader.read(in, limit);
        assertEquals(expectedRest, new String(in.readAllBytes(), StandardCharsets.ISO_8859_1));
        return body;
    }

    @Test
    void dataEndsOnlyAtCrLfDotCrLfAndUnstuffs() throws Exception {
        DataReader.Body body = read("Subject: x\r\n\r\n..dot\r\n.\r\nQUIT\r\n", 1000, "QUIT\r\n");
        assertArrayEquals(ascii("Subject: x\r\n\r\n.dot\r\n"), body.bytes());
        assertFalse(body.bareLineEnd() || body.longLine() || body.truncated());
        assertEquals(0, read(".\r\n", 1000, "").bytes().length);
        // through a stream without mark/reset, byte by byte
        InputStream plain = new FilterInputStream(new ByteArrayInputStream(ascii("a\r\n.\r\nNOOP\r\n"))) {
            @Override
            public boolean markSupported() {
                return false;
            }
        };
        assertArrayEquals(ascii("a\r\n"), DataReader.read(plain, 10).bytes());
        assertEquals("NOOP\r\n", new String(plain.readAllBytes(), StandardCharsets.ISO_8859_1));
    }

    @Test
    void smugglingSequencesAreTextNotTheEnd() throws Exception {
        String smuggled = "MAIL FROM:<x@remote.test>\r\nRCPT TO:<y@remote.test>\r\nDATA\r\nevil\r\n";
        for (String fake : new String[] {"\n.\n", "\r.\r", "\r\n.\n", "\n.\r\n", "\r.\r\n", "\r\n.\r", "\n.\r"}) {
            DataReader.Body body = read("Subject: x\r\n\r\nhello" + fake + smuggled + ".\r\nNOOP\r\n", 10_000, "NOOP\r\n");
            assertTrue(body.bareLineEnd(), "bare line end seen in " + fake.replace("\r", "\\r").replace("\n", "\\n"));
            assertTrue(new String(body.bytes(), StandardCharsets.ISO_8859_1).contains("MAIL FROM:<x@remote.test>"));
        }
    }

    @Test
    void sizeLimitStopsStoringButReadsToTheEnd() throws Exception {
        String big = ("x".repeat(98) + "\r\n").repeat(100);
        DataReader.Body body = read(big + ".\r\nRSET\r\n", 1000, "RSET\r\n");
        assertEquals(1000, body.bytes().length);
        assertEquals(10_000, body.size());
        assertTrue(body.truncated());
        DataReader.Body exact = read(big + ".\r\n", 10_000, "");
        assertFalse(exact.truncated());
    }

    @Test
    void textLinesOverOneThousandOctetsAreFlagged() throws Exception {
        assertFalse(read("x".repeat(998) + "\r\n.\r\n", 10_000, "").longLine());
        assertTrue(read("x".repeat(999) + "\r\n.\r\n", 10_000, "").longLine());
        // the stuffing dot is not part of the line
        assertFalse(read("." + ".".repeat(998) + "\r\n.\r\n", 10_000, "").longLine());
    }

    @Test
    void clientGoingAwayInDataIsAnError() {
        assertThrows(EOFException.class, () -> read("Subject: x\r\n\r\nhalf", 1000, ""));
        assertThrows(EOFException.class, () -> read("Subject: x\r\n\n.\n", 1000, ""));
    }

    @Test
    void senderPoliciesFollowTheSessionRules() throws Exception {
        Client anonymous = new Client(InetAddress.getLoopbackAddress(), null, "client.test", null);
        Client alice = new Client(InetAddress.getLoopbackAddress(), null, "client.test", "alice");
        SessionRules strict = new SessionRules(true, true, 1000);
        java.util.function.Function<SenderPolicy.Mail, String> first = mail -> strict.senderPolicies(500).stream()
                .map(p -> p.check(mail)).flatMap(Optional::stream).findFirst().map(SmtpReply::toString).orElse("ok");
        assertEquals("530 5.7.0 Must issue a STARTTLS command first", first.apply(new SenderPolicy.Mail(alice, false, "", -1, 0)));
        assertEquals("530 5.7.0 Authentication required", first.apply(new SenderPolicy.Mail(anonymous, true, "", -1, 0)));
        assertEquals("ok", first.apply(new SenderPolicy.Mail(alice, true, "", 500, 500)));
        assertEquals("552 5.3.4 Message size exceeds fixed limit", first.apply(new SenderPolicy.Mail(alice, true, "", 501, 0)));
        assertEquals("ok", first.apply(new SenderPolicy.Mail(alice, true, "", 500, 999)), "the message may cross the limit");
        assertEquals("421 4.7.0 Session size limit reached, closing connection",
                first.apply(new SenderPolicy.Mail(alice, true, "", -1, 1000)));
        assertEquals(2, SessionRules.NONE.senderPolicies(500).size(), "only the size limits");
    }

    @Test
    void everyWayInPrependsItsReceivedHeaderTheSameWay() {
        byte[] message = "Subject: hi\r\n\r\nbody\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] queued = ReceivedHeader.prependFrom("pickup", "Pickup", "relay.test", "ID1",
                java.time.Instant.parse("2026-11-28T17:05:09Z"), message);
        assertEquals("Received: from pickup by relay.test (Mailroot) with Pickup id ID1;\r\n"
                + "\tSat, 28 Nov 2026 17:05:09 +0000\r\nSubject: hi\r\n\r\nbody\r\n",
                new String(queued, java.nio.charset.StandardCharsets.US_ASCII));
        assertEquals(1, ReceivedHeader.count(queued));
        assertEquals("X: y\r\nbody", new String(ReceivedHeader.prepend("X: y\r\n", "body".getBytes(java.nio.charset.StandardCharsets.US_ASCII)),
                java.nio.charset.StandardCharsets.US_ASCII));
    }

    @Test
    void receivedHeaderNamesProtocolAndVerdict() throws Exception {
        ZonedDateTime at = ZonedDateTime.of(2026, 11, 28, 17, 5, 9, 0, ZoneOffset.UTC);
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        assertEquals("SMTP", ReceivedHeader.protocol(false, false, false));
        assertEquals("ESMTP", ReceivedHeader.protocol(true, false, false));
        assertEquals("ESMTPS", ReceivedHeader.protocol(true, true, false));
        assertEquals("ESMTPA", ReceivedHeader.protocol(true, false, true));
        assertEquals("ESMTPSA", ReceivedHeader.protocol(true, true, true));
        Client liar = new Client(loopback, "localhost", "mail.example.com", null);
        assertEquals("Received: from mail.example.com (localhost [127.0.0.1] unverified)\r\n"
                + "\tby relay.test (Mailroot) with ESMTPSA id ID1;\r\n"
                + "\tSat, 28 Nov 2026 17:05:09 +0000\r\n",
                ReceivedHeader.format(liar, true, "ESMTPSA", "relay.test", "ID1", at));
        Client honest = new Client(loopback, "localhost.", "LOCALHOST", null);
        assertTrue(ReceivedHeader.format(honest, true, "SMTP", "relay.test", "ID1", at)
                .startsWith("Received: from LOCALHOST (localhost. [127.0.0.1])\r\n\tby relay.test (Mailroot) with SMTP id"));
        Client literal = new Client(loopback, null, "[127.0.0.1]", null);
        assertTrue(ReceivedHeader.format(literal, true, "ESMTP", "relay.test", "ID1", at)
                .startsWith("Received: from [127.0.0.1] (unknown [127.0.0.1])\r\n"));
        Client nameless = new Client(loopback, null, "client.test", null);
        assertTrue(ReceivedHeader.format(nameless, true, "ESMTP", "relay.test", "ID1", at)
                .startsWith("Received: from client.test (unknown [127.0.0.1] unverified)\r\n"));
        // without the lookup there is no verdict to give
        assertTrue(ReceivedHeader.format(nameless, false, "ESMTP", "relay.test", "ID1", at)
                .startsWith("Received: from client.test (unknown [127.0.0.1])\r\n"));
        assertNull(nameless.authIdentity());
    }

    @Test
    void receivedHeaderForPickupAndHttp() throws Exception {
        ZonedDateTime at = ZonedDateTime.of(2026, 11, 28, 17, 5, 9, 0, ZoneOffset.UTC);
        assertEquals("Received: from pickup by relay.test (Mailroot) with Pickup id ID1;\r\n\tSat, 28 Nov 2026 17:05:09 +0000\r\n",
                ReceivedHeader.from("pickup", "Pickup", "relay.test", "ID1", at));
        assertEquals("Received: from [IPv6:0:0:0:0:0:0:0:1] by relay.test (Mailroot) with HTTP id ID2;\r\n\tSat, 28 Nov 2026 17:05:09 +0000\r\n",
                ReceivedHeader.from(Client.addressLiteral(InetAddress.getByName("::1")), "HTTP", "relay.test", "ID2", at));
    }
}
