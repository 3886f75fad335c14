package io.mailroot.deliverer;

import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.NextHop;
import io.mailroot.core.message.Recipient;
import io.mailroot.core.net.HostAndPort;
import io.mailroot.deliverer.DeliveryResult.Verdict;
import io.mailroot.deliverer.smtp.RecipientReply;
import io.mailroot.deliverer.smtp.SmtpClient;
import io.mailroot.deliverer.smtp.SmtpRefusedException;
import io.mailroot.deliverer.smtp.SmtpSecurityException;
import io.mailroot.deliverer.smtp.SmtpSession;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One delivery thread's hold on one next hop: it finds the hop's hosts, keeps one connection open and reuses it
 * for up to {@code maxMessagesPerConnection} transactions, splits long recipient lists, moves on to the next MX when
 * a host refuses the connection or the whole transaction for now, applies a relay's Outbound Security settings, and
 * tries the fallback relay for what the direct route could not deliver. Used by one thread at a time.
 */
final class HopSender implements Closeable {

    private static final Logger LOG = LoggerFactory.getLogger(HopSender.class);
    /** After a failed connect, later messages of the same run share the failure for this long instead of waiting again. */
    private static final Duration REMEMBER_UNREACHABLE = Duration.ofSeconds(10);

    private final NextHop hop;
    private final MailrootConfig config;
    private final MxResolver resolver;
    private final SmtpClient client;
    /** What the direct route's relay (smart host or route domain) demands; opportunistic TLS for MX hosts. */
    private final SmtpSession.Security directSecurity;
    private volatile SmtpSession session;
    private Unreachable unreachable;
    /** The hosts of the current route and which of them the open session is connected to. */
    private List<HostAndPort> route;
    private int routeIndex;
    private long unreachableAt;

    /** What trying to connect came to. */
    private sealed interface Attempt permits Opened, Unreachable {
    }

    /** A session, and which host of the route it is connected to. */
    private record Opened(SmtpSession session, int index) implements Attempt {
    }

    /** Why no session could be opened. */
    private record Unreachable(boolean permanent, String status, String reason, String host) implements Attempt {
        static Unreachable of(DnsFailure e) {
            return new Unreachable(e.permanent(), e.status(), e.getMessage(), null);
        }
    }

    HopSender(NextHop hop, MailrootConfig config, MxResolver resolver, SmtpClient client) {
        this.hop = hop;
        this.config = config;
        this.resolver = resolver;
        this.client = client;
        this.directSecurity = security(config, hop.relay());
    }

    /** The Outbound Security settings of a relay as written in smartHost or routeDomains. */
    static SmtpSession.Security security(MailrootConfig config, String relay) {
        if (relay == null) {
            return SmtpSession.Security.OPPORTUNISTIC;
        }
        MailrootConfig.OutboundSecurity s = config.delivery().securityFor(relay);
        return new SmtpSession.Security(s.requireTls(), s.username(), s.password(), relay, s.verifyCertificate());
    }

    /**
     * One result per recipient of {@code mail}. Recipients in local domains are never sent by SMTP: they come back
     * as {@link Verdict#LOCAL}, for local delivery.
     */
    List<DeliveryResult> deliver(MailRecord mail) {
        Envelope env = mail.envelope();
        List<Recipient> remote = new ArrayList<>();
        List<DeliveryResult> local = new ArrayList<>();
        for (Recipient r : env.recipients()) {
            if (config.isLocal(r.domain())) {
                LOG.info("{}: recipient {} is in a local domain; handing it to local delivery", env.id(), r.address());
                local.add(new DeliveryResult(r, Verdict.LOCAL, "2.0.0", "local domain " + r.domain(), null));
            } else {
                remote.add(r);
            }
        }
        if (remote.isEmpty()) {
            return local;
        }
        List<DeliveryResult> results = sendDirect(env, remote, mail.message());
        if (hop.fallbackRelay() != null && hop.relay() == null
                && results.stream().anyMatch(r -> r.verdict() == Verdict.DEFERRED)) {
            results = viaFallback(env, results, mail.message());
        }
        if (local.isEmpty()) {
            return results;
        }
        List<DeliveryResult> all = new ArrayList<>(results);
        all.addAll(local);
        return all;
    }

