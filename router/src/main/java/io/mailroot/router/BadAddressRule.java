package io.mailroot.router;

import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.Outcome;
import io.mailroot.core.message.Recipient;
import java.util.List;

/** A recipient without a domain can go nowhere; the sender hears about it rather than the message vanishing. */
public final class BadAddressRule implements RoutingRule {

    static final Outcome BAD_SYNTAX = Outcome.failed("5.1.3", "smtp; 553 5.1.3 bad recipient address syntax", null);

    @Override
    public List<Routed> claim(Envelope message, List<Recipient> pending) {
        return pending.stream()
                .filter(r -> r.domain().isEmpty())
                .map(r -> new Routed(r, new Destination.Undeliverable(BAD_SYNTAX)))
                .toList();
    }
}
