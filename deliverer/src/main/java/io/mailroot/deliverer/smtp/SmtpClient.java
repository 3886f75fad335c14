package io.mailroot.deliverer.smtp;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import java.time.Duration;

/** Opens ESMTP sessions to next hops, with our EHLO name and time-outs. */
public final class SmtpClient {

    private static final Logger LOG = LoggerFactory.getLogger(SmtpClient.class);
    /** A black-holed address should not hold a connection slot for the whole (IIS-long) read time-out. */
    private static final Duration MAX_CONNECT_TIMEOUT = Duration.ofMinutes(1);

    private final String heloName;
    private final Duration readTimeout;
    /** Every socket this client has open, so shutdown can end reads that would otherwise wait out the time-out. */
    private final Set<Socket> live = ConcurrentHashMap.newKeySet();

    private final SSLContext startTls;

    /** A client that uses STARTTLS whenever the next hop offers it. */
    public SmtpClient(String heloName, Duration readTimeout) {
        this(heloName, readTimeout, true);
    }

    public SmtpClient(String heloName, Duration readTimeout, boolean opportunisticTls) {
        this.heloName = heloName;
        this.readTimeout = readTimeout;
        this.startTls = opportunisticTls ? OpportunisticTls.context() : null;
    }

    /**
     * Connects, reads the greeting and introduces us. A refusal (non-2xx greeting or EHLO and HELO both refused)
     * is a {@link SmtpRefusedException}; the caller may try the next host.
     */
    public SmtpSession connect(String hostName, InetAddress address, int port) throws IOException {
        return connect(hostName, address, port, SmtpSession.Security.OPPORTUNISTIC);
    }

    /**
     * As {@link #connect(String, InetAddress, int)}, under a relay's outbound security settings: when they need TLS
     * (required, or credentials to send) a hop without it is a {@link SmtpSecurityException}, never a session in
     * clear; with credentials the session is authenticated before it is returned.
     */
    public SmtpSession connect(String hostName, InetAddress address, int port, SmtpSession.Security security)
            throws IOException {
        if (security.verifies()) {
            try {
                return connect(hostName, address, port, verifiedContext(), security);
            } catch (SSLException e) {
                // The handshake fails before anything is said in it: no credentials, no mail.
                throw new SmtpSecurityException("4.7.5", "the certificate of " + (security.relay() != null
                        ? "relay " + security.relay() : hostName) + " could not be verified for " + hostName + " ("
                        + e.getMessage() + "); nothing was sent (set verifyCertificate: false to accept it as is)");
            }
        }
        SSLContext tls = startTls != null || security.tlsNeeded() ? tlsContext() : null;
        try {
            return connect(hostName, address, port, tls, security);
        } catch (SSLException e) {
            if (security.tlsNeeded()) {
                throw new SmtpSecurityException("4.7.10", "TLS with " + (security.relay() != null
                        ? "relay " + security.relay() : hostName) + " failed (" + e.getMessage()
                        + ") and is required; nothing was sent in clear");
            }
            // A broken TLS offer must not stop the mail: like other MTAs, try the same host again in clear.
            LOG.info("TLS with {}[{}] failed ({}); delivering without TLS", hostName, address.getHostAddress(),
                    e.getMessage());
            return connect(hostName, address, port, null, security);
        }
    }

    /** The JDK's default context: its trust store (or the one {@code javax.net.ssl.trustStore} names). */
    private static SSLContext verifiedContext() throws SSLException {
        try {
            return SSLContext.getDefault();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new SSLException("no default TLS context in this JVM", e);
        }
    }

    private SSLContext tlsContext() {
        return startTls != null ? startTls : OpportunisticTls.context();
    }

    private SmtpSession connect(String hostName, InetAddress address, int port, SSLContext tls,
                                SmtpSession.Security security) throws IOException {
        Duration connectTimeout = readTimeout.compareTo(MAX_CONNECT_TIMEOUT) < 0 ? readTimeout : MAX_CONNECT_TIMEOUT;
        return SmtpSession.open(hostName, new InetSocketAddress(address, port), heloName,
                (int) connectTimeout.toMillis(), (int) Math.min(Integer.MAX_VALUE, readTimeout.toMillis()), live, tls,
                security);
    }

    /** Closes every open connection at once; the threads using them see an I/O error. */
    /** Connections open now, or being opened. */
    public int open() {
        return live.size();
    }

    public void closeAll() {
        for (Socket s : live) {
            try {
                s.close();
            } catch (IOException ignored) {
                // already broken
            }
        }
        live.clear();
    }
}
