package io.mailroot.ingress;

import java.util.Optional;

/**
 * One rule consulted at MAIL FROM, before a transaction starts. Policies run in order; the first that objects
 * answers the client and no transaction begins.
 */
@FunctionalInterface
public interface SenderPolicy {

    /**
     * What is known when a client says MAIL FROM.
     *
     * @param tls whether the session has started TLS
     * @param reversePath the sender, "" for the null sender
     * @param declaredSize the SIZE parameter, or -1 when the client gave none
     * @param sessionBytes the message text this connection has sent so far
     */
    record Mail(Client client, boolean tls, String reversePath, long declaredSize, long sessionBytes) {
    }

    /** @return the reply refusing MAIL, or empty to let the next policy decide */
    Optional<SmtpReply> check(Mail mail);

    /** IIS "Requires TLS encryption". */
    record TlsRequired() implements SenderPolicy {
        @Override
        public Optional<SmtpReply> check(Mail mail) {
            return mail.tls() ? Optional.empty() : Optional.of(SmtpReply.of(530, "5.7.0 Must issue a STARTTLS command first"));
        }
    }

    /** IIS with anonymous access off: only an authenticated session may send. */
    record AuthRequired() implements SenderPolicy {
        @Override
        public Optional<SmtpReply> check(Mail mail) {
            return mail.client().authenticated() ? Optional.empty()
                    : Optional.of(SmtpReply.of(530, "5.7.0 Authentication required"));
        }
    }

    /** IIS "Limit message size to", judged on the SIZE the client declares (RFC 1870); DATA checks the real size. */
    record DeclaredSizeLimit(long maxBytes) implements SenderPolicy {
        @Override
        public Optional<SmtpReply> check(Mail mail) {
            return mail.declaredSize() > maxBytes
                    ? Optional.of(SmtpReply.of(552, "5.3.4 Message size exceeds fixed limit"))
                    : Optional.empty();
        }
    }

    /**
     * IIS "Limit session size to", reached gracefully: the message that crosses the limit is accepted, and once the
     * connection has sent the limit the next MAIL hears {@code 421 4.7.0} and the connection closes. A 4xx at the
     * next MAIL makes the client reconnect and carry on; a 552 would have bounced a good message.
     */
    record SessionSizeLimit(long maxBytes) implements SenderPolicy {

        static final SmtpReply REACHED = SmtpReply.of(421, "4.7.0 Session size limit reached, closing connection");

        @Override
        public Optional<SmtpReply> check(Mail mail) {
            return mail.sessionBytes() >= maxBytes ? Optional.of(REACHED) : Optional.empty();
        }
    }
}
