package io.mailroot.core.message;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

class EnvelopeCodecTest {

    private static ConsumerRecord<String, byte[]> asConsumed(ProducerRecord<String, byte[]> p) {
        return new ConsumerRecord<>(p.topic(), 0, 7L, 0L, TimestampType.CREATE_TIME, 0, 0, p.key(), p.value(),
                p.headers(), java.util.Optional.empty());
    }

    @Test
    void everyFieldSurvivesTheRoundTrip() {
        Instant t = Instant.parse("2026-11-28T10:15:30.123Z");
        Envelope e = new Envelope("ID1", "alice@a.test",
                List.of(new Recipient("bob@b.test", Set.of(Recipient.Notify.FAILURE, Recipient.Notify.DELAY),
                                "rfc822;bob@b.test", Outcome.failed("5.1.1", "smtp; 550 5.1.1 no", "mx.b.test")),
                        Recipient.of("carol@b.test")),
                "ENV-9", Envelope.Ret.HDRS, "192.0.2.1", "client.a.test", "helo.a.test", "alice", true,
                "Default SMTP Virtual Server", t, 3, t.plusSeconds(1), t.plusSeconds(900), "451 4.3.0 busy",
                new NextHop("b.test", "smart.example:587", null), true);
        byte[] body = "Subject: x\r\n\r\n\u00e9t\u00e9\r\n".getBytes(StandardCharsets.UTF_8);
        MailRecord back = EnvelopeCodec.fromRecord(asConsumed(EnvelopeCodec.toRecord("t", "b.test", new MailRecord(e, body))));
        assertEquals(e, back.envelope());
        assertArrayEquals(body, back.message());
    }

    @Test
    void nullSenderStaysNull() {
        Envelope e = Envelope.received("ID2", null, List.of(Recipient.of("x@y.test")), Instant.EPOCH);
        Envelope back = EnvelopeCodec.decode(EnvelopeCodec.encode(e));
        assertTrue(back.nullSender());
        assertEquals("", back.sender());
    }

    @Test
    void aRecordWithoutEnvelopeIsReportedAsMalformed() {
        ConsumerRecord<String, byte[]> r = new ConsumerRecord<>("t", 1, 5L, 0L, TimestampType.CREATE_TIME, 0, 0, "k",
                new byte[] {1}, new RecordHeaders(), java.util.Optional.empty());
        var ex = assertThrows(EnvelopeCodec.MalformedRecordException.class, () -> EnvelopeCodec.fromRecord(r));
        assertTrue(ex.getMessage().contains("t-1@5"), ex.getMessage());
    }

    @Test
    void nextHopKeyIsTheDomainOrTheRelay() {
        assertEquals("b.test", NextHop.direct("B.Test").key());
        assertEquals("[smart.example:25]", NextHop.relay("Smart.Example:25").key());
    }

    @Test
    void notifyDecidesWhichOutcomesAreReported() {
        Recipient silent = Recipient.of("a@b.test");
        assertTrue(silent.wantsReport(Outcome.Action.FAILED));
        assertTrue(silent.wantsReport(Outcome.Action.DELAYED));
        assertTrue(!silent.wantsReport(Outcome.Action.DELIVERED));
        Recipient never = new Recipient("a@b.test", Set.of(Recipient.Notify.NEVER), null, null);
        assertTrue(!never.wantsReport(Outcome.Action.FAILED));
        Recipient success = new Recipient("a@b.test", Set.of(Recipient.Notify.SUCCESS), null, null);
        assertTrue(success.wantsReport(Outcome.Action.DELIVERED));
        assertTrue(!success.wantsReport(Outcome.Action.FAILED));
    }
}
