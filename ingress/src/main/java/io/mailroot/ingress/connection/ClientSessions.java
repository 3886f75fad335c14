package io.mailroot.ingress.connection;

import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.subethamail.smtp.MessageContext;

/**
 * What the connection layer learned about each open SMTP session, for the transaction layer to read through the
 * {@link MessageContext} SubEthaSMTP hands it (the context is the session itself). Entries live from the moment
 * {@link ConnectionGate} accepts a session until the session ends.
 */
public final class ClientSessions {

    /**
     * @param address the client's address
     * @param verifiedName the client's forward-confirmed reverse DNS name, when the virtual server looks names up
     *     ({@code reverseDnsLookup}) and DNS confirmed one; else empty
     */
    public record ClientSession(InetAddress address, Optional<String> verifiedName) {
    }

    private static final Map<MessageContext, ClientSession> SESSIONS = new ConcurrentHashMap<>();

    private ClientSessions() {
    }

    /** The session's client as the connection layer saw it, or empty for a session it did not accept. */
    public static Optional<ClientSession> of(MessageContext context) {
        return Optional.ofNullable(SESSIONS.get(context));
    }

    /**
     * The forward-confirmed reverse DNS name of the session's client, when {@code reverseDnsLookup} is on and DNS
     * confirmed one; empty otherwise (no PTR, a PTR whose name does not lead back to the address, or DNS failed).
     */
    public static Optional<String> verifiedName(MessageContext context) {
        ClientSession s = SESSIONS.get(context);
        return s == null ? Optional.empty() : s.verifiedName();
    }

    static void put(MessageContext context, ClientSession session) {
        SESSIONS.put(context, session);
    }

    static void remove(MessageContext context) {
        SESSIONS.remove(context);
    }

    /** How many sessions are open now. */
    public static int open() {
        return SESSIONS.size();
    }

    /** The sessions open now (for monitoring and tests). */
    public static List<ClientSession> snapshot() {
        return List.copyOf(SESSIONS.values());
    }
}
