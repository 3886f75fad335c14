package io.mailroot.ingress;

import io.mailroot.ingress.connection.ClientSessions;
import java.net.InetAddress;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.WeakHashMap;
import org.subethamail.smtp.server.Session;

/**
 * What Mailroot remembers about one SMTP connection across its mail transactions: how the client greeted, how much
 * message text it has sent, and its reverse name once looked up. SubEthaSMTP's {@link Session} has no room for
 * these, so they hang off it in a weak map and go when the session does.
 */
final class SessionLedger {

    /** Whether the last greeting was EHLO (ESMTP) rather than HELO (plain SMTP). */
    volatile boolean extended = true;
    /** Message text received on this connection, refused messages included: it is the client's budget. */
    private long bodyBytes;
    private String reverseName;
    private boolean lookedUp;

    synchronized long bodyBytes() {
        return bodyBytes;
    }

    synchronized void addBodyBytes(long n) {
        bodyBytes += n;
    }

    /**
     * The client's forward-confirmed reverse name, or null when it has none. The connection layer looks it up as
     * it accepts the session; a session it did not register (a listener assembled without it) is looked up here,
     * once: {@link InetAddress#getCanonicalHostName()} returns a name only if it resolves back to the address.
     */
    synchronized String reverseName(Session session) {
        if (!lookedUp) {
            lookedUp = true;
            Optional<ClientSessions.ClientSession> known = ClientSessions.of(session);
            if (known.isPresent()) {
                reverseName = known.get().verifiedName().orElse(null);
            } else {
                InetAddress address = session.getRemoteAddress().getAddress();
                String name = address.getCanonicalHostName();
                reverseName = name.equals(address.getHostAddress()) ? null : name;
            }
        }
        return reverseName;
    }

    /** The sessions of one SMTP listener. */
    static final class Registry {

        private final Map<Session, SessionLedger> sessions = Collections.synchronizedMap(new WeakHashMap<>());

        SessionLedger of(Session session) {
            return sessions.computeIfAbsent(session, s -> new SessionLedger());
        }
    }
}
