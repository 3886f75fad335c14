package io.mailroot.deliverer;

import io.mailroot.core.event.EventLog;
import io.mailroot.core.event.FollowupEvents;
import io.mailroot.core.event.MessageEvent;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.NextHop;
import io.mailroot.core.message.Recipient;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * What one attempt puts in the trail: DELIVERED for the recipients a host took (one event per host and reply),
 * then whatever the follow-up records stand for (DEFERRED with its attempt and next due time, DELAYED when a delay
 * notice goes out, FAILED, ROUTED to {@code local}).
 */
final class DeliveryEvents {

    private DeliveryEvents() {
    }

    static List<MessageEvent> of(EventLog log, Topics topics, MailRecord mail, NextHop hop,
                                 List<DeliveryResult> results, List<ProducerRecord<String, byte[]>> followups) {
        Map<List<String>, List<Recipient>> accepted = new LinkedHashMap<>();
        for (DeliveryResult r : results) {
            if (r.accepted()) {
                accepted.computeIfAbsent(java.util.Arrays.asList(r.remote(), r.reply()), k -> new ArrayList<>())
                        .add(r.recipient());
            }
        }
        List<MessageEvent> events = new ArrayList<>();
        String id = mail.envelope().id();
        accepted.forEach((hostAndReply, recipients) -> events.add(log.event(MessageEvent.Type.DELIVERED, id)
                .recipients(recipients).nextHop(hop.key()).remote(hostAndReply.get(0)).reply(hostAndReply.get(1))
                .attempt(mail.envelope().attempt() + 1).build()));
        // A report's Remote-MTA names the host only; the trail shows its address too, as for a delivery.
        Map<String, String> remotes = new LinkedHashMap<>();
        results.forEach(r -> {
            if (r.remoteHost() != null && r.remoteAddress() != null) {
                remotes.putIfAbsent(r.remoteHost(), r.remote());
            }
        });
        for (MessageEvent e : FollowupEvents.of(log, topics, followups, mail.envelope().attempt() + 1)) {
            String remote = e.remote() == null ? null : remotes.getOrDefault(e.remote(), e.remote());
            events.add(new MessageEvent(e.messageId(), e.type(), e.at(), e.node(), e.role(), e.sender(), e.recipients(),
                    e.size(), e.client(), e.nextHop(), remote, e.reply(), e.attempt(), e.nextDue(), e.relatedId(),
                    e.detail()));
        }
        return events;
    }
}
