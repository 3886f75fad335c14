package io.mailroot.router;

import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.Recipient;
import java.util.List;

/** Mail for {@code localDomains} stays here and goes to the Drop folder; it never leaves through SMTP. */
public final class LocalDomainRule implements RoutingRule {

    private static final Destination LOCAL = new Destination.Local();

    private final MailrootConfig config;

    public LocalDomainRule(MailrootConfig config) {
        this.config = config;
    }

    @Override
    public List<Routed> claim(Envelope message, List<Recipient> pending) {
        return pending.stream()
                .filter(r -> config.isLocal(r.domain()))
                .map(r -> new Routed(r, LOCAL))
                .toList();
    }
}
