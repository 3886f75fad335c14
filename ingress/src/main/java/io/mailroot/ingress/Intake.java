package io.mailroot.ingress;

import java.util.List;
import org.subethamail.smtp.MessageContext;
import org.subethamail.smtp.MessageHandler;

/**
 * What one virtual server does with the mail it is offered: the policies it consults and the queue it feeds.
 * SubEthaSMTP asks it for a fresh {@link SmtpTransaction} at each MAIL FROM.
 *
 * @param maxMessageBytes the largest message accepted, as received (before our Received header)
 * @param rules what the virtual server demands of the session (TLS, AUTH, session size)
 */
record Intake(String virtualServer, String fqdn, boolean reverseDnsLookup, int maxMessageBytes,
              List<RecipientPolicy> recipientPolicies, List<MessagePolicy> messagePolicies, InboundQueue queue,
              SessionRules rules) {

    /** An intake that demands nothing of the session; give it the virtual server's rules with {@link #withRules}. */
    Intake(String virtualServer, String fqdn, boolean reverseDnsLookup, int maxMessageBytes,
           List<RecipientPolicy> recipientPolicies, List<MessagePolicy> messagePolicies, InboundQueue queue) {
        this(virtualServer, fqdn, reverseDnsLookup, maxMessageBytes, recipientPolicies, messagePolicies, queue,
                SessionRules.NONE);
    }

    Intake withRules(SessionRules newRules) {
        return new Intake(virtualServer, fqdn, reverseDnsLookup, maxMessageBytes, recipientPolicies, messagePolicies,
                queue, newRules);
    }

    /** The policies consulted at MAIL FROM: the session rules, then the size the client declares. */
    List<SenderPolicy> senderPolicies() {
        return rules.senderPolicies(maxMessageBytes);
    }

    MessageHandler open(MessageContext context) {
        return new SmtpTransaction(this, context);
    }
}
