package io.mailroot.deliverer.control;

import io.mailroot.core.control.ControlAction;
import io.mailroot.core.control.ControlAction.Verb;
import io.mailroot.core.event.EventCodec;
import io.mailroot.core.event.MessageEvent;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.Outcome;
import io.mailroot.core.message.Recipient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntFunction;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * What an operator's action makes of one queued record: the records to write instead of (or before) what the role
 * would do. A held record is parked on a retry topic with a {@value #HELD_HEADER} header naming the hold, and
 * re-parked at the end of its topic each time it comes due while the hold lasts, so it never stops the records
 * behind it. Each action's event goes to {@code events} once per message (in this process's memory; a replay after
 * a crash may write it again).
 */
public final class ControlEffects {

    /** On a record parked by a hold: the hold action's id. */
    public static final String HELD_HEADER = "mailroot-held";
    static final String DELETED = "5.0.0";
    static final String EXPIRED = "4.4.7";
    private static final int REMEMBERED_EVENTS = 100_000;

    private final ControlBoard board;
    private final Topics topics;
    /** How long a held record waits on retry level n before it is looked at again. */
    private final IntFunction<Duration> parkFor;
    private final String node;
    private final String role;
    private final Set<String> eventsWritten = ConcurrentHashMap.newKeySet();

    public ControlEffects(ControlBoard board, Topics topics, IntFunction<Duration> parkFor, String node, String role) {
        this.board = board;
        this.topics = topics;
        this.parkFor = parkFor;
        this.node = node;
        this.role = role;
    }

    public ControlBoard board() {
        return board;
    }

