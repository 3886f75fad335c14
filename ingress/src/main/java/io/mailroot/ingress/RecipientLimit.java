package io.mailroot.ingress;

import java.util.Optional;

/**
 * IIS's "limit number of recipients per message". A 452 (not 5xx) so the client sends the rest in another
 * transaction, as RFC 5321 section 4.5.3.1.10 expects.
 */
public record RecipientLimit(int max) implements RecipientPolicy {

    @Override
    public Optional<SmtpReply> check(Client client, MailboxAddress recipient, int accepted) {
        return accepted >= max ? Optional.of(SmtpReply.of(452, "4.5.3 Too many recipients")) : Optional.empty();
    }
}
