package io.mailroot.queue;

import io.mailroot.core.event.MessageEvent;
import io.mailroot.queue.QueuedMessage.QueuedRecipient;
import io.mailroot.queue.QueuedMessage.State;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * What one event does to a message's place in the queue: a pure function of the state before and the event, so
 * folding the same events from the same state always gives the same state (the queue view's rebuild and its tests
 * rely on it).
 *
 * <p>A message that has left the queue is a {@link QueuedMessage} with no recipients ("departed"): the view writes
 * a tombstone for it but remembers it a while, because the writers of one message's events are different processes
 * and their events can land in another order than things happened. Ingress writes RECEIVED after Kafka's ack,
 * while the router may already have routed the message (and a next hop taken it); so RECEIVED never resets what
 * later events set, and a RECEIVED for a departed message leaves it departed. ROUTED and DEFERRED mean recipients are
 * in the queue whatever came before, so they bring a message back or create one the view never saw received (mail
 * queued before the view existed, or whose RECEIVED aged out of {@code events}).
 */
public final class QueueFold {

    private QueueFold() {
    }

    /**
     * @param current the message as the view knows it, departed (no recipients), or null when the view never saw it
     * @return the message after the event: departed when no recipient waits any more; null when the view knows
     *     nothing of the message and the event does not put it in the queue (a DELIVERED for a message never seen)
     */
    public static QueuedMessage apply(QueuedMessage current, MessageEvent e) {
        return switch (e.type()) {
            case RECEIVED -> received(current, e);
            case ROUTED -> upsert(current, e, r -> new QueuedRecipient(r.address(), hop(e, r),
                    r.state() == State.HOLD ? State.HOLD : State.ACTIVE, r.delayReason(), r.attempts(), r.nextDue()));
            case DEFERRED -> upsert(current, e, r -> new QueuedRecipient(r.address(), hop(e, r),
                    r.state() == State.HOLD ? State.HOLD : State.DEFERRED, e.reply(), Math.max(e.attempt(), r.attempts()),
                    e.nextDue()));
            case DELIVERED, FAILED, DELETED, EXPIRED, BADMAIL -> remove(current, e);
            case HELD -> update(current, e, r -> withState(r, State.HOLD, r.nextDue()));
            case RELEASED -> update(current, e, r -> r.state() != State.HOLD ? r
                    // Back to where the hold found it: waiting for a retry not yet due, else ready to go.
                    : withState(r, r.nextDue() != null && r.nextDue().isAfter(e.at()) ? State.DEFERRED : State.ACTIVE,
                            r.nextDue()));
            case RETRY_NOW -> update(current, e, r -> r.state() == State.DEFERRED ? withState(r, State.ACTIVE, null) : r);
            case DELAYED, REPORT_SENT -> current == null || departed(current) ? current : touched(current, e);
        };
    }

    /** Whether the message has left the queue. */
    public static boolean departed(QueuedMessage m) {
        return m.recipients().isEmpty();
    }

    private static QueuedMessage received(QueuedMessage current, MessageEvent e) {
        if (current != null && departed(current)) {
            return current;
        }
        List<QueuedRecipient> rcpts = new ArrayList<>(current == null ? List.of() : current.recipients());
        for (String address : e.recipients()) {
            if (indexOf(rcpts, address) < 0) {
                rcpts.add(new QueuedRecipient(address, null, State.ACTIVE, null, 0, null));
            }
        }
        if (current == null) {
            return new QueuedMessage(e.messageId(), e.sender(), e.size(), e.at(), rcpts, e.at());
        }
        // Routing may have been folded first (with less of the envelope): what RECEIVED knows fills the gaps.
        return new QueuedMessage(current.id(), e.sender() != null ? e.sender() : current.sender(),
                e.size() > 0 ? e.size() : current.size(), earlier(current.arrival(), e.at()), rcpts, later(current.updatedAt(), e.at()));
    }

    /** Applies {@code f} to the event's recipients, adding those the message does not have yet. */
    private static QueuedMessage upsert(QueuedMessage current, MessageEvent e, UnaryOperator<QueuedRecipient> f) {
        QueuedMessage base = current != null ? current
                : new QueuedMessage(e.messageId(), e.sender(), e.size(), e.at(), List.of(), e.at());
        List<QueuedRecipient> rcpts = new ArrayList<>(base.recipients());
        for (String address : e.recipients()) {
            int i = indexOf(rcpts, address);
            QueuedRecipient r = i >= 0 ? rcpts.get(i) : new QueuedRecipient(address, null, State.ACTIVE, null, 0, null);
            if (i >= 0) {
                rcpts.set(i, f.apply(r));
            } else {
                rcpts.add(f.apply(r));
            }
        }
        return new QueuedMessage(base.id(), base.sender() != null ? base.sender() : e.sender(),
                base.size() > 0 ? base.size() : e.size(), base.arrival(), rcpts, later(base.updatedAt(), e.at()));
    }

    /** Applies {@code f} to the recipients the event names, or to all of them when it names none (an operator's). */
    private static QueuedMessage update(QueuedMessage current, MessageEvent e, UnaryOperator<QueuedRecipient> f) {
        if (current == null || departed(current)) {
            return current;
        }
        List<QueuedRecipient> rcpts = current.recipients().stream()
                .map(r -> concerns(e, r) ? f.apply(r) : r).toList();
        return with(current, rcpts, e);
    }

    private static QueuedMessage remove(QueuedMessage current, MessageEvent e) {
        if (current == null || departed(current)) {
            return current;
        }
        List<QueuedRecipient> rcpts = current.recipients().stream().filter(r -> !concerns(e, r)).toList();
        return with(current, rcpts, e);
    }

    private static boolean concerns(MessageEvent e, QueuedRecipient r) {
        return e.recipients().isEmpty() || e.recipients().stream().anyMatch(a -> a.equalsIgnoreCase(r.address()));
    }

    private static int indexOf(List<QueuedRecipient> rcpts, String address) {
        for (int i = 0; i < rcpts.size(); i++) {
            if (rcpts.get(i).address().equalsIgnoreCase(address)) {
                return i;
            }
        }
        return -1;
    }

    private static String hop(MessageEvent e, QueuedRecipient r) {
        return e.nextHop() != null ? e.nextHop() : r.nextHop();
    }

    private static QueuedRecipient withState(QueuedRecipient r, State s, Instant nextDue) {
        return new QueuedRecipient(r.address(), r.nextHop(), s, r.delayReason(), r.attempts(), nextDue);
    }

    private static QueuedMessage touched(QueuedMessage m, MessageEvent e) {
        return with(m, m.recipients(), e);
    }

    private static QueuedMessage with(QueuedMessage m, List<QueuedRecipient> rcpts, MessageEvent e) {
        return new QueuedMessage(m.id(), m.sender(), m.size(), m.arrival(), rcpts, later(m.updatedAt(), e.at()));
    }

    private static Instant earlier(Instant a, Instant b) {
        return a == null ? b : b == null || a.isBefore(b) ? a : b;
    }

    private static Instant later(Instant a, Instant b) {
        return a == null ? b : b == null || a.isAfter(b) ? a : b;
    }
}
