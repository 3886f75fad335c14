package io.mailroot.ingress;

import io.mailroot.core.text.ClientText;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * IIS's relay restrictions: mail for a local domain is always welcome; mail for anywhere else only from an
 * allowed address or an authenticated session. Decided at RCPT, never by bouncing later. An address literal
 * ({@code bob@[192.0.2.1]}) is never local, whatever it names; {@code postmaster} without a domain (RFC 5321 section
 * 4.5.1) always is. {@code postmaster@fqdn} is local only when the fqdn is one of the local domains (it is by
 * default).
 *
 * <p>A local recipient whose local part carries routing syntax ({@code user%other.example@local},
 * {@code other.example!user@local}, {@code "user@other.example"@local}) is refused to a client that may not relay,
 * as Postfix does with {@code allow_untrusted_routing = no}: Mailroot stores it literally, but the mail store that
 * reads Drop may well route it on, which would make us its relay.
 */
public final class RelayPolicy implements RecipientPolicy {

    private final Predicate<String> localDomain;
    private final AddressList allowed;
    private final boolean allowAuthenticated;

    public RelayPolicy(Predicate<String> localDomain, AddressList allowed, boolean allowAuthenticated) {
        this.localDomain = localDomain;
        this.allowed = allowed;
        this.allowAuthenticated = allowAuthenticated;
    }

    @Override
    public Optional<SmtpReply> check(Client client, MailboxAddress recipient, int accepted) {
        // Judged on the parsed domain, so no spelling (trailing dot, quoted "@", literal) makes a remote one local.
        boolean local = recipient.domainless() || !recipient.literal() && localDomain.test(recipient.domain());
        if (local && !routed(recipient.localPart()) || mayRelay(client)) {
            return Optional.empty();
        }
        String quoted = "<" + ClientText.forReply(recipient.address()) + ">";
        return Optional.of(local
                ? SmtpReply.of(550, "5.7.1 Sender-specified routing is not accepted for " + quoted)
                : SmtpReply.of(550, "5.7.1 Unable to relay for " + quoted));
    }

    private boolean mayRelay(Client client) {
        return allowed.contains(client.address()) || (allowAuthenticated && client.authenticated());
    }

    /** Whether a local part names another destination: the percent hack, a bang path or a quoted address. */
    static boolean routed(String localPart) {
        return localPart.indexOf('%') >= 0 || localPart.indexOf('!') >= 0 || localPart.indexOf('@') >= 0;
    }
}
