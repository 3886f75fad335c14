package io.mailroot.router;

import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.NextHop;
import io.mailroot.core.message.Recipient;
import java.util.List;

/** The last rule: whatever is left goes to its domain's MX, so no recipient is ever unrouted. */
public final class DirectRule implements RoutingRule {

    @Override
    public List<Routed> claim(Envelope message, List<Recipient> pending) {
        return pending.stream().map(r -> new Routed(r, new Destination.Remote(NextHop.direct(r.domain())))).toList();
    }
}
