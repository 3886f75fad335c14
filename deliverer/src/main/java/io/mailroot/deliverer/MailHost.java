package io.mailroot.deliverer;

import java.util.Locale;

/**
 * A host to open an SMTP connection to: an MX target, an implicit MX, or a configured relay.
 *
 * @param name a host name, or an address literal when {@code literal} (from {@code [1.2.3.4]})
 */
public record MailHost(String name, int port, boolean literal) {

    /**
     * Parses a smart host or route-domain value: {@code host}, {@code host:port}, {@code [1.2.3.4]},
     * {@code [1.2.3.4]:port} or {@code [::1]:port}.
     */
    public static MailHost parseRelay(String relay, int defaultPort) {
        String s = relay.trim();
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("relay " + relay + " has no closing ]");
            }
            String host = s.substring(1, close);
            String rest = s.substring(close + 1);
            int port = rest.startsWith(":") ? Integer.parseInt(rest.substring(1)) : defaultPort;
            return new MailHost(host, port, true);
        }
        int colon = s.lastIndexOf(':');
        if (colon > 0 && s.indexOf(':') == colon) {
            return new MailHost(s.substring(0, colon).toLowerCase(Locale.ROOT), Integer.parseInt(s.substring(colon + 1)), false);
        }
        return new MailHost(s.toLowerCase(Locale.ROOT), defaultPort, false);
    }

    @Override
    public String toString() {
        return (literal ? "[" + name + "]" : name) + ":" + port;
    }
}
