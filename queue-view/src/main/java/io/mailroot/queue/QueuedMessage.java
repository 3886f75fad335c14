package io.mailroot.queue;

import java.time.Instant;
import java.util.List;

/**
 * What the queue view knows of one message still queued, folded from its events: the value of the compacted
 * {@code queue} topic (key: the message id). A message leaves the view (a tombstone) when none of its recipients
 * waits any more.
 *
 * @param arrival when ingress accepted it
 * @param recipients every recipient not yet delivered, failed or deleted
 * @param updatedAt the time of the last event folded in
 */
public record QueuedMessage(
        String id,
        String sender,
        long size,
        Instant arrival,
        List<QueuedRecipient> recipients,
        Instant updatedAt) {

    public QueuedMessage {
        recipients = recipients == null ? List.of() : List.copyOf(recipients);
    }

    /** Where a recipient stands. */
    public enum State {
        /** routed to a next hop and not yet tried, or being tried */
        ACTIVE,
        /** tried, failed temporarily, waiting on a retry topic */
        DEFERRED,
        /** held by an operator */
        HOLD
    }

    /**
     * @param nextHop the next hop's key, {@code local} for the Drop folder, null before routing
     * @param delayReason the last reply (postqueue's {@code delay_reason}), null before the first attempt
     * @param attempts attempts made so far
     * @param nextDue when the next attempt is due, null when not deferred
     */
    public record QueuedRecipient(String address, String nextHop, State state, String delayReason, int attempts,
                                  Instant nextDue) {
    }
}
