package io.mailroot.ingress;

import java.util.Optional;

/**
 * One rule consulted at RCPT TO. Policies run in order; the first that objects answers the client, so adding a
 * rule never touches the protocol code.
 */
@FunctionalInterface
public interface RecipientPolicy {

    /**
     * @param recipient the forward path as RCPT TO parsed it: a mailbox, or
     *     {@link MailboxAddress#DOMAINLESS_POSTMASTER} (RFC 5321 section 4.5.1), which is queued as
     *     {@code postmaster@fqdn}
     * @param accepted how many recipients this transaction has accepted so far
     * @return the reply refusing the recipient, or empty to let the next policy decide
     */
    Optional<SmtpReply> check(Client client, MailboxAddress recipient, int accepted);
}
