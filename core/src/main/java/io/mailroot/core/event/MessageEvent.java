package io.mailroot.core.event;

import java.time.Instant;
import java.util.List;

/**
 * One thing that happened to one message, as the {@code events} topic carries it (key: the message id). The trail
 * of a message is its events in order; the queue view is folded from them. Fields a type has no use for are null
 * (or 0), and are left out of the JSON.
 *
 * @param messageId the envelope id (a report has its own id; {@code relatedId} names the message it reports on)
 * @param type what happened
 * @param at when, on the writing node's clock
 * @param node the writing process's node id ({@code nodeId})
 * @param role the role that wrote it: ingress, pickup, http, router, deliverer, retry, drop, ndr, operator
 * @param sender the reverse path, "" for the null sender
 * @param recipients the recipients this event is about (all of the message's for RECEIVED; those of one next
 *     hop for ROUTED, DELIVERED, DEFERRED, FAILED)
 * @param size the message's size in bytes
 * @param client for RECEIVED: the client's address, name and HELO, the virtual server or the submission channel
 * @param nextHop the next hop's key ({@code NextHop.key()}), {@code local} for the Drop folder
 * @param remote the host that answered: {@code mx.example.net [192.0.2.7]}
 * @param reply the SMTP reply (or the reason) that decided this event
 * @param attempt delivery attempts made so far, counting this one
 * @param nextDue for DEFERRED: when the next attempt is due
 * @param relatedId for REPORT_SENT: the report's own message id; for BADMAIL: the Badmail file name
 * @param detail anything else worth showing: an operator's action and who asked for it
 */
public record MessageEvent(
        String messageId,
        Type type,
        Instant at,
        String node,
        String role,
        String sender,
        List<String> recipients,
        long size,
        String client,
        String nextHop,
        String remote,
        String reply,
        int attempt,
        Instant nextDue,
        String relatedId,
        String detail) {

    public MessageEvent {
        recipients = recipients == null ? List.of() : List.copyOf(recipients);
    }

    public enum Type {
        /** accepted (the 250, the Pickup file taken, the HTTP 202) */
        RECEIVED,
        /** the router put recipients on a next hop (or local delivery) */
        ROUTED,
        /** a next hop (or the Drop folder) took the recipients */
        DELIVERED,
        /** a temporary failure: waits on a retry topic until {@code nextDue} */
        DEFERRED,
        /** a permanent failure or expiry: a report is due to the sender */
        FAILED,
        /** a delay notice went to the sender (recipients still queued) */
        DELAYED,
        /** the NDR service sent a report about the message */
        REPORT_SENT,
        /** kept in the Badmail folder */
        BADMAIL,
        /** an operator held the message: it waits until released */
        HELD,
        RELEASED,
        /** an operator asked for the next attempt now */
        RETRY_NOW,
        /** an operator deleted the message (with or without a report: see {@code detail}) */
        DELETED,
        /** an operator expired the message: failed now as if its expirationTimeout had passed */
        EXPIRED
    }
}
