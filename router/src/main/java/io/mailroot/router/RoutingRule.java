package io.mailroot.router;

import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.Recipient;
import java.util.List;

/**
 * One step of routing, after the James matcher: it looks at the recipients no earlier rule claimed and returns
 * those it applies to, each with its destination. What it leaves falls through to the next rule.
 */
public interface RoutingRule {

    /**
     * @param message the envelope as received (for rules that care about the sender or the client)
     * @param pending the recipients no earlier rule claimed, in envelope order
     * @return the subset of {@code pending} this rule claims, in the same order
     */
    List<Routed> claim(Envelope message, List<Recipient> pending);

    /** A recipient and where a rule sent it. */
    record Routed(Recipient recipient, Destination destination) {
    }
}
