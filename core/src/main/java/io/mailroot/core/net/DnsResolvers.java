package io.mailroot.core.net;

import io.mailroot.core.config.MailrootConfig;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.SimpleResolver;

/** The DNS resolver that {@code dns.servers} and {@code dns.timeout} describe. */
public final class DnsResolvers {

    private static final int DNS_PORT = 53;

    private DnsResolvers() {
    }

    /** The configured servers (tried in turn), or the system's when none is configured. */
    public static Resolver of(MailrootConfig.DnsSettings dns) {
        Resolver resolver;
        try {
            if (dns.servers().isEmpty()) {
                resolver = new ExtendedResolver();
            } else {
                List<Resolver> each = new ArrayList<>();
                for (String s : dns.servers()) {
                    each.add(new SimpleResolver(socketAddress(HostAndPort.parse(s, DNS_PORT))));
                }
                resolver = each.size() == 1 ? each.get(0) : new ExtendedResolver(each);
            }
        } catch (UnknownHostException | IllegalArgumentException e) {
            throw new IllegalArgumentException("dns.servers: " + e.getMessage(), e);
        }
        resolver.setTimeout(dns.timeout() == null ? Duration.ofSeconds(5) : dns.timeout());
        return resolver;
    }

    /** A server given by name is found by the system resolver (there is no other to ask yet). */
    private static InetSocketAddress socketAddress(HostAndPort server) throws UnknownHostException {
        InetAddress address = server.address().isPresent() ? server.address().get() : InetAddress.getByName(server.host());
        return new InetSocketAddress(address, server.port());
    }
}
