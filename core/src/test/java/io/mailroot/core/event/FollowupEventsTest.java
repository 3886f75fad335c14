package io.mailroot.core.event;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mailroot.core.event.MessageEvent.Type;
import io.mailroot.core.kafka.LocalRecord;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.NextHop;
import io.mailroot.core.message.Outcome;
import io.mailroot.core.message.Recipient;
import java.time.Instant;
import java.util.List;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/** The trail tells what the records a role sends say, one event per kind of outcome. */
class FollowupEventsTest {

    private static final Topics TOPICS = new Topics("p.", 2);
    private static final EventLog LOG = new EventLog(() -> null, TOPICS.events(), "node-a", "deliverer");
    private static final Instant NOW = Instant.parse("2026-12-03T10:00:00Z");
    private static final byte[] BYTES = "Subject: x\r\n\r\nx\r\n".getBytes();

    private static Envelope envelope(Recipient... r) {
        return Envelope.received("M1", "a@example.org", List.of(r), NOW).withNextHop(NextHop.direct("example.net"));
    }

    private static ProducerRecord<String, byte[]> record(String topic, String key, Envelope e) {
        return EnvelopeCodec.toRecord(topic, key, new MailRecord(e, BYTES));
    }

    @Test
    void eachRecordBecomesTheEventItStandsFor() {
        Recipient b = Recipient.of("b@example.net");
        Recipient c = Recipient.of("c@example.net");
        Recipient local = Recipient.of("l@example.org");
        Envelope retry = envelope(b.withOutcome(Outcome.delayed("4.7.1", "smtp; 451 4.7.1 greylisted", "mx.example.net")))
                .withAttempt(2, NOW, NOW.plusSeconds(600), "451 4.7.1 greylisted");
        Envelope notice = envelope(b.withOutcome(Outcome.delayed("4.7.1", "smtp; 451 4.7.1 greylisted", "mx.example.net")));
        Envelope failed = envelope(c.withOutcome(Outcome.failed("5.1.1", "smtp; 550 5.1.1 no such user", "mx.example.net")));
        Envelope relayed = envelope(c.withOutcome(new Outcome(Outcome.Action.RELAYED, "2.0.0", "smtp; 250 ok", "mx")));
        List<MessageEvent> events = FollowupEvents.of(LOG, TOPICS, List.of(
                record(TOPICS.outbound(), "example.net#1", envelope(b)),
                LocalRecord.of(TOPICS, envelope(), List.of(local), BYTES),
                record(TOPICS.retry(2), "example.net", retry),
                record(TOPICS.dsn(), "M1", notice),
                record(TOPICS.dsn(), "M1", failed),
                record(TOPICS.dsn(), "M1", relayed)), 3);
        assertEquals(List.of(Type.ROUTED, Type.ROUTED, Type.DEFERRED, Type.DELAYED, Type.FAILED),
                events.stream().map(MessageEvent::type).toList(), "a success report adds nothing");
        assertEquals("example.net#1", events.get(0).nextHop());
        assertEquals("local", events.get(1).nextHop());
        assertEquals(List.of("l@example.org"), events.get(1).recipients());
        MessageEvent deferred = events.get(2);
        assertEquals(2, deferred.attempt(), "a retry record counts its own attempts");
        assertEquals(NOW.plusSeconds(600), deferred.nextDue());
        assertEquals("451 4.7.1 greylisted", deferred.reply());
        assertEquals("mx.example.net", deferred.remote());
        assertEquals(3, events.get(3).attempt(), "a notice or failure takes the attempt that led to it");
        assertEquals("550 5.1.1 no such user", events.get(4).reply(), "the diagnostic's type is not shown");
        assertEquals(List.of("c@example.net"), events.get(4).recipients());
        events.forEach(e -> assertEquals("M1", e.messageId()));
        events.forEach(e -> assertEquals("node-a", e.node()));
    }

    @Test
    void recipientsWithOneOutcomeShareAnEventAndOthersGetTheirOwn() {
        Outcome unknown = Outcome.failed("5.1.1", "smtp; 550 5.1.1 no such user", "mx");
        Outcome full = Outcome.failed("5.2.2", "smtp; 552 5.2.2 mailbox full", "mx");
        Envelope e = envelope(Recipient.of("a@x.test").withOutcome(unknown), Recipient.of("b@x.test").withOutcome(full),
                Recipient.of("c@x.test").withOutcome(unknown));
        List<MessageEvent> events = FollowupEvents.of(LOG, TOPICS, List.of(record(TOPICS.dsn(), "M1", e)));
        assertEquals(2, events.size());
        assertEquals(List.of("a@x.test", "c@x.test"), events.get(0).recipients());
        assertEquals(List.of("b@x.test"), events.get(1).recipients());
    }
}
