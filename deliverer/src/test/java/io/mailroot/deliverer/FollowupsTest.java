package io.mailroot.deliverer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.NextHop;
import io.mailroot.core.message.Outcome;
import io.mailroot.core.message.Recipient;
import io.mailroot.deliverer.DeliveryResult.Verdict;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;

class FollowupsTest {

    private static final Topics TOPICS = new Topics("m.", 4);
    private static final Instant NOW = Instant.parse("2026-01-01T12:00:00Z");
    private static final NextHop HOP = NextHop.direct("remote.test");
    private static final byte[] BYTES = "Subject: x\r\n\r\nbody\r\n".getBytes();

    private final Followups followups = new Followups(TOPICS, new RetrySchedule(
            List.of(Duration.ofMinutes(15), Duration.ofMinutes(30), Duration.ofMinutes(60), Duration.ofMinutes(240)),
            Duration.ofHours(12), Duration.ofDays(2), 4));

    private final Recipient bob = Recipient.of("bob@remote.test");
    private final Recipient carol = Recipient.of("carol@remote.test");
    private final Recipient dave = Recipient.of("dave@remote.test");

    private MailRecord mail(Envelope env) {
        return new MailRecord(env.withNextHop(HOP), BYTES);
    }

    private static Envelope envelope(List<Recipient> to) {
        return Envelope.received("M1", "alice@sender.test", to, NOW.minusSeconds(60));
    }

    private static Envelope decode(ProducerRecord<String, byte[]> r) {
        Header h = r.headers().lastHeader(EnvelopeCodec.HEADER);
        return EnvelopeCodec.decode(h.value());
    }

    @Test
    void eachVerdictGoesItsOwnWay() {
        List<DeliveryResult> results = List.of(
                new DeliveryResult(bob, Verdict.DELIVERED, "2.0.0", "250 ok", "mx.remote.test"),
                new DeliveryResult(carol, Verdict.FAILED, "5.1.1", "550 5.1.1 no such user", "mx.remote.test"),
                DeliveryResult.deferred(dave, "4.3.0", "451 4.3.0 busy", "mx.remote.test"));

        List<ProducerRecord<String, byte[]>> out = followups.after(mail(envelope(List.of(bob, carol, dave))), HOP,
                results, NOW);

        assertEquals(2, out.size());
        ProducerRecord<String, byte[]> retry = out.stream().filter(r -> r.topic().equals("m.retry.1")).findFirst().orElseThrow();
        ProducerRecord<String, byte[]> dsn = out.stream().filter(r -> r.topic().equals("m.dsn")).findFirst().orElseThrow();
        assertEquals("remote.test", retry.key());
        Envelope r = decode(retry);
        assertEquals(List.of("dave@remote.test"), r.recipients().stream().map(Recipient::address).toList());
        assertEquals(1, r.attempt());
        assertEquals(NOW, r.firstAttemptAt());
        assertEquals(NOW.plus(Duration.ofMinutes(15)), r.nextDueAt());
        assertEquals("451 4.3.0 busy", r.lastError());
        assertEquals(BYTES, retry.value());

        assertEquals("M1", dsn.key());
        Envelope d = decode(dsn);
        assertEquals(List.of("carol@remote.test"), d.recipients().stream().map(Recipient::address).toList());
        assertEquals(Outcome.failed("5.1.1", "smtp; 550 5.1.1 no such user", "mx.remote.test"),
                d.recipients().get(0).outcome());
    }

    @Test
    void afterTheLastIntervalRetriesStayOnTheLastLevel() {
        Envelope third = envelope(List.of(bob)).withAttempt(6, NOW.minus(Duration.ofHours(10)), NOW, "451 busy")
                .withDelayNotified(false);

        List<ProducerRecord<String, byte[]>> out = followups.after(mail(third), HOP,
                List.of(DeliveryResult.deferred(bob, "4.3.0", "451 4.3.0 still busy", "mx")), NOW);

        assertEquals(1, out.size());
        assertEquals("m.retry.4", out.get(0).topic());
        Envelope r = decode(out.get(0));
        assertEquals(7, r.attempt());
        assertEquals(NOW.minus(Duration.ofHours(10)), r.firstAttemptAt());
        assertEquals(NOW.plus(Duration.ofMinutes(240)), r.nextDueAt());
    }

    @Test
    void theSenderHearsOfADelayOnce() {
        Envelope late = envelope(List.of(bob)).withAttempt(5, NOW.minus(Duration.ofHours(13)), NOW, "451 busy");
        List<DeliveryResult> deferred = List.of(DeliveryResult.deferred(bob, "4.3.0", "451 4.3.0 busy", "mx"));

        List<ProducerRecord<String, byte[]>> first = followups.after(mail(late), HOP, deferred, NOW);

        assertEquals(List.of("m.dsn", "m.retry.4"), first.stream().map(ProducerRecord::topic).sorted().toList());
        Envelope notice = decode(first.stream().filter(r -> r.topic().equals("m.dsn")).findFirst().orElseThrow());
        assertEquals(Outcome.Action.DELAYED, notice.recipients().get(0).outcome().action());
        Envelope retry = decode(first.stream().filter(r -> r.topic().equals("m.retry.4")).findFirst().orElseThrow());
        assertTrue(retry.delayNotified());

        List<ProducerRecord<String, byte[]>> again = followups.after(mail(retry), HOP, deferred, NOW.plusSeconds(60));
        assertEquals(List.of("m.retry.4"), again.stream().map(ProducerRecord::topic).toList());
    }

