package io.mailroot.ingress;

import io.mailroot.core.config.MailrootConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * What a virtual server demands of a whole SMTP session before and across its mail transactions.
 *
 * @param requireTls IIS "Requires TLS encryption": MAIL before STARTTLS gets {@code 530 5.7.0}
 * @param requireAuth IIS anonymous access off: MAIL before AUTH gets {@code 530 5.7.0}
 * @param maxSessionBytes IIS "Limit session size to": once one connection's message bodies total this much, its next
 *     MAIL gets {@code 421 4.7.0} and the connection closes (the message that crossed it was accepted)
 */
record SessionRules(boolean requireTls, boolean requireAuth, long maxSessionBytes) {

    /** No demands: what an {@link Intake} built without rules enforces. */
    static final SessionRules NONE = new SessionRules(false, false, Long.MAX_VALUE);

    /** The rules as policies consulted at MAIL FROM, in the order a client should hear about them. */
    List<SenderPolicy> senderPolicies(long maxMessageBytes) {
        List<SenderPolicy> policies = new ArrayList<>();
        if (requireTls) {
            policies.add(new SenderPolicy.TlsRequired());
        }
        if (requireAuth) {
            policies.add(new SenderPolicy.AuthRequired());
        }
        policies.add(new SenderPolicy.DeclaredSizeLimit(maxMessageBytes));
        policies.add(new SenderPolicy.SessionSizeLimit(maxSessionBytes));
        return List.copyOf(policies);
    }

    static SessionRules of(MailrootConfig.VirtualServer vs) {
        MailrootConfig.Authentication auth = vs.authentication();
        Integer kb = vs.maxSessionSizeKb();
        return new SessionRules(auth != null && auth.requireTls(), auth != null && !auth.anonymous(),
                kb == null ? Long.MAX_VALUE : kb * 1024L);
    }
}
