package io.mailroot.ingress.connection;

import io.mailroot.ingress.AddressList;
import io.mailroot.ingress.IngressMetrics;
import java.net.InetAddress;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.subethamail.smtp.server.Session;
import org.subethamail.smtp.server.SessionHandler;

/**
 * The virtual server's front door, asked before the greeting: IIS's connection control (grant and deny lists of
 * addresses, subnets and domain names) and connection limit, each answered with its enhanced status code.
 * SubEthaSMTP's own limit answers "421 Too many connections" without one, so its limit is set out of the way.
 * Besides IIS's limit for the whole virtual server there is one per client address, so that one client cannot
 * take every connection the server has ({@code 421 4.7.0}, a policy refusal of that client, where the server's
 * own limit is {@code 421 4.3.2}, the system being full).
 *
 * <p>As in IIS, a non-empty grant list means "only the list below"; the deny list means "all except the list
 * below". Domain names are matched against the client's forward-confirmed reverse DNS name.
 */
public final class ConnectionGate implements SessionHandler {

    private static final Logger LOG = LoggerFactory.getLogger(ConnectionGate.class);

    private final String virtualServer;
    private final Integer maxConnections;
    private final Integer maxPerClient;
    private final AddressList grant;
    private final AddressList deny;
    private final boolean reverseDnsLookup;
    private final ForwardConfirmedDns dns;
    private final AtomicInteger open = new AtomicInteger();
    /** Open sessions per client address; an address leaves the map when its last session ends. */
    private final Map<InetAddress, Integer> perClient = new ConcurrentHashMap<>();

    /**
     * @param maxConnections connections served at once over all of the virtual server's listeners; null for no limit
     * @param maxPerClient connections served at once from one client address; null for no limit
     * @param dns asked only when a list holds domain names or {@code reverseDnsLookup} is on
     */
    public ConnectionGate(String virtualServer, Integer maxConnections, Integer maxPerClient, AddressList grant,
                          AddressList deny, boolean reverseDnsLookup, ForwardConfirmedDns dns) {
        this.virtualServer = virtualServer;
        this.maxConnections = maxConnections;
        this.maxPerClient = maxPerClient;
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
            IngressMetrics.refused("connect", "554 5.7.1");
            return SessionAcceptance.failure(554, "5.7.1 Access denied");
        }
        if (maxConnections != null && open.incrementAndGet() > maxConnections) {
            open.decrementAndGet();
            LOG.info("{}: connection from {} refused: {} connections open", virtualServer, address.getHostAddress(),
                    maxConnections);
            IngressMetrics.refused("connect", "421 4.3.2");
            return SessionAcceptance.failure(421, "4.3.2 Too many connections, try again later");
        }
        if (maxPerClient != null && perClient.merge(address, 1, Integer::sum) > maxPerClient) {
            leave(address);
            if (maxConnections != null) {
                open.decrementAndGet();
            }
            LOG.info("{}: connection from {} refused: {} connections open from that address", virtualServer,
                    address.getHostAddress(), maxPerClient);
            IngressMetrics.refused("connect", "421 4.7.0");
            return SessionAcceptance.failure(421, "4.7.0 Too many connections from your address, try again later");
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
        if (maxPerClient != null) {
            leave(session.getRemoteAddress().getAddress());
        }
    }

    /** One session of the address fewer; the entry goes with the last one, so the map holds only open clients. */
    private void leave(InetAddress address) {
        perClient.computeIfPresent(address, (a, n) -> n > 1 ? n - 1 : null);
    }

    /** Sessions open now from the address (counted only when there is a per-client limit). */
    public int openFrom(InetAddress address) {
        return perClient.getOrDefault(address, 0);
    }

    /** Sessions open now (counted only when there is a limit). */
    public int open() {
        return open.get();
    }
}
