package io.mailroot.core.message;

import java.time.Instant;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Everything Mailroot knows about a message besides its bytes. Travels as JSON in a record header,
 * so the message itself is never rewritten (DKIM signatures survive).
 *
 * @param sender the reverse path; the empty string is the null sender ({@code MAIL FROM:<>})
 * @param attempt delivery attempts made so far (0 before the first)
 * @param nextHop where the router sent it; null before routing
 */
public record Envelope(
        String id,
        String sender,
        List<Recipient> recipients,
        String envId,
        Ret ret,
        String clientAddress,
        String clientName,
        String helo,
        String authIdentity,
        boolean tls,
        String virtualServer,
        Instant receivedAt,
        int attempt,
        Instant firstAttemptAt,
        Instant nextDueAt,
        String lastError,
        NextHop nextHop,
        boolean delayNotified) {

    public Envelope {
        recipients = List.copyOf(recipients);
        sender = sender == null ? "" : sender;
    }

    /** What RFC 3461 RET asked to be returned in a report. */
    public enum Ret { FULL, HDRS }

    public boolean nullSender() {
        return sender.isEmpty();
    }

    public static Envelope received(String id, String sender, List<Recipient> recipients, Instant at) {
        return new Envelope(id, sender, recipients, null, null, null, null, null, null, false, null,
                at, 0, null, null, null, null, false);
    }

    public Envelope withRecipients(List<Recipient> r) {
        return new Envelope(id, sender, r, envId, ret, clientAddress, clientName, helo, authIdentity, tls,
                virtualServer, receivedAt, attempt, firstAttemptAt, nextDueAt, lastError, nextHop, delayNotified);
    }

    public Envelope withRecipientsMapped(UnaryOperator<Recipient> f) {
        return withRecipients(recipients.stream().map(f).toList());
    }

    public Envelope withSender(String s) {
        return new Envelope(id, s, recipients, envId, ret, clientAddress, clientName, helo, authIdentity, tls,
                virtualServer, receivedAt, attempt, firstAttemptAt, nextDueAt, lastError, nextHop, delayNotified);
    }

    public Envelope withId(String newId) {
        return new Envelope(newId, sender, recipients, envId, ret, clientAddress, clientName, helo, authIdentity, tls,
                virtualServer, receivedAt, attempt, firstAttemptAt, nextDueAt, lastError, nextHop, delayNotified);
    }

    public Envelope withClient(String address, String name, String heloName, String auth, boolean overTls, String server) {
        return new Envelope(id, sender, recipients, envId, ret, address, name, heloName, auth, overTls,
                server, receivedAt, attempt, firstAttemptAt, nextDueAt, lastError, nextHop, delayNotified);
    }

    public Envelope withDsn(String newEnvId, Ret newRet) {
        return new Envelope(id, sender, recipients, newEnvId, newRet, clientAddress, clientName, helo, authIdentity, tls,
                virtualServer, receivedAt, attempt, firstAttemptAt, nextDueAt, lastError, nextHop, delayNotified);
    }

    public Envelope withNextHop(NextHop hop) {
        return new Envelope(id, sender, recipients, envId, ret, clientAddress, clientName, helo, authIdentity, tls,
                virtualServer, receivedAt, attempt, firstAttemptAt, nextDueAt, lastError, hop, delayNotified);
    }

    /** The state after a failed attempt that will be retried at {@code due}. */
    public Envelope withAttempt(int n, Instant first, Instant due, String error) {
        return new Envelope(id, sender, recipients, envId, ret, clientAddress, clientName, helo, authIdentity, tls,
                virtualServer, receivedAt, n, first, due, error, nextHop, delayNotified);
    }

    public Envelope withDelayNotified(boolean notified) {
        return new Envelope(id, sender, recipients, envId, ret, clientAddress, clientName, helo, authIdentity, tls,
                virtualServer, receivedAt, attempt, firstAttemptAt, nextDueAt, lastError, nextHop, notified);
    }
}
