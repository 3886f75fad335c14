package io.mailroot.core.event;

import io.mailroot.core.folder.FileNames;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.Outcome;
import io.mailroot.core.message.Recipient;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;

/**
 * The events the records a role hands on stand for, read from the records themselves: a record on {@code outbound}
 * or {@code local} is a routing, one on a retry topic a deferral, one on {@code dsn} a failure or a delay notice (a
 * success report adds nothing: the delivery is already in the trail). Reading what is actually sent keeps the trail
 * from telling a different story than the queue.
 */
public final class FollowupEvents {

    /** The next hop a trail shows for the Drop folder. */
    public static final String LOCAL = "local";

    private FollowupEvents() {
    }

    public static List<MessageEvent> of(EventLog log, Topics topics, List<ProducerRecord<String, byte[]>> records) {
        return of(log, topics, records, 0);
    }

    /**
     * @param attempt the attempt that led to these records, for failures and delay notices (whose envelopes still
     *     count the attempts before it); 0 to take the envelope's count
     */
    public static List<MessageEvent> of(EventLog log, Topics topics, List<ProducerRecord<String, byte[]>> records,
                                        int attempt) {
        List<MessageEvent> events = new ArrayList<>();
        for (ProducerRecord<String, byte[]> r : records) {
            Header header = r.headers().lastHeader(EnvelopeCodec.HEADER);
            if (header == null) {
                continue;
            }
            Envelope env;
            try {
                env = EnvelopeCodec.decode(header.value());
            } catch (RuntimeException e) {
                continue; // a record the role made itself; should it not read back, the trail misses it, not the mail
            }
            if (r.topic().equals(topics.outbound())) {
                events.add(log.event(MessageEvent.Type.ROUTED, env.id()).recipients(env.recipients()).nextHop(r.key()).build());
            } else if (r.topic().equals(topics.local())) {
                events.add(log.event(MessageEvent.Type.ROUTED, env.id()).recipients(env.recipients()).nextHop(LOCAL).build());
            } else if (topics.anyRetry().matcher(r.topic()).matches()) {
                Outcome first = env.recipients().isEmpty() ? null : env.recipients().get(0).outcome();
                events.add(log.event(MessageEvent.Type.DEFERRED, env.id()).recipients(env.recipients())
                        .nextHop(r.key()).remote(first == null ? null : first.remoteMta())
                        .reply(env.lastError() != null ? env.lastError() : first == null ? null : reply(first.diagnostic()))
                        .attempt(env.attempt()).nextDue(env.nextDueAt()).build());
            } else if (r.topic().equals(topics.dsn())) {
                byOutcome(env).forEach((o, recipients) -> {
                    MessageEvent.Type type = o.action() == Outcome.Action.FAILED ? MessageEvent.Type.FAILED
                            : o.action() == Outcome.Action.DELAYED ? MessageEvent.Type.DELAYED : null;
                    if (type != null) {
                        events.add(log.event(type, env.id()).recipients(recipients)
                                .nextHop(env.nextHop() == null ? null : env.nextHop().key())
                                .remote(o.remoteMta()).reply(reply(o.diagnostic()))
                                .attempt(attempt > 0 ? attempt : env.attempt()).build());
                    }
                });
            }
        }
        return events;
    }

    /**
     * BADMAIL for a record kept because its envelope cannot be read, on topics keyed by message id ({@code inbound},
     * {@code dsn}); nothing for a record without a key.
     *
     * @param name the name it was kept under ({@code Badmail.write}'s id)
     */
    public static List<MessageEvent> malformed(EventLog log, ConsumerRecord<String, byte[]> record, String name) {
        if (record.key() == null || record.key().isBlank()) {
            return List.of();
        }
        return List.of(log.event(MessageEvent.Type.BADMAIL, record.key()).relatedId(FileNames.safe(name) + ".bad")
                .reply("the envelope of the record on " + record.topic() + " cannot be read").build());
    }

    /** Recipients that share one outcome (action, reply and host) make one event. */
    private static Map<Outcome, List<Recipient>> byOutcome(Envelope env) {
        Map<Outcome, List<Recipient>> groups = new LinkedHashMap<>();
        for (Recipient r : env.recipients()) {
            if (r.outcome() != null) {
                groups.computeIfAbsent(new Outcome(r.outcome().action(), r.outcome().status(),
                        r.outcome().diagnostic(), r.outcome().remoteMta()), k -> new ArrayList<>()).add(r);
            }
        }
        return groups;
    }

    /** A Diagnostic-Code without its type: {@code smtp; 550 5.1.1 ...} is shown as the reply it was. */
    public static String reply(String diagnostic) {
        if (diagnostic == null) {
            return null;
        }
        int semi = diagnostic.indexOf("; ");
        return semi > 0 && diagnostic.substring(0, semi).matches("[A-Za-z0-9-]{1,16}") ? diagnostic.substring(semi + 2)
                : diagnostic;
    }
}
