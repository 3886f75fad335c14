package io.mailroot.ingress;

import java.util.List;
import org.subethamail.smtp.MessageContext;
import org.subethamail.smtp.MessageHandler;

/**
 * What one virtual server does with the mail it is offered: the policies it consults and the queue it feeds.
 * SubEthaSMTP asks it for a fresh {@link SmtpTransaction} at each MAIL FROM.
 *
 * @param maxMessageBytes the largest message accepted, as received (before our Received header)
 */
record Intake(String virtualServer, String fqdn, boolean reverseDnsLookup, int maxMessageBytes,
              List<RecipientPolicy> recipientPolicies, List<MessagePolicy> messagePolicies, InboundQueue queue) {

    MessageHandler open(MessageContext context) {
        return new SmtpTransaction(this, context);
    }
}