    private List<DeliveryResult> sendDirect(Envelope env, List<Recipient> recipients, byte[] message) {
        List<DeliveryResult> results = new ArrayList<>();
        int chunk = Math.max(1, config.delivery().maxRecipientsPerMessage());
        for (int from = 0; from < recipients.size(); from += chunk) {
            List<Recipient> part = recipients.subList(from, Math.min(recipients.size(), from + chunk));
            while (true) {
                List<DeliveryResult> done = transaction(env, part, message);
                // RFC 5321 4.5.3.1.10: 452 for excess recipients means "send the rest in another transaction".
                List<DeliveryResult> excess = done.stream().filter(HopSender::tooManyRecipients).toList();
                boolean progress = done.stream().anyMatch(DeliveryResult::accepted);
                if (excess.isEmpty() || !progress) {
                    results.addAll(done);
                    break;
                }
                done.stream().filter(r -> !tooManyRecipients(r)).forEach(results::add);
                part = excess.stream().map(DeliveryResult::recipient).toList();
            }
        }
        return results;
    }

    private static boolean tooManyRecipients(DeliveryResult r) {
        return r.verdict() == Verdict.DEFERRED && r.reply() != null && r.reply().startsWith("452");
    }

    private List<DeliveryResult> transaction(Envelope env, List<Recipient> part, byte[] message) {
        SmtpSession s = session;
        if (s != null && (!s.usable() || s.transactions() >= config.delivery().maxMessagesPerConnection())) {
            s.quit();
            session = s = null;
        }
        if (s == null) {
            if (unreachable != null && System.nanoTime() - unreachableAt < REMEMBER_UNREACHABLE.toNanos()) {
                return failAll(part, unreachable);
            }
            try {
                route = directHosts();
            } catch (DnsFailure e) {
                return remember(part, Unreachable.of(e));
            }
            Attempt attempt = open(route, 0, directSecurity);
            if (attempt instanceof Unreachable u) {
                return remember(part, u);
            }
            Opened opened = (Opened) attempt;
            unreachable = null;
            session = s = opened.session();
            routeIndex = opened.index();
        }
        if (!s.supports("8BITMIME") && SmtpSession.eightBit(message)) {
            // RFC 6152: no 8-bit data to a hop that did not offer it; converting would break DKIM signatures.
            String host = s.host();
            return part.stream().map(r -> new DeliveryResult(r, Verdict.FAILED, "5.6.3",
                    "message has 8-bit content and " + host + " does not offer 8BITMIME", host)).toList();
        }
        boolean reused = s.transactions() > 0;
        List<DeliveryResult> results = results(part, s.send(env, part, message), s);
        if (reused && !s.usable() && results.stream().allMatch(r -> r.verdict() == Verdict.DEFERRED)
                && route != null && open(route, routeIndex, directSecurity) instanceof Opened fresh) {
            // A kept-open connection the host had meanwhile closed: that says nothing about the host, so once more.
            s.close();
            session = s = fresh.session();
            routeIndex = fresh.index();
            results = results(part, s.send(env, part, message), s);
        }
        // A host that dropped or closed the session (421, lost connection), or put off the whole transaction with a
        // 4xx (to MAIL, DATA or the data), with nothing decided: the next MX may do better (RFC 5321 5.1).
        while ((!s.usable() || s.transactionRefused()) && results.stream().allMatch(r -> r.verdict() == Verdict.DEFERRED)
                && route != null && routeIndex + 1 < route.size()) {
            s.quit();
            session = null;
            if (!(open(route, routeIndex + 1, directSecurity) instanceof Opened opened)) {
                break;
            }
            session = s = opened.session();
            routeIndex = opened.index();
            results = results(part, s.send(env, part, message), s);
        }
        return results;
    }

    private List<DeliveryResult> remember(List<Recipient> part, Unreachable u) {
        unreachable = u;
        unreachableAt = System.nanoTime();
        return failAll(part, u);
    }

    /** Sends what was deferred once more through the fallback relay, on a connection of its own. */
    private List<DeliveryResult> viaFallback(Envelope env, List<DeliveryResult> direct, byte[] message) {
        List<Recipient> deferred = direct.stream().filter(r -> r.verdict() == Verdict.DEFERRED)
                .map(DeliveryResult::recipient).toList();
        // One connection per delivery thread keeps us within the connection limits: give up the direct one first.
        quit();
        Attempt attempt = open(List.of(HostAndPort.parse(hop.fallbackRelay(), config.delivery().outboundPort())), 0,
                security(config, hop.fallbackRelay()));
        List<DeliveryResult> retried = new ArrayList<>();
        if (attempt instanceof Unreachable u) {
            retried.addAll(failAll(deferred, u));
        } else {
            SmtpSession relay = ((Opened) attempt).session();
            try {
                int chunk = Math.max(1, config.delivery().maxRecipientsPerMessage());
                for (int from = 0; from < deferred.size(); from += chunk) {
                    List<Recipient> part = deferred.subList(from, Math.min(deferred.size(), from + chunk));
                    retried.addAll(results(part, relay.send(env, part, message), relay));
                }
            } finally {
                relay.quit();
            }
        }
        Map<String, DeliveryResult> byAddress = new HashMap<>();
        retried.forEach(r -> byAddress.put(r.recipient().address(), r));
        return direct.stream().map(r -> r.verdict() == Verdict.DEFERRED
                ? byAddress.getOrDefault(r.recipient().address(), r) : r).toList();
    }

