package io.mailroot.deliverer.local;

import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.Outcome;
import io.mailroot.core.message.Recipient;
import io.mailroot.deliverer.RetrySchedule;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * What becomes of a local message the Drop folder will not take (IIS "Local delay notification" and "Local
 * expiration timeout"): it is tried again until {@code local.delayNotification}, when the sender hears of the delay
 * once, and until {@code local.expirationTimeout}, when it is reported as failed and given up.
 *
 * <p>While the folder takes other messages, the one it refuses waits on the retry topics (as deferred remote mail
 * does, on the {@code retryIntervals} schedule) and comes back through {@code outbound}, where the deliverer hands
 * local recipients to {@code local} again: the messages behind it are written and committed meanwhile. When the
 * folder refuses everything, retrying in place (every second, in order) is what brings them all back soonest.
 *
 * <p>The delay notice is made durable by putting a copy of the record, marked as notified, back on {@code local}
 * and finishing the original: a restart never sends a second notice.
 */
final class LocalFollowups {

    static final String DELAYED = "4.3.0";
    static final String EXPIRED = "5.3.0";

    /**
     * What to do with one message that could not be written.
     *
     * @param resolved true when the record is finished with (its offset may be committed once {@code records} are acked)
     */
    record Decision(boolean resolved, List<ProducerRecord<String, byte[]>> records) {
        static final Decision RETRY = new Decision(false, List.of());
    }

    private final Topics topics;
    private final MailrootConfig.Local limits;
    private final RetrySchedule retries;
    private final Path dropDir;

    LocalFollowups(Topics topics, MailrootConfig.Local limits, RetrySchedule retries, Path dropDir) {
        this.topics = topics;
        this.limits = limits;
        this.retries = retries;
        this.dropDir = dropDir;
    }

    /**
     * @param key the record's key, kept for a copy so it stays on its partition
     * @param since when the message arrived (its age decides)
     * @param othersWritten whether the folder took other messages meanwhile (so this one alone is the problem)
     */
    Decision after(MailRecord mail, String key, String error, Instant since, Instant now, boolean othersWritten) {
        Envelope env = mail.envelope();
        Duration age = Duration.between(since, now);
        String diagnostic = "x-local; cannot write to the Drop folder " + dropDir + ": " + error;
        if (age.compareTo(limits.expirationTimeout()) >= 0) {
            Envelope failed = env.withRecipientsMapped(r -> r.withOutcome(Outcome.failed(EXPIRED,
                    diagnostic + " (gave up after " + limits.expirationTimeout() + ")", null)));
            return new Decision(true, List.of(dsn(failed, mail.message())));
        }
        if (!env.delayNotified() && age.compareTo(limits.delayNotification()) >= 0) {
            List<Recipient> waiting = env.recipients().stream()
                    .map(r -> r.withOutcome(Outcome.delayed(DELAYED, diagnostic, null))).toList();
            Envelope notice = env.withRecipients(waiting);
            Envelope carryOn = env.withAttempt(env.attempt() + 1,
                    env.firstAttemptAt() != null ? env.firstAttemptAt() : since, null, error).withDelayNotified(true);
            return new Decision(true, List.of(dsn(notice, mail.message()),
                    EnvelopeCodec.toRecord(topics.local(), key, new MailRecord(carryOn, mail.message()))));
        }
        if (othersWritten) {
            int attempt = env.attempt() + 1;
            Envelope later = env.withAttempt(attempt, env.firstAttemptAt() != null ? env.firstAttemptAt() : since,
                    now.plus(retries.interval(attempt)), diagnostic);
            return new Decision(true, List.of(EnvelopeCodec.toRecord(topics.retry(retries.level(attempt)), key,
                    new MailRecord(later, mail.message()))));
        }
        return Decision.RETRY;
    }

    private ProducerRecord<String, byte[]> dsn(Envelope env, byte[] message) {
        return EnvelopeCodec.toRecord(topics.dsn(), env.id(), new MailRecord(env, message));
    }
}
