package io.mailroot.ingress.tls;

import io.mailroot.ingress.SmtpVerb;
import io.mailroot.ingress.connection.CommandInput;
import io.mailroot.ingress.connection.SessionSocket;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.subethamail.smtp.server.Session;

/**
 * STARTTLS (RFC 3207) with TLS 1.2 and 1.3 only. Whatever the client sent after the STARTTLS line and before our
 * 220 is thrown away: it came in clear text, so a man in the middle may have put it there, and executing it
 * inside the encrypted session would lend it the session's trust (CVE-2011-0411). After the handshake the SMTP
 * state is as after the greeting: the client must say EHLO again.
 */
public final class StartTlsCommand implements SmtpVerb {

    @Override
    public String verb() {
        return "STARTTLS";
    }

    private static final Logger LOG = LoggerFactory.getLogger(StartTlsCommand.class);

    /** Null when the virtual server has TLS off. */
    private final SSLContext context;

    public StartTlsCommand(SSLContext context) {
        this.context = context;
    }

    @Override
    public void execute(String commandString, Session session) throws IOException {
        if (!commandString.trim().equalsIgnoreCase("STARTTLS")) {
            session.sendResponse("501 5.5.4 Syntax: STARTTLS (no parameters)");
            return;
        }
        if (context == null) {
            session.sendResponse("502 5.5.1 STARTTLS not available");
            return;
        }
        if (session.isTLSStarted()) {
            session.sendResponse("503 5.5.1 TLS already active");
            return;
        }
        if (session.isAuthenticated()) {
            // RFC 3207 wants all knowledge from before TLS forgotten; SubEthaSMTP cannot forget an authentication.
            session.sendResponse("503 5.5.1 STARTTLS not permitted after AUTH");
            return;
        }
        Optional<CommandInput> framed = SessionSocket.of(session.getSocket()).flatMap(SessionSocket::input);
        long discarded = framed.isPresent() ? framed.get().discardPending() : discardPending(session.getRawInput());
        if (discarded > 0) {
            LOG.warn("{}: {} bytes sent after STARTTLS before the 220 were discarded",
                    session.getRemoteAddress().getAddress().getHostAddress(), discarded);
        }
        session.sendResponse("220 2.0.0 Ready to start TLS");
        Socket plain = session.getSocket();
        Optional<SessionSocket> ours = SessionSocket.of(plain);
        SSLSocket tls;
        try {
            tls = TlsContexts.serverSocket(context, ours.isPresent() ? ours.get().connection() : plain);
            // before the handshake: from here on the connection carries ciphertext, and the session's lines are
            // framed, and its replies counted, on the clear-text side of the TLS socket
            ours.ifPresent(s -> s.startTls(tls));
            tls.startHandshake();
        } catch (IOException e) {
            LOG.debug("TLS handshake with {} failed: {}", session.getRemoteAddress(), e.toString());
            // Nothing sensible can be said in clear text to a client in the middle of a handshake.
            session.quit();
            return;
        }
        // A new reader over the TLS stream: the clear-text buffer and reader are dropped with everything in them.
        session.setSocket(ours.isPresent() ? ours.get() : tls);
        session.resetSmtpProtocol();
        session.setTlsStarted(true);
    }

    /** Skips what the client has already sent, buffered or still in the socket; a proper client waits for 220. */
    private static long discardPending(InputStream in) throws IOException {
        long total = 0;
        int n;
        while ((n = in.available()) > 0) {
            long skipped = in.skip(n);
            if (skipped <= 0) {
                break;
            }
            total += skipped;
        }
        return total;
    }
}
