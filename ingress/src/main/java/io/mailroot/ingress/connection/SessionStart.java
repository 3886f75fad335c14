package io.mailroot.ingress.connection;

import org.subethamail.smtp.server.Session;
import org.subethamail.smtp.server.SessionHandler;

/**
 * Asked by SubEthaSMTP before the greeting: marks the session's socket as admitted (from now on what is written is
 * ours: the gate's answer, then the greeting), and a session on an implicit-TLS port as TLS-protected, which
 * SubEthaSMTP would only see on an SSLSocket. Then the virtual server's gate decides.
 */
public final class SessionStart implements SessionHandler {

    private final SessionHandler gate;

    public SessionStart(SessionHandler gate) {
        this.gate = gate;
    }

    @Override
    public SessionAcceptance accept(Session session) {
        SessionSocket.of(session.getSocket()).ifPresent(s -> {
            s.admit();
            if (s.tls()) {
                session.setTlsStarted(true);
            }
        });
        return gate.accept(session);
    }

    @Override
    public void onSessionEnd(Session session) {
        gate.onSessionEnd(session);
    }
}
