package io.mailroot.ingress;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;
import java.util.regex.Pattern;

/** One IPv4 or IPv6 address, or a CIDR subnet of them, as written in relay and connection lists. */
public final class CidrBlock {

    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Pattern NUMERIC = Pattern.compile("[0-9.]+");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

    private final byte[] network;
    private final int prefixLength;
    private final String text;

    private CidrBlock(byte[] network, int prefixLength, String text) {
        this.network = network;
        this.prefixLength = prefixLength;
        this.text = text;
    }

    /**
     * Parses {@code 192.0.2.7}, {@code 192.0.2.0/24}, {@code 2001:db8::/32} or {@code [::1]}. Anything else
     * (a domain name, a typo) gives empty: only literals are parsed, so this never asks DNS.
     */
    public static Optional<CidrBlock> parse(String entry) {
        String s = entry.trim();
        int slash = s.indexOf('/');
        String addr = slash < 0 ? s : s.substring(0, slash);
        if (addr.startsWith("[") && addr.endsWith("]")) {
            addr = addr.substring(1, addr.length() - 1);
        }
        if (!IPV4.matcher(addr).matches() && !IPV6.matcher(addr).matches()) {
            return Optional.empty();
        }
        byte[] bytes;
        try {
            bytes = InetAddress.getByName(addr).getAddress();
        } catch (UnknownHostException e) {
            return Optional.empty();
        }
        int bits = bytes.length * 8;
        int prefix = bits;
        if (slash >= 0) {
            try {
                prefix = Integer.parseInt(s.substring(slash + 1));
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
            if (prefix < 0 || prefix > bits) {
                return Optional.empty();
            }
        }
        return Optional.of(new CidrBlock(mask(bytes, prefix), prefix, s));
    }

    /**
     * Whether {@code entry} is written as an address or subnet rather than a domain name: it holds a {@code /},
     * a {@code :} or brackets, or only digits and dots (no top-level domain is numeric). Such an entry that
     * {@link #parse} refuses is a typo, not a name.
     */
    public static boolean looksLikeOne(String entry) {
        String s = entry.trim();
        return s.indexOf('/') >= 0 || s.indexOf(':') >= 0 || s.startsWith("[") || NUMERIC.matcher(s).matches();
    }

    public boolean contains(InetAddress address) {
        byte[] a = address.getAddress();
        return a.length == network.length && java.util.Arrays.equals(mask(a, prefixLength), network);
    }

    private static byte[] mask(byte[] address, int prefix) {
        byte[] m = address.clone();
        for (int i = 0; i < m.length; i++) {
            int keep = Math.max(0, Math.min(8, prefix - i * 8));
            m[i] &= (byte) (0xFF << (8 - keep));
        }
        return m;
    }

    @Override
    public String toString() {
        return text;
    }
}
