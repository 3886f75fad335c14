package io.mailroot.router;

import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.NextHop;
import io.mailroot.core.message.Recipient;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** The router's rules in the order they are asked; the first rule to claim a recipient decides where it goes. */
public final class RoutingRules {

    private final List<RoutingRule> rules;

    public RoutingRules(List<RoutingRule> rules) {
        this.rules = List.copyOf(rules);
    }

    /** The rules an installation runs, declared in one place so the routing reads as a list. */
    public static RoutingRules from(MailrootConfig config) {
        MailrootConfig.Delivery delivery = config.delivery();
        return new RoutingRules(List.of(
                new BadAddressRule(),
                new LocalDomainRule(config),
                new RouteDomainRule(delivery.routeDomains()),
                new SmartHostRule(delivery.smartHost(), delivery.attemptDirectBeforeSmartHost()),
                new DirectRule()));
    }

    public List<RoutingRule> rules() {
        return rules;
    }

    public RoutingPlan plan(Envelope message) {
        List<Recipient> pending = distinct(message.recipients());
        List<Recipient> local = new ArrayList<>();
        Map<NextHop, List<Recipient>> remote = new LinkedHashMap<>();
        List<Recipient> undeliverable = new ArrayList<>();
        for (RoutingRule rule : rules) {
            if (pending.isEmpty()) {
                break;
            }
            List<RoutingRule.Routed> claimed = rule.claim(message, Collections.unmodifiableList(pending));
            Set<Recipient> taken = new HashSet<>();
            for (RoutingRule.Routed routed : claimed) {
                if (!pending.contains(routed.recipient()) || !taken.add(routed.recipient())) {
                    throw new IllegalStateException(rule.getClass().getSimpleName() + " claimed "
                            + routed.recipient().address() + ", which was not pending or was claimed twice");
                }
                Destination to = routed.destination();
                if (to instanceof Destination.Remote r) {
                    remote.computeIfAbsent(r.hop(), h -> new ArrayList<>()).add(routed.recipient());
                } else if (to instanceof Destination.Undeliverable u) {
                    undeliverable.add(routed.recipient().withOutcome(u.outcome()));
                } else {
                    local.add(routed.recipient());
                }
            }
            pending.removeAll(taken);
        }
        if (!pending.isEmpty()) {
            throw new IllegalStateException("no rule claimed " + pending.get(0).address());
        }
        remote.replaceAll((hop, recipients) -> List.copyOf(recipients));
        return new RoutingPlan(List.copyOf(local), Collections.unmodifiableMap(remote), List.copyOf(undeliverable));
    }

    /** RCPT TO the same address twice means one delivery, as every MTA does it; the domain is case-insensitive. */
    private static List<Recipient> distinct(List<Recipient> recipients) {
        Set<String> seen = new HashSet<>();
        List<Recipient> out = new ArrayList<>();
        for (Recipient r : recipients) {
            int at = r.address().lastIndexOf('@');
            String key = at < 0 ? r.address() : r.address().substring(0, at) + "@" + r.domain().toLowerCase(Locale.ROOT);
            if (seen.add(key)) {
                out.add(r);
            }
        }
        return out;
    }
}
