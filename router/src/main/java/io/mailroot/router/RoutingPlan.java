package io.mailroot.router;

import io.mailroot.core.message.NextHop;
import io.mailroot.core.message.Recipient;
import java.util.List;
import java.util.Map;

/**
 * Where each recipient of one message goes, as the rules decided it.
 *
 * @param local recipients in local domains
 * @param remote remote recipients grouped by next hop, in the order the rules claimed them; a relay's group may
 *     span domains, a direct hop's is one domain
 * @param undeliverable recipients that cannot be routed, each carrying its failed outcome
 */
public record RoutingPlan(List<Recipient> local, Map<NextHop, List<Recipient>> remote, List<Recipient> undeliverable) {
}
