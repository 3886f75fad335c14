package io.mailroot.deliverer;

import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.net.DnsResolvers;
import io.mailroot.core.net.HostAndPort;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.MXRecord;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.Section;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * Finds where mail for a domain goes (RFC 5321 section 5.1): MX hosts by preference, equal preferences shuffled
 * to spread load; the domain itself when it has no MX; a permanent failure for a null MX (RFC 7505) or a domain
 * that does not exist; a temporary one when DNS cannot answer now.
 */
public final class MxResolver {

    private final Resolver resolver;
    /** When no resolver is configured, host addresses come from the system (so /etc/hosts keeps working). */
    private final boolean systemAddresses;

    public MxResolver(MailrootConfig.DnsSettings dns) {
        this.systemAddresses = dns.servers().isEmpty();
        this.resolver = DnsResolvers.of(dns);
    }

    /** The hosts to try for {@code domain}, best first, each on {@code port}. */
    public List<HostAndPort> mailHosts(String domain, int port) throws DnsFailure {
        Message answer = query(domain, Type.MX);
        int rcode = answer.getRcode();
        if (rcode == Rcode.NXDOMAIN) {
            throw new DnsFailure("5.1.2", "domain " + domain + " does not exist (NXDOMAIN)");
        }
        if (rcode != Rcode.NOERROR) {
            throw new DnsFailure("4.4.3", "MX lookup for " + domain + " failed: " + Rcode.string(rcode));
        }
        List<MXRecord> mx = new ArrayList<>();
        for (Record r : answer.getSection(Section.ANSWER)) {
            if (r instanceof MXRecord m) {
                mx.add(m);
            }
        }
        if (mx.isEmpty()) {
            // No MX: the domain is its own mail host, but only if it has an address at all.
            if (addresses(domain).isEmpty()) {
                throw new DnsFailure("5.1.2", "domain " + domain + " has neither MX nor address records");
            }
            return List.of(new HostAndPort(domain, port));
        }
        if (mx.size() == 1 && mx.get(0).getTarget().equals(Name.root)) {
            throw new DnsFailure("5.1.10", "domain " + domain + " accepts no mail (null MX)");
        }
        return byPreference(mx).stream()
                .filter(m -> !m.getTarget().equals(Name.root))
                .map(m -> new HostAndPort(m.getTarget().toString(true), port))
                .distinct()
                .toList();
    }

    /**
     * The addresses of a host, IPv4 first; empty when the name has none. An IP address is used as it is, never
     * looked up. DNS failures other than "no such name" are temporary.
     */
    public List<InetAddress> addresses(HostAndPort host) throws DnsFailure {
        Optional<InetAddress> address = host.address();
        return address.isPresent() ? List.of(address.get()) : addresses(host.host());
    }

    public List<InetAddress> addresses(String host) throws DnsFailure {
        if (systemAddresses) {
            try {
                List<InetAddress> all = new ArrayList<>(List.of(InetAddress.getAllByName(host)));
                all.sort(Comparator.comparingInt(a -> a.getAddress().length));
                return all;
            } catch (UnknownHostException e) {
                return List.of();
            }
        }
        List<InetAddress> out = new ArrayList<>();
        boolean answered = false;
        DnsFailure temporary = null;
        for (int type : new int[] {Type.A, Type.AAAA}) {
            Message m;
            try {
                m = query(host, type);
            } catch (DnsFailure e) {
                temporary = e;
                continue;
            }
            int rcode = m.getRcode();
            if (rcode == Rcode.NXDOMAIN) {
                return List.of();
            }
            if (rcode != Rcode.NOERROR) {
                temporary = new DnsFailure("4.4.3", "address lookup for " + host + " failed: " + Rcode.string(rcode));
                continue;
            }
            answered = true;
            for (Record r : m.getSection(Section.ANSWER)) {
                if (r instanceof ARecord a) {
                    out.add(a.getAddress());
                } else if (r instanceof AAAARecord a) {
                    out.add(a.getAddress());
                }
            }
        }
        if (out.isEmpty() && !answered && temporary != null) {
            throw temporary;
        }
        return out;
    }

    private Message query(String name, int type) throws DnsFailure {
        Name qname;
        try {
            qname = Name.fromString(name.endsWith(".") ? name : name + ".");
        } catch (TextParseException e) {
            throw new DnsFailure("5.1.2", "'" + name + "' is not a valid domain name");
        }
        try {
            return resolver.send(Message.newQuery(Record.newRecord(qname, type, DClass.IN)));
        } catch (IOException e) {
            throw new DnsFailure("4.4.3", Type.string(type) + " lookup for " + name + " failed: " + e.getMessage());
        }
    }

    private static List<MXRecord> byPreference(List<MXRecord> mx) {
        Map<Integer, List<MXRecord>> groups = new LinkedHashMap<>();
        mx.stream().sorted(Comparator.comparingInt(MXRecord::getPriority))
                .forEach(m -> groups.computeIfAbsent(m.getPriority(), p -> new ArrayList<>()).add(m));
        List<MXRecord> ordered = new ArrayList<>();
        for (List<MXRecord> same : groups.values()) {
            Collections.shuffle(same, ThreadLocalRandom.current());
            ordered.addAll(same);
        }
        return ordered;
    }
}
