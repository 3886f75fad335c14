package io.mailroot.deliverer.smtp;

import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.Recipient;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLContext;

/**
 * One ESMTP connection to a next hop (RFC 5321). It sends the message bytes exactly as they are, only
 * dot-stuffed, and reports a reply per recipient, which is why we do not use Jakarta Mail here.
 * Opening it runs {@link Hello}, {@link StartTls} and {@link ClientAuth} as the security settings ask; each message
 * is a {@link PipelinedTransaction} over the {@link SmtpConnection}.
 * Not thread safe: one delivery thread owns a session.
 */
public final class SmtpSession implements Closeable {

    private final SmtpConnection connection;
    private final boolean tls;
    private final Extensions extensions;
    private final String authenticatedAs;
    /** The reply that refused the last transaction as a whole (MAIL, DATA or the end of data), or null. */
    private SmtpReply transactionRefusal;
    private volatile boolean usable = true;
    private int transactions;

    private SmtpSession(SmtpConnection connection, boolean tls, Extensions extensions, String authenticatedAs) {
        this.connection = connection;
        this.tls = tls;
        this.extensions = extensions;
        this.authenticatedAs = authenticatedAs;
    }

    /**
     * Connects and introduces us; with {@code startTls} set, starts TLS when offered; then applies {@code security}:
     * no session without TLS when it is required or credentials are to be sent, and AUTH when it has credentials.
     */
    static SmtpSession open(String host, InetSocketAddress address, String heloName, int connectTimeoutMs,
                            int readTimeoutMs, Set<Socket> live, SSLContext startTls, Security security)
            throws IOException {
        Socket socket = new Socket();
        live.add(socket);
        SmtpConnection c = null;
        try {
            socket.connect(address, connectTimeoutMs);
            socket.setSoTimeout(readTimeoutMs);
            socket.setTcpNoDelay(true);
            c = new SmtpConnection(host, socket, live);
            Extensions ext = Hello.greet(c, heloName);
            SmtpReply tlsRefused = null;
            boolean tls = false;
            if (startTls != null && ext.supports("STARTTLS")) {
                tlsRefused = StartTls.upgrade(c, startTls, address, security.verifies());
                if (tlsRefused == null) {
                    tls = true;
                    // RFC 3207 4.2: forget what was learnt before TLS and ask again.
                    ext = Hello.introduce(c, heloName);
                }
            }
            requireTls(c, security, tls, tlsRefused);
            if (security.username() != null) {
                ClientAuth.authenticate(c, ext.authMechanisms(), security, name(host, security));
            }
            return new SmtpSession(c, tls, ext, security.username());
        } catch (IOException | RuntimeException e) {
            live.remove(socket);
            socket.close();
            if (c != null) {
                c.close();
            }
            throw e;
        }
    }

    /**
     * What the outbound security settings of a relay ask of a session (IIS "Outbound Security").
     *
     * @param requireTls no mail without TLS
     * @param username for AUTH PLAIN or LOGIN, or null for none
     * @param relay the relay as configured, named in every error
     * @param verifyCertificate when TLS is needed, check the relay's certificate (JDK trust store, host name)
     */
    public record Security(boolean requireTls, String username, String password, String relay,
                           boolean verifyCertificate) {
        public static final Security OPPORTUNISTIC = new Security(false, null, null, null, false);

        public boolean tlsNeeded() {
            return requireTls || username != null;
        }

        /** Whether the peer's certificate must be valid for its host name: only when TLS is needed at all. */
        public boolean verifies() {
            return tlsNeeded() && verifyCertificate;
        }

        @Override
        public String toString() {
            return "Security[requireTls=" + requireTls + ", username=" + username + ", relay=" + relay
                    + ", verifyCertificate=" + verifyCertificate + "]";
        }
    }

    /** Refuses the session when {@code security} needs TLS and it has none. */
    private static void requireTls(SmtpConnection c, Security security, boolean tls, SmtpReply tlsRefused)
            throws SmtpSecurityException {
        if (security.tlsNeeded() && !tls) {
            c.sayGoodbye();
            String why = tlsRefused != null ? "it refused STARTTLS (" + tlsRefused.text() + ")"
                    : "it does not offer STARTTLS";
            String name = name(c.host(), security);
            throw new SmtpSecurityException("4.7.10", security.requireTls()
                    ? "TLS is required for " + name + " but " + why + "; nothing was sent in clear"
                    : "credentials are configured for " + name + " but " + why
                    + "; the password is never sent in clear");
        }
    }

    private static String name(String host, Security security) {
        return security.relay() != null ? "relay " + security.relay() : host;
    }

    /** Who we authenticated as, or null. */
    public String authenticatedAs() {
        return authenticatedAs;
    }

    /** Whether the session runs over TLS. */
    public boolean tls() {
        return tls;
    }

    public String host() {
        return connection.host();
    }

    /** The address connected to, e.g. {@code 192.0.2.7}. */
    public String address() {
        java.net.InetAddress a = connection.socket().getInetAddress();
        return a == null ? null : a.getHostAddress();
    }

    public boolean supports(String extension) {
        return extensions.supports(extension);
    }

    /** The SIZE limit the server announced; 0 when none. */
    public long sizeLimit() {
        return extensions.sizeLimit();
    }

    /** False once the connection broke, timed out or the server said 421: the session must not be reused. */
    public boolean usable() {
        return usable && !connection.closed();
    }

    /**
     * Whether the last transaction was refused as a whole with a temporary reply (to MAIL, DATA or the end of the
     * data): unlike a refused recipient, that is about this host, and another MX may do better.
     */
    public boolean transactionRefused() {
        return transactionRefusal != null;
    }

    /** Transactions completed on this connection so far (for maxMessagesPerConnection). */
    public int transactions() {
        return transactions;
    }

    /**
     * One mail transaction ({@link PipelinedTransaction}). Returns one reply per recipient, in order: the RCPT
     * refusal for refused ones, the final DATA reply for accepted ones, or the error that broke the connection.
     * Never throws for the server's or the network's failures: those are results.
     */
    public List<RecipientReply> send(Envelope envelope, List<Recipient> recipients, byte[] message) {
        // RSET between messages: some servers keep state after a refused DATA; pipelined it costs no round trip.
        boolean reset = transactions > 0;
        transactions++;
        PipelinedTransaction.Outcome outcome =
                PipelinedTransaction.run(connection, extensions, reset, !usable, envelope, recipients, message);
        transactionRefusal = outcome.refusal();
        if (outcome.connectionLost()) {
            usable = false;
        }
        return outcome.replies();
    }

    /** RFC 3461 xtext: printable ASCII except '+' and '=', everything else as +HH. */
    static String xtext(String s) {
        return MailCommands.xtext(s);
    }

    /** Whether the message has any byte outside 7-bit ASCII. */
    public static boolean eightBit(byte[] message) {
        return MailCommands.eightBit(message);
    }

    /** Says goodbye politely when the connection still works, then closes it. */
    public void quit() {
        if (usable()) {
            connection.sayGoodbye();
        }
        connection.close();
    }

    /** Closes the socket at once; safe from another thread, which is how a stuck read is abandoned on shutdown. */
    @Override
    public void close() {
        usable = false;
        connection.close();
    }
}