    /** The hosts for the hop: its relay, or its MX hosts. */
    private List<HostAndPort> directHosts() throws DnsFailure {
        int port = config.delivery().outboundPort();
        if (hop.relay() != null) {
            return List.of(HostAndPort.parse(hop.relay(), port));
        }
        return resolver.mailHosts(hop.domain(), port);
    }

    /** Tries each host from {@code from} on, each of its addresses in order; returns a session or why none could be had. */
    private Attempt open(List<HostAndPort> hosts, int from, SmtpSession.Security security) {
        String lastError = "no mail host for " + hop.name();
        String lastHost = null;
        String status = "4.4.1";
        for (int i = from; i < hosts.size(); i++) {
            HostAndPort host = hosts.get(i);
            List<InetAddress> addresses;
            try {
                addresses = resolver.addresses(host);
            } catch (DnsFailure e) {
                lastError = e.getMessage();
                lastHost = host.host();
                status = e.permanent() ? "4.4.3" : e.status();
                continue;
            }
            if (addresses.isEmpty()) {
                lastError = "mail host " + host.host() + " has no address";
                lastHost = host.host();
                status = "4.4.3";
                continue;
            }
            for (InetAddress address : addresses) {
                lastHost = host.host();
                try {
                    return new Opened(client.connect(host.host(), address, host.port(), security), i);
                } catch (SmtpSecurityException e) {
                    // Names the relay: this is for the operator to fix, and stays temporary until they do.
                    lastError = e.getMessage();
                    status = e.status();
                } catch (SmtpRefusedException e) {
                    lastError = e.getMessage();
                    status = "4.4.1";
                } catch (IOException e) {
                    lastError = "connect to " + host.host() + "[" + address.getHostAddress() + "]:" + host.port()
                            + ": " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
                    status = "4.4.1";
                }
                LOG.debug("{}: {}", hop.key(), lastError);
            }
        }
        return new Unreachable(false, status, lastError, lastHost);
    }

    private static List<DeliveryResult> failAll(List<Recipient> recipients, Unreachable u) {
        Verdict v = u.permanent() ? Verdict.FAILED : Verdict.DEFERRED;
        return recipients.stream().map(r -> new DeliveryResult(r, v, u.status(), u.reason(), u.host())).toList();
    }

    private static List<DeliveryResult> results(List<Recipient> part, List<RecipientReply> replies, SmtpSession s) {
        String host = s.host();
        String address = s.address();
        boolean dsn = s.supports("DSN");
        List<DeliveryResult> out = new ArrayList<>(part.size());
        for (int i = 0; i < part.size(); i++) {
            RecipientReply rr = replies.get(i);
            Recipient r = part.get(i);
            if (rr.reply() == null) {
                out.add(DeliveryResult.deferred(r, "4.4.2", rr.error(), host));
            } else if (rr.reply().positive()) {
                Verdict v = dsn ? Verdict.DELIVERED : Verdict.RELAYED;
                out.add(new DeliveryResult(r, v, rr.reply().status(), rr.reply().text(), host, address));
            } else if (rr.reply().permanentFailure()) {
                out.add(new DeliveryResult(r, Verdict.FAILED, rr.reply().status(), rr.reply().text(), host, address));
            } else {
                String status = rr.reply().transientFailure() ? rr.reply().status() : "4.0.0";
                out.add(new DeliveryResult(r, Verdict.DEFERRED, status, rr.reply().text(), host, address));
            }
        }
        return out;
    }

    /** Ends the current connection politely (QUIT) if there is one. */
    void quit() {
        SmtpSession s = session;
        session = null;
        if (s != null) {
            s.quit();
        }
    }

    /** Drops the connection at once; safe from another thread (shutdown abandons a stuck read this way). */
    @Override
    public void close() {
        SmtpSession s = session;
        session = null;
        if (s != null) {
            s.close();
        }
    }
}
