package io.mailroot.router;

import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.NextHop;
import io.mailroot.core.message.Recipient;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * IIS remote domains with "forward all mail to smart host": {@code routeDomains} maps a domain to a fixed
 * {@code host[:port]}. A key {@code *.example.com} also covers every subdomain of example.com, as in IIS; an exact
 * key wins over a wildcard, and a longer wildcard over a shorter one. Domains routed to the same relay (or to the
 * smart host, written the same) share one record per message: the relay takes them in one transaction.
 */
public final class RouteDomainRule implements RoutingRule {

    private final Map<String, String> routes;

    public RouteDomainRule(Map<String, String> routes) {
        this.routes = routes == null ? Map.of() : Map.copyOf(routes);
    }

    @Override
    public List<Routed> claim(Envelope message, List<Recipient> pending) {
        if (routes.isEmpty()) {
            return List.of();
        }
        List<Routed> claimed = new ArrayList<>();
        for (Recipient r : pending) {
            String relay = relayFor(r.domain());
            if (relay != null) {
                claimed.add(new Routed(r, new Destination.Remote(NextHop.relay(relay))));
            }
        }
        return claimed;
    }

    String relayFor(String domain) {
        String d = domain.toLowerCase(Locale.ROOT);
        String exact = routes.get(d);
        if (exact != null) {
            return exact;
        }
        // Walk up the labels so the most specific wildcard is found first.
        for (int dot = d.indexOf('.'); dot >= 0; dot = d.indexOf('.', dot + 1)) {
            String wildcard = routes.get("*" + d.substring(dot));
            if (wildcard != null) {
                return wildcard;
            }
        }
        return null;
    }
}
