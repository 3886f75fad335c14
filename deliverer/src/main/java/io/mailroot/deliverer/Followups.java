package io.mailroot.deliverer;

import io.mailroot.core.kafka.LocalRecord;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.NextHop;
import io.mailroot.core.message.Outcome;
import io.mailroot.core.message.Recipient;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Turns the results of one attempt into the records that carry the unfinished part on: failures (and expired
 * deferrals) to {@code dsn}, deferrals to the next {@code retry.N}, a delay notice when one is due, and recipients
 * in local domains to {@code local}.
 * Delivered recipients need nothing more, unless they asked to hear of success from a hop that cannot tell them.
 */
public final class Followups {

    private static final String EXPIRED = "4.4.7";

    private final Topics topics;
    private final RetrySchedule schedule;

    public Followups(Topics topics, RetrySchedule schedule) {
        this.topics = topics;
        this.schedule = schedule;
    }

    public List<ProducerRecord<String, byte[]>> after(MailRecord mail, NextHop hop, List<DeliveryResult> results,
                                                      Instant now) {
        Envelope env = mail.envelope();
        List<Recipient> failed = new ArrayList<>();
        List<Recipient> relayed = new ArrayList<>();
        List<DeliveryResult> deferred = new ArrayList<>();
        List<Recipient> local = new ArrayList<>();
        for (DeliveryResult r : results) {
            switch (r.verdict()) {
                case DELIVERED -> { }
                case RELAYED -> {
                    // NOTIFY=SUCCESS met a hop that will not report: we say it was relayed (RFC 3461 6.2.2).
                    if (r.recipient().wantsReport(Outcome.Action.RELAYED)) {
                        relayed.add(r.recipient().withOutcome(
                                new Outcome(Outcome.Action.RELAYED, r.status(), "smtp; " + r.reply(), r.remoteHost())));
                    }
                }
                case FAILED -> failed.add(r.recipient().withOutcome(
                        Outcome.failed(r.status(), "smtp; " + r.reply(), r.remoteHost())));
                case DEFERRED -> deferred.add(r);
                case LOCAL -> local.add(r.recipient());
            }
        }
        List<ProducerRecord<String, byte[]>> out = new ArrayList<>();
        if (!deferred.isEmpty()) {
            Instant first = env.firstAttemptAt() != null ? env.firstAttemptAt() : now;
            Duration waited = Duration.between(first, now);
            String lastError = deferred.get(0).reply();
            if (waited.compareTo(schedule.expiration()) >= 0) {
                for (DeliveryResult r : deferred) {
                    failed.add(r.recipient().withOutcome(Outcome.failed(EXPIRED, "smtp; " + r.reply(), r.remoteHost())));
                }
            } else {
                int attempt = env.attempt() + 1;
                List<Recipient> waiting = deferred.stream().map(r -> r.recipient().withOutcome(
                        Outcome.delayed(r.status(), "smtp; " + r.reply(), r.remoteHost()))).toList();
                Envelope retry = env.withRecipients(waiting)
                        .withAttempt(attempt, first, now.plus(schedule.interval(attempt)), lastError);
                if (!env.delayNotified() && waited.compareTo(schedule.delayNotification()) >= 0) {
                    out.add(dsn(env.withRecipients(waiting), mail.message()));
                    retry = retry.withDelayNotified(true);
                }
                out.add(EnvelopeCodec.toRecord(topics.retry(schedule.level(attempt)), hop.key(),
                        new MailRecord(retry, mail.message())));
            }
        }
        if (!local.isEmpty()) {
            out.add(LocalRecord.of(topics, env, local, mail.message()));
        }
        if (!failed.isEmpty()) {
            out.add(dsn(env.withRecipients(failed), mail.message()));
        }
        if (!relayed.isEmpty()) {
            out.add(dsn(env.withRecipients(relayed), mail.message()));
        }
        return out;
    }

    private ProducerRecord<String, byte[]> dsn(Envelope env, byte[] message) {
        return EnvelopeCodec.toRecord(topics.dsn(), env.id(), new MailRecord(env, message));
    }
}