    /** The hold that parked this record, or null. */
    public static String heldBy(ConsumerRecord<String, byte[]> r) {
        Header h = r.headers().lastHeader(HELD_HEADER);
        return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    /**
     * For a record on {@code outbound}: the records to write instead of delivering it, or null to deliver it (no
     * action, or one that only hurries mail already being delivered).
     */
    public List<ProducerRecord<String, byte[]>> onOutbound(ConsumerRecord<String, byte[]> r, MailRecord mail,
                                                           Instant now) {
        String heldBy = heldBy(r);
        ControlAction a = board.actionFor(mail.envelope(), Instant.ofEpochMilli(r.timestamp()), heldBy);
        if (a == null) {
            return null;
        }
        return switch (a.verb()) {
            case DELETE -> deleted(mail, a, now);
            case EXPIRE -> expired(mail, a, now);
            case HOLD -> parked(r, mail, a, topics.retry(1), 1, now, !a.id().equals(heldBy));
            case RELEASE, RETRY_NOW -> null;
        };
    }

    /**
     * For a record on a {@code retry.N} topic: the records to write instead of what the retry role would do (wait
     * until due, then put it back on {@code outbound}), or null for that.
     *
     * @param due whether the record's own time has come
     * @param ahead whether it is read ahead of the partition's position: a record already held is then left alone
     */
    public List<ProducerRecord<String, byte[]>> onRetry(ConsumerRecord<String, byte[]> r, MailRecord mail, Instant now,
                                                        boolean due, boolean ahead) {
        String heldBy = heldBy(r);
        ControlAction a = board.actionFor(mail.envelope(), Instant.ofEpochMilli(r.timestamp()), heldBy);
        if (a == null) {
            return null;
        }
        return switch (a.verb()) {
            case DELETE -> deleted(mail, a, now);
            case EXPIRE -> expired(mail, a, now);
            case HOLD -> {
                if (heldBy != null && (ahead || !due)) {
                    yield null;
                }
                yield parked(r, mail, a, r.topic(), level(r.topic()), now, heldBy == null);
            }
            case RELEASE, RETRY_NOW -> dueNow(r, mail, a, now);
        };
    }

    private List<ProducerRecord<String, byte[]>> deleted(MailRecord mail, ControlAction a, Instant now) {
        List<ProducerRecord<String, byte[]>> out = new ArrayList<>();
        if (a.withReport()) {
            out.add(failed(mail, Outcome.failed(DELETED, "x-mailroot; " + DELETED + " deleted by the operator", null)));
        }
        event(out, mail, MessageEvent.Type.DELETED, a, now,
                a.withReport() ? "with a report to the sender" : "without a report");
        return out;
    }

    private List<ProducerRecord<String, byte[]>> expired(MailRecord mail, ControlAction a, Instant now) {
        Envelope env = mail.envelope();
        String diagnostic = env.lastError() != null ? "smtp; " + env.lastError()
                : "x-mailroot; " + EXPIRED + " expired by the operator";
        List<ProducerRecord<String, byte[]>> out = new ArrayList<>();
        out.add(failed(mail, Outcome.failed(EXPIRED, diagnostic, null)));
        event(out, mail, MessageEvent.Type.EXPIRED, a, now, null);
        return out;
    }

    /** A failure record for every recipient of the record, as Followups writes one after a 5xx or expiry. */
    private ProducerRecord<String, byte[]> failed(MailRecord mail, Outcome outcome) {
        Envelope env = mail.envelope();
        List<Recipient> failed = env.recipients().stream().map(rc -> rc.withOutcome(outcome)).toList();
        return EnvelopeCodec.toRecord(topics.dsn(), env.id(), new MailRecord(env.withRecipients(failed), mail.message()));
    }

    private List<ProducerRecord<String, byte[]>> parked(ConsumerRecord<String, byte[]> r, MailRecord mail,
                                                        ControlAction hold, String topic, int level, Instant now,
                                                        boolean newlyHeld) {
        Envelope env = mail.envelope();
        Instant recheck = now.plus(parkFor.apply(level));
        Envelope parked = env.withAttempt(env.attempt(), env.firstAttemptAt(), recheck, env.lastError());
        ProducerRecord<String, byte[]> rec = EnvelopeCodec.toRecord(topic, r.key(), new MailRecord(parked, mail.message()));
        rec.headers().add(new RecordHeader(HELD_HEADER, hold.id().getBytes(StandardCharsets.UTF_8)));
        List<ProducerRecord<String, byte[]>> out = new ArrayList<>();
        out.add(rec);
        if (newlyHeld) {
            event(out, mail, MessageEvent.Type.HELD, hold, now, null);
        }
        return out;
    }

    private List<ProducerRecord<String, byte[]>> dueNow(ConsumerRecord<String, byte[]> r, MailRecord mail,
                                                        ControlAction a, Instant now) {
        Envelope env = mail.envelope();
        Envelope due = env.withAttempt(env.attempt(), env.firstAttemptAt(), now, env.lastError());
        List<ProducerRecord<String, byte[]>> out = new ArrayList<>();
        // Fresh headers: the hold's mark stays behind.
        out.add(EnvelopeCodec.toRecord(topics.outbound(), r.key(), new MailRecord(due, mail.message())));
        event(out, mail, a.verb() == Verb.RELEASE ? MessageEvent.Type.RELEASED : MessageEvent.Type.RETRY_NOW, a, now,
                null);
        return out;
    }

    private void event(List<ProducerRecord<String, byte[]>> out, MailRecord mail, MessageEvent.Type type,
                       ControlAction a, Instant now, String more) {
        Envelope env = mail.envelope();
        if (eventsWritten.size() > REMEMBERED_EVENTS) {
            eventsWritten.clear();
        }
        if (!eventsWritten.add(a.id() + "/" + env.id() + "/" + type)) {
            return;
        }
        String detail = a.verb().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-') + " by "
                + (a.operator() == null ? "the operator" : a.operator()) + " (action " + a.id() + ")"
                + (more == null ? "" : ", " + more);
        MessageEvent e = new MessageEvent(env.id(), type, now, node, role, env.sender(),
                env.recipients().stream().map(Recipient::address).toList(), mail.message().length, null,
                env.nextHop() == null ? null : env.nextHop().key(), null, null, env.attempt(), null, null, detail);
        out.add(EventCodec.toRecord(topics.events(), e));
    }

    /** The level of a {@code retry.N} topic: N. */
    static int level(String topic) {
        int dot = topic.lastIndexOf('.');
        try {
            return Math.max(1, Integer.parseInt(topic.substring(dot + 1)));
        } catch (NumberFormatException e) {
            return 1;
        }
    }
}
