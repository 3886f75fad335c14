package io.mailroot.ingress.connection;

import io.mailroot.ingress.AddressList;
import java.net.InetAddress;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.subethamail.smtp.server.Session;
import org.subethamail.smtp.server.SessionHandler;

/**
 * The virtual server's front door, asked before the greeting: IIS's connection control (grant and deny lists of
 * addresses, subnets and domain names) and connection limit, each answered with its enhanced status code.
 * SubEthaSMTP's own limit answers "421 Too many connections" without one, so its limit is set out of the way.
 *
 * <p>As in IIS, a non-empty grant list means "only the list below"; the deny list means "all except the list
 * below". Domain names are matched against the client's forward-confirmed reverse DNS name.
 */
public final class ConnectionGate implements SessionHandler {

    private static final Logger LOG = LoggerFactory.getLogger(ConnectionGate.class);

    private final String virtualServer;
    private final Integer maxConnections;
    private final AddressList grant;
    private final AddressList deny;
    private final boolean reverseDnsLookup;
    private final ForwardConfirmedDns dns;
    private final AtomicInteger open = new AtomicInteger();

    /**
     * @param maxConnections connections served at once over all of the virtual server's listeners; null for no limit
     * @param dns asked only when a list holds domain names or {@code reverseDnsLookup} is on
     */
    public ConnectionGate(String virtualServer, Integer maxConnections, AddressList grant, AddressList deny,
                          boolean reverseDnsLookup, ForwardConfirmedDns dns) {
        this.virtualServer = virtualServer;
        this.maxConnections = maxConnections;
        this.grant = grant;
        this.deny = deny;
        this.reverseDnsLookup = reverseDnsLookup;
        this.dns = dns;
    }

    @Override
    public SessionAcceptance accept(Session session) {
        InetAddress address = session.getRemoteAddress().getAddress();
        Optional<String> name = reverseDnsLookup || grant.needsName() || deny.needsName()
                ? dns.name(address)
                : Optional.empty();
        if ((!grant.isEmpty() && !grant.contains(address, name)) || deny.contains(address, name)) {
            LOG.info("{}: connection from {}{} denied", virtualServer, address.getHostAddress(),
                    name.map(n -> " (" + n + ")").orElse(""));
            return SessionAcceptance.failure(554, "5.7.1 Access denied");
        }
        if (maxConnections != null && open.incrementAndGet() > maxConnections) {
            open.decrementAndGet();
            LOG.info("{}: connection from {} refused: {} connections open", virtualServer, address.getHostAddress(),
                    maxConnections);
            return SessionAcceptance.failure(421, "4.3.2 Too many connections, try again later");
        }
        ClientSessions.put(session, new ClientSessions.ClientSession(address, reverseDnsLookup ? name : Optional.empty()));
        return SessionAcceptance.success();
    }

    /** Called by SubEthaSMTP only for sessions {@link #accept} let in. */
    @Override
    public void onSessionEnd(Session session) {
        ClientSessions.remove(session);
        if (maxConnections != null) {
            open.decrementAndGet();
        }
    }

    /** Sessions open now (counted only when there is a limit). */
    public int open() {
        return open.get();
    }
}
