package io.mailroot.deliverer.smtp;

import static io.mailroot.deliverer.TestServerData.withoutTracing;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.Recipient;
import io.mailroot.testkit.ScriptedSmtpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SmtpSessionTest {

    private ScriptedSmtpServer server;
    private final SmtpClient client = new SmtpClient("relay.test", Duration.ofSeconds(10));

    @BeforeEach
    void start() {
        server = new ScriptedSmtpServer();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private static Envelope envelope(String sender, String... to) {
        return Envelope.received("ID1", sender, List.of(to).stream().map(Recipient::of).toList(), Instant.now());
    }

    @Test
    void sendsTheBytesUnchangedThroughDotStuffing() throws Exception {
        byte[] message = ("Subject: dots\r\n\r\n.starts with a dot\r\n..two dots\r\n.\r\nnot the end\r\n"
                + "caf\u00e9 in 8 bit\r\n").getBytes(StandardCharsets.UTF_8);
        try (SmtpSession s = client.connect("mx.test", InetAddress.getLoopbackAddress(), server.port())) {
            List<RecipientReply> replies = s.send(envelope("alice@sender.test", "bob@remote.test"),
                    envelope("x", "bob@remote.test").recipients(), message);

            assertTrue(replies.get(0).accepted(), replies.toString());
            assertTrue(s.supports("8BITMIME"));
        }
        ScriptedSmtpServer.Received got = server.received().get(0);
        assertArrayEquals(message, withoutTracing(got.data()));
        assertEquals("alice@sender.test", got.from());
        assertEquals(List.of("bob@remote.test"), got.recipients());
        assertEquals("relay.test", got.helo());
    }

    @Test
    void aMessageWithoutFinalLineBreakGetsOne() throws Exception {
        byte[] message = "Subject: x\r\n\r\nno newline".getBytes(StandardCharsets.US_ASCII);
        try (SmtpSession s = client.connect("mx.test", InetAddress.getLoopbackAddress(), server.port())) {
            s.send(envelope("a@s.test", "b@r.test"), envelope("", "b@r.test").recipients(), message);
        }
        assertEquals("Subject: x\r\n\r\nno newline\r\n",
                new String(withoutTracing(server.received().get(0).data()), StandardCharsets.US_ASCII));
    }

    @Test
    void eachRecipientGetsItsOwnReplyAndTheSessionCarriesSeveralMessages() throws Exception {
        server.rejectRecipients(r -> r.startsWith("nobody"), "550 5.1.1 no such user");
        server.dataReplies("250", "451 4.3.0 busy");
        Envelope env = envelope("", "bob@remote.test", "nobody@remote.test");
        byte[] message = "Subject: hi\r\n\r\nhello\r\n".getBytes(StandardCharsets.US_ASCII);
        try (SmtpSession s = client.connect("mx.test", InetAddress.getLoopbackAddress(), server.port())) {
            List<RecipientReply> first = s.send(env, env.recipients(), message);
            List<RecipientReply> second = s.send(env, env.recipients(), message);
            List<RecipientReply> third = s.send(env, List.of(env.recipients().get(1)), message);
            List<RecipientReply> fourth = s.send(env, List.of(env.recipients().get(0)), message);

            assertTrue(first.get(0).accepted());
            assertEquals("5.1.1", first.get(1).reply().status());
            assertEquals(550, first.get(1).reply().code());
            assertEquals("4.3.0", second.get(0).reply().status(), "the DATA reply belongs to accepted recipients");
            assertEquals("5.1.1", second.get(1).reply().status());
            assertEquals(550, third.get(0).reply().code(), "no DATA when nobody was accepted");
            assertTrue(fourth.get(0).accepted(), "the session is reset and usable after a refused transaction");
            assertEquals(4, s.transactions());
        }
        assertEquals(2, server.received().size());
        assertEquals("", server.received().get(0).from());
    }

    @Test
    void aReplyWithoutEnhancedStatusGetsItsClass() {
        assertEquals("5.0.0", new SmtpReply(554, List.of("go away")).status());
        assertEquals("4.0.0", new SmtpReply(421, List.of("5.1.1 mismatched class")).status());
        assertEquals("4.7.1", new SmtpReply(450, List.of("4.7.1 greylisted", "come back later")).status());
        assertEquals("450 4.7.1 greylisted come back later",
                new SmtpReply(450, List.of("4.7.1 greylisted", "come back later")).text());
    }

    @Test
    void aServerThatNeverGreetsTimesOut() throws Exception {
        try (ServerSocket silent = new ServerSocket()) {
            silent.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            SmtpClient impatient = new SmtpClient("relay.test", Duration.ofMillis(300));
            long start = System.nanoTime();
            Exception e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
                    () -> impatient.connect("slow.test", InetAddress.getLoopbackAddress(), silent.getLocalPort()));
            assertTrue(Duration.ofNanos(System.nanoTime() - start).compareTo(Duration.ofSeconds(5)) < 0, e.toString());
        }
    }

    @Test
    void xtextEscapesPlusEqualsAndControls() {
        assertEquals("a+2Bb+3Dc+20d", SmtpSession.xtext("a+b=c d"));
        assertFalse(SmtpSession.xtext("x@y.test").contains("+"));
    }
}
