package io.mailroot.deliverer.smtp;

/**
 * What the next hop finally said about one recipient in one transaction: a reply, or, when the connection
 * broke before a final reply, the error (which always means "try again").
 */
public record RecipientReply(String address, SmtpReply reply, String error) {

    public static RecipientReply replied(String address, SmtpReply reply) {
        return new RecipientReply(address, reply, null);
    }

    public static RecipientReply lost(String address, String error) {
        return new RecipientReply(address, null, error);
    }

    public boolean accepted() {
        return reply != null && reply.positive();
    }
}
