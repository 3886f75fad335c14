package io.mailroot.queue;

import io.mailroot.queue.QueuedMessage.State;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.function.Predicate;

/**
 * Which queued messages a listing shows; a null field does not filter.
 *
 * @param domain a recipient domain (exact, any case): the message has a recipient there
 * @param sender a part of the sender address (any case), or {@code <address>} for exactly that sender ({@code <>}
 *     is the null sender)
 * @param olderThan arrived at least this long ago
 * @param state the message's queue ({@link QueueName})
 */
public record QueueFilter(String domain, String sender, Duration olderThan, State state) {

    public static final QueueFilter ALL = new QueueFilter(null, null, null, null);

    public Predicate<QueuedMessage> at(Instant now) {
        return m -> matchesDomain(m) && matchesSender(m) && matchesAge(m, now)
                && (state == null || QueueName.of(m) == state);
    }

    private boolean matchesDomain(QueuedMessage m) {
        return domain == null || m.recipients().stream()
                .anyMatch(r -> QueueName.domain(r.address()).equals(domain.toLowerCase(Locale.ROOT)));
    }

    private boolean matchesSender(QueuedMessage m) {
        if (sender == null) {
            return true;
        }
        String s = m.sender() == null ? "" : m.sender();
        if (sender.length() >= 2 && sender.startsWith("<") && sender.endsWith(">")) {
            return s.equalsIgnoreCase(sender.substring(1, sender.length() - 1));
        }
        return s.toLowerCase(Locale.ROOT).contains(sender.toLowerCase(Locale.ROOT));
    }

    private boolean matchesAge(QueuedMessage m, Instant now) {
        return olderThan == null || m.arrival() != null && !m.arrival().plus(olderThan).isAfter(now);
    }
}
