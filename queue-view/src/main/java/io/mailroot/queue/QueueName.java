package io.mailroot.queue;

import io.mailroot.queue.QueuedMessage.QueuedRecipient;
import io.mailroot.queue.QueuedMessage.State;
import java.util.Locale;

/**
 * Which of postqueue's queues a whole message is listed in: {@code hold} when an operator holds any of its
 * recipients, {@code active} while any recipient is routed and not deferred (or not yet routed), else
 * {@code deferred}.
 */
public final class QueueName {

    private QueueName() {
    }

    public static State of(QueuedMessage m) {
        boolean active = false;
        for (QueuedRecipient r : m.recipients()) {
            if (r.state() == State.HOLD) {
                return State.HOLD;
            }
            active |= r.state() == State.ACTIVE;
        }
        return active ? State.ACTIVE : State.DEFERRED;
    }

    /** The lower-case name used in output and in {@code --state}. */
    public static String label(State s) {
        return s.name().toLowerCase(Locale.ROOT);
    }

    /** The domain part of an address, lower-cased; empty for an address without one. */
    public static String domain(String address) {
        int at = address.lastIndexOf('@');
        return at < 0 ? "" : address.substring(at + 1).toLowerCase(Locale.ROOT);
    }
}
