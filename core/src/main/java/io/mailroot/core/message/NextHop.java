package io.mailroot.core.message;

import java.util.Locale;

/**
 * Where the router sends a group of remote recipients.
 *
 * @param domain the recipients' domain (all recipients of an outbound record share it)
 * @param relay a fixed {@code host[:port]} (smart host or route domain), or null to look up MX for {@code domain}
 * @param fallbackRelay a smart host to use after direct delivery failed (IIS "attempt direct delivery
 *     before sending to smart host"), or null
 */
public record NextHop(String domain, String relay, String fallbackRelay) {

    public NextHop {
        domain = domain.toLowerCase(Locale.ROOT);
    }

    public static NextHop direct(String domain) {
        return new NextHop(domain, null, null);
    }

    /** The Kafka key of outbound records: one deliverer owns a key at a time, so limits need no coordination. */
    public String key() {
        return relay != null ? "[" + relay.toLowerCase(Locale.ROOT) + "]" : domain;
    }
}
