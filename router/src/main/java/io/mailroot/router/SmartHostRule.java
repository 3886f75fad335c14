package io.mailroot.router;

import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.NextHop;
import io.mailroot.core.message.Recipient;
import java.util.List;

/**
 * IIS smart host: every remote recipient goes through {@code smartHost}, all domains in one record (one transaction
 * with many RCPTs), or, with {@code attemptDirectBeforeSmartHost}, to its own MX first and to the smart host only when
 * that fails, which stays one record per domain since each domain has its own MX.
 */
public final class SmartHostRule implements RoutingRule {

    private final String smartHost;
    private final boolean attemptDirectFirst;

    public SmartHostRule(String smartHost, boolean attemptDirectFirst) {
        this.smartHost = smartHost;
        this.attemptDirectFirst = attemptDirectFirst;
    }

    @Override
    public List<Routed> claim(Envelope message, List<Recipient> pending) {
        if (smartHost == null) {
            return List.of();
        }
        return pending.stream().map(r -> new Routed(r, new Destination.Remote(hop(r.domain())))).toList();
    }

    private NextHop hop(String domain) {
        return attemptDirectFirst ? new NextHop(domain, null, smartHost) : NextHop.relay(smartHost);
    }
}