    @Test
    void anExpiredMessageIsReportedAsFailed() {
        Envelope old = envelope(List.of(bob)).withAttempt(20, NOW.minus(Duration.ofDays(2)), NOW, "451 busy")
                .withDelayNotified(true);

        List<ProducerRecord<String, byte[]>> out = followups.after(mail(old), HOP,
                List.of(DeliveryResult.deferred(bob, "4.4.1", "connect to mx failed", "mx.remote.test")), NOW);

        assertEquals(1, out.size());
        assertEquals("m.dsn", out.get(0).topic());
        assertEquals(Outcome.failed("4.4.7", "smtp; connect to mx failed", "mx.remote.test"),
                decode(out.get(0)).recipients().get(0).outcome());
    }

    @Test
    void successAtAHopWithoutDsnIsReportedAsRelayedOnlyWhenAsked() {
        Recipient asks = new Recipient("erin@remote.test", java.util.Set.of(Recipient.Notify.SUCCESS), null, null);
        List<DeliveryResult> results = List.of(
                new DeliveryResult(asks, Verdict.RELAYED, "2.0.0", "250 ok", "mx.remote.test"),
                new DeliveryResult(bob, Verdict.RELAYED, "2.0.0", "250 ok", "mx.remote.test"));

        List<ProducerRecord<String, byte[]>> out = followups.after(mail(envelope(List.of(asks, bob))), HOP, results, NOW);

        assertEquals(1, out.size());
        assertEquals("m.dsn", out.get(0).topic());
        Envelope report = decode(out.get(0));
        assertEquals(List.of("erin@remote.test"), report.recipients().stream().map(Recipient::address).toList());
        assertEquals(new Outcome(Outcome.Action.RELAYED, "2.0.0", "smtp; 250 ok", "mx.remote.test"),
                report.recipients().get(0).outcome());
    }

    @Test
    void aDeliveredMessageNeedsNothingMore() {
        assertTrue(followups.after(mail(envelope(List.of(bob))), HOP,
                List.of(new DeliveryResult(bob, Verdict.DELIVERED, "2.0.0", "250 ok", "mx")), NOW).isEmpty());
    }

    @Test
    void recipientsInALocalDomainGoToLocalDeliveryAndNowhereElse() {
        Recipient stray = Recipient.of("stray@local.test");
        List<DeliveryResult> results = List.of(
                new DeliveryResult(bob, Verdict.DELIVERED, "2.0.0", "250 ok", "mx.remote.test"),
                new DeliveryResult(stray, Verdict.LOCAL, "2.0.0", "local domain local.test", null));

        List<ProducerRecord<String, byte[]>> out = followups.after(mail(envelope(List.of(bob, stray))), HOP,
                results, NOW);

        assertEquals(1, out.size());
        assertEquals(TOPICS.local(), out.get(0).topic());
        assertEquals("local.test", out.get(0).key());
        assertEquals(List.of("stray@local.test"),
                decode(out.get(0)).recipients().stream().map(Recipient::address).toList());
        assertEquals(BYTES, out.get(0).value());
    }

    @Test
    void aSharedRelayRecordRetriesOnItsShardAndReportsEachDomainsFailure() {
        NextHop relay = NextHop.relay("smart.test:2525").sharded("M1", 6);
        Recipient far = Recipient.of("ann@far.test");
        Recipient near = Recipient.of("ben@near.test");
        MailRecord mail = new MailRecord(envelope(List.of(bob, far, near)).withNextHop(relay), BYTES);
        List<DeliveryResult> results = List.of(
                DeliveryResult.deferred(bob, "4.3.0", "451 4.3.0 busy", "smart.test"),
                DeliveryResult.deferred(far, "4.3.0", "451 4.3.0 busy", "smart.test"),
                new DeliveryResult(near, Verdict.FAILED, "5.1.1", "550 5.1.1 no such user", "smart.test"));

        List<ProducerRecord<String, byte[]>> out = followups.after(mail, relay, results, NOW);

        ProducerRecord<String, byte[]> retry = out.stream().filter(r -> r.topic().equals("m.retry.1")).findFirst().orElseThrow();
        assertEquals("[smart.test:2525]#" + NextHop.shardOf("M1", 6), retry.key(), "the retry keeps the message's shard");
        assertEquals(relay, decode(retry).nextHop());
        assertEquals(List.of("bob@remote.test", "ann@far.test"),
                decode(retry).recipients().stream().map(Recipient::address).toList());
        ProducerRecord<String, byte[]> dsn = out.stream().filter(r -> r.topic().equals("m.dsn")).findFirst().orElseThrow();
        assertEquals("M1", dsn.key());
        assertEquals(List.of("ben@near.test"), decode(dsn).recipients().stream().map(Recipient::address).toList());
    }
}
