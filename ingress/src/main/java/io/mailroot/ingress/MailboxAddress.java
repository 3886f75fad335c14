package io.mailroot.ingress;

import java.util.Locale;
import java.util.Optional;

/**
 * An RFC 5321 {@code Mailbox} read strictly, so that no spelling of an address can make a remote recipient look
 * local. The domain is the part after the {@code @} that ends the local part, found by parsing (a quoted local part
 * may hold an {@code @}), lower-cased and without a trailing root dot. {@code %} and {@code !} in a local part are
 * ordinary characters: Mailroot never routes on them (and RelayPolicy takes them only from a client that may relay).
 *
 * @param localPart as the client wrote it (dot-atom or quoted string); local parts are case-sensitive
 * @param domain lower-cased domain name, or an address literal such as {@code [192.0.2.1]}; empty only in
 *     {@link #DOMAINLESS_POSTMASTER}
 */
public record MailboxAddress(String localPart, String domain) {

    private static final int MAX_LOCAL = 64;
    private static final int MAX_DOMAIN = 255;
    private static final int MAX_PATH = 254;
    private static final String POSTMASTER = "postmaster";

    /**
     * {@code postmaster} without a domain (RFC 5321 section 4.5.1): this server's own postmaster, as the recipient
     * policies see it. {@link #parse} never gives it; the RCPT code asks {@link #isDomainlessPostmaster} first.
     */
    public static final MailboxAddress DOMAINLESS_POSTMASTER = new MailboxAddress(POSTMASTER, "");

    /** The address as written into envelopes and given to policies, e.g. {@code Bob@local.test}. */
    public String address() {
        return domainless() ? localPart : localPart + "@" + domain;
    }

    /** Whether this is {@link #DOMAINLESS_POSTMASTER}: local by definition, wherever the server is. */
    public boolean domainless() {
        return domain.isEmpty();
    }

    /** An address literal names a host, not a domain: never one of ours, so never local. */
    public boolean literal() {
        return domain.startsWith("[");
    }

    @Override
    public String toString() {
        return address();
    }

    /** Why a path was refused; the caller picks the basic code and enhanced subject (sender or recipient). */
    public static final class Invalid extends Exception {
        Invalid(String reason) {
            super(reason, null, false, false);
        }
    }

    /**
     * Parses what is inside the angle brackets of a forward or reverse path.
     *
     * @throws Invalid with a text fit for the client when the path is not a plain mailbox
     */
    public static MailboxAddress parse(String path) throws Invalid {
        if (path.isEmpty()) {
            throw new Invalid("Empty address");
        }
        if (path.charAt(0) == '@' && path.indexOf(':') > 0) {
            // RFC 5321 lets a server strip a source route, but judging relay on a route is how relays were opened
            throw new Invalid("Source routes are not accepted");
        }
        if (path.length() > MAX_PATH) {
            throw new Invalid("Address too long");
        }
        int at = path.charAt(0) == '"' ? endOfQuoted(path) : endOfDotAtom(path);
        if (at >= path.length() || path.charAt(at) != '@') {
            throw new Invalid("Address must be local-part@domain");
        }
        String local = path.substring(0, at);
        if (local.length() > MAX_LOCAL) {
            throw new Invalid("Local part too long");
        }
        String domain = domain(path.substring(at + 1));
        return new MailboxAddress(local, domain);
    }

    /**
     * Whether {@code path} is {@code postmaster} without a domain, in any case: the one mailbox RFC 5321 section
     * 4.5.1 lets a client name so, and every server must accept it as its own postmaster. {@link #parse} refuses it;
     * the RCPT code asks this first.
     */
    public static boolean isDomainlessPostmaster(String path) {
        return POSTMASTER.equalsIgnoreCase(path);
    }

    /** The mailbox {@code path} names, or empty when it is not a plain mailbox. */
    public static Optional<MailboxAddress> tryParse(String path) {
        try {
            return Optional.of(parse(path));
        } catch (Invalid e) {
            return Optional.empty();
        }
    }

    /** Index just after a dot-atom starting at 0. */
    private static int endOfDotAtom(String s) throws Invalid {
        int i = 0;
        boolean atomStart = true;
        while (i < s.length() && s.charAt(i) != '@') {
            char c = s.charAt(i);
            if (c == '.') {
                if (atomStart) {
                    throw new Invalid("Bad local part");
                }
                atomStart = true;
            } else if (atext(c)) {
                atomStart = false;
            } else {
                throw new Invalid("Bad character in local part");
            }
            i++;
        }
        if (atomStart) {
            throw new Invalid("Bad local part");
        }
        return i;
    }

    /** Index just after a quoted string starting at 0. */
    private static int endOfQuoted(String s) throws Invalid {
        int i = 1;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == '"') {
                return i + 1;
            }
            if (c == '\\') {
                if (i + 1 >= s.length() || s.charAt(i + 1) < 0x20 || s.charAt(i + 1) > 0x7E) {
                    throw new Invalid("Bad quoted local part");
                }
                i += 2;
            } else if (c >= 0x20 && c <= 0x7E) {
                i++;
            } else {
                throw new Invalid("Bad character in local part");
            }
        }
        throw new Invalid("Unterminated quoted local part");
    }

    private static String domain(String d) throws Invalid {
        if (d.startsWith("[")) {
            if (!d.endsWith("]") || !d.substring(1, d.length() - 1).matches("(IPv6:[0-9A-Fa-f:.]+|[0-9]{1,3}(\\.[0-9]{1,3}){3})")) {
                throw new Invalid("Bad address literal");
            }
            return d.toLowerCase(Locale.ROOT).replace("ipv6:", "IPv6:");
        }
        // One root dot is the same domain ("local.test." is "local.test"); anything else must be a plain name.
        String name = d.endsWith(".") ? d.substring(0, d.length() - 1) : d;
        if (name.isEmpty() || name.length() > MAX_DOMAIN) {
            throw new Invalid("Bad domain");
        }
        for (String label : name.split("\\.", -1)) {
            if (!label(label)) {
                throw new Invalid("Bad domain");
            }
        }
        return name.toLowerCase(Locale.ROOT);
    }

    private static boolean label(String l) {
        if (l.isEmpty() || l.length() > 63 || l.charAt(0) == '-' || l.charAt(l.length() - 1) == '-') {
            return false;
        }
        for (int i = 0; i < l.length(); i++) {
            char c = l.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-')) {
                return false;
            }
        }
        return true;
    }

    private static boolean atext(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
                || "!#$%&'*+-/=?^_`{|}~".indexOf(c) >= 0;
    }
}
