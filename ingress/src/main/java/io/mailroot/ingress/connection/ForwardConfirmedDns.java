package io.mailroot.ingress.connection;

import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.net.DnsResolvers;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.PTRRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.ReverseMap;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * The name of a client address that DNS vouches for both ways (forward-confirmed reverse DNS): a PTR name of the
 * address whose own A or AAAA records lead back to the address. A PTR record alone proves nothing, since whoever
 * owns the address writes it; the forward lookup is in the named domain's hands.
 *
 * <p>Answers are cached briefly (a busy client connects many times a minute) in a bounded map.
 */
public final class ForwardConfirmedDns {

    private static final Logger LOG = LoggerFactory.getLogger(ForwardConfirmedDns.class);
    private static final Duration CACHE_TIME = Duration.ofMinutes(5);
    private static final int CACHE_SIZE = 10_000;
    /** A hostile PTR zone may list many names; each costs two lookups. */
    private static final int MAX_NAMES = 4;

    private final Resolver resolver;
    private final Map<InetAddress, Cached> cache = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<InetAddress, Cached> eldest) {
            return size() > CACHE_SIZE;
        }
    };

    private record Cached(Optional<String> name, long expiresAt) {
    }

    public ForwardConfirmedDns(MailrootConfig.DnsSettings dns) {
        resolver = DnsResolvers.of(dns);
    }

    /**
     * The confirmed name of the address, lower case and without the final dot; empty when there is none or DNS
     * did not answer (a failure never confirms anything).
     */
    public Optional<String> name(InetAddress address) {
        long now = System.nanoTime();
        synchronized (cache) {
            Cached c = cache.get(address);
            if (c != null && now - c.expiresAt() < 0) {
                return c.name();
            }
        }
        Optional<String> name = lookUp(address);
        synchronized (cache) {
            cache.put(address, new Cached(name, now + CACHE_TIME.toNanos()));
        }
        return name;
    }

    private Optional<String> lookUp(InetAddress address) {
        try {
            Message ptr = query(ReverseMap.fromAddress(address), Type.PTR);
            int tried = 0;
            for (Record r : ptr.getSection(Section.ANSWER)) {
                if (r instanceof PTRRecord p && tried++ < MAX_NAMES) {
                    Name host = p.getTarget();
                    if (resolvesTo(host, address)) {
                        return Optional.of(host.toString(true).toLowerCase(Locale.ROOT));
                    }
                }
            }
        } catch (IOException e) {
            LOG.debug("reverse lookup of {} failed: {}", address.getHostAddress(), e.toString());
        }
        return Optional.empty();
    }

    private boolean resolvesTo(Name host, InetAddress address) throws IOException {
        Message m = query(host, address.getAddress().length == 4 ? Type.A : Type.AAAA);
        for (Record r : m.getSection(Section.ANSWER)) {
            InetAddress a = r instanceof ARecord ar ? ar.getAddress() : r instanceof AAAARecord aaaa ? aaaa.getAddress() : null;
            if (address.equals(a)) {
                return true;
            }
        }
        return false;
    }

    private Message query(Name name, int type) throws IOException {
        Message answer = resolver.send(Message.newQuery(Record.newRecord(name, type, DClass.IN)));
        int rcode = answer.getRcode();
        if (rcode != Rcode.NOERROR && rcode != Rcode.NXDOMAIN) {
            throw new IOException(name + " " + Type.string(type) + ": " + Rcode.string(rcode));
        }
        return answer;
    }
}
