package io.mailroot.core.net;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;
import org.xbill.DNS.Address;

/**
 * A host and port as an operator writes it for a relay or a DNS server: {@code host}, {@code host:port}, an IP
 * address bracketed or not ({@code 10.0.0.1:2526}, {@code [10.0.0.1]:2526}, {@code 2001:db8::1},
 * {@code [2001:db8::1]:2526}, also {@code [IPv6:2001:db8::1]} as in RFC 5321). An unbracketed IPv6 address has no
 * port: every colon in it belongs to the address.
 *
 * @param host a lower-case host name, or an IP address in its canonical text form when {@link #isAddress()}
 */
public record HostAndPort(String host, int port) {

    private static final Pattern NAME = Pattern.compile("[a-z0-9_]([a-z0-9_.-]*[a-z0-9_.])?");
    private static final Pattern DIGITS = Pattern.compile("\\d{1,5}");

    public HostAndPort {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is not within 1-65535");
        }
        host = host.toLowerCase(Locale.ROOT);
    }

    /**
     * Parses {@code text}; {@code defaultPort} when it names none.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static HostAndPort parse(String text, int defaultPort) {
        String s = text.trim();
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("'" + text + "' has no closing ]");
            }
            String inside = s.substring(1, close);
            if (inside.regionMatches(true, 0, "IPv6:", 0, 5)) {
                inside = inside.substring(5);
            }
            InetAddress address = literal(inside).orElseThrow(
                    () -> new IllegalArgumentException("'" + text + "': brackets hold an IP address only"));
            String rest = s.substring(close + 1);
            if (rest.isEmpty()) {
                return new HostAndPort(address.getHostAddress(), defaultPort);
            }
            if (!rest.startsWith(":")) {
                throw new IllegalArgumentException("'" + text + "': only :port may follow ]");
            }
            return new HostAndPort(address.getHostAddress(), port(rest.substring(1), text));
        }
        int colon = s.indexOf(':');
        if (colon >= 0 && s.indexOf(':', colon + 1) >= 0) {
            // Two colons or more: an IPv6 address, which without brackets has no port.
            return new HostAndPort(literal(s).orElseThrow(() -> new IllegalArgumentException(
                    "'" + text + "' is not an IPv6 address (write [address]:port for a port)")).getHostAddress(), defaultPort);
        }
        String host = colon < 0 ? s : s.substring(0, colon);
        int port = colon < 0 ? defaultPort : port(s.substring(colon + 1), text);
        Optional<InetAddress> address = literal(host);
        if (address.isPresent()) {
            return new HostAndPort(address.get().getHostAddress(), port);
        }
        String name = host.toLowerCase(Locale.ROOT);
        if (!NAME.matcher(name).matches() || name.matches("[0-9.]+")) {
            throw new IllegalArgumentException("'" + text + "' is neither a host name nor an IP address");
        }
        return new HostAndPort(name, port);
    }

    /** Whether {@link #parse} accepts {@code text}. */
    public static boolean isValid(String text) {
        try {
            parse(text, 1);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** The IP address this stands for when it is one; never a DNS lookup. */
    public Optional<InetAddress> address() {
        return literal(host);
    }

    public boolean isAddress() {
        return address().isPresent();
    }

    /** An IPv6 address is bracketed so that its port can be told apart. */
    @Override
    public String toString() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    private static Optional<InetAddress> literal(String s) {
        int family = s.indexOf(':') >= 0 ? Address.IPv6 : Address.IPv4;
        byte[] bytes = Address.toByteArray(s, family);
        if (bytes == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(InetAddress.getByAddress(bytes));
        } catch (UnknownHostException e) {
            return Optional.empty();
        }
    }

    private static int port(String digits, String text) {
        if (!DIGITS.matcher(digits).matches()) {
            throw new IllegalArgumentException("'" + text + "': port '" + digits + "' is not a number");
        }
        return Integer.parseInt(digits);
    }
}
