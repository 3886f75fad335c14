package io.mailroot.ingress;

import io.mailroot.core.config.ConfigException;
import io.mailroot.ingress.connection.ForwardConfirmedDns;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A list of addresses, subnets and domain names from the configuration (relay.allow, connection control grant and
 * deny). A domain-name entry {@code example.com} matches a client whose forward-confirmed reverse DNS name is
 * {@code example.com} or ends in {@code .example.com} (IIS's "domain" entries); {@code *.example.com} is the same.
 * Names are matched only when the list was given a resolver, or when the caller supplies the confirmed name.
 */
public final class AddressList {

    private final List<CidrBlock> blocks;
    private final List<String> names;
    private final ForwardConfirmedDns dns;

    private AddressList(List<CidrBlock> blocks, List<String> names, ForwardConfirmedDns dns) {
        this.blocks = blocks;
        this.names = names;
        this.dns = dns;
    }

    /** What an entry may be, as a configuration error says it. */
    static final String ALLOWED = "an IP address, a CIDR subnet (e.g. 10.0.0.0/8) or a domain name";

    /** A list whose domain names match nobody (there is no resolver to confirm a client's name). */
    public static AddressList parse(String key, List<String> entries) {
        return parse(key, entries, null);
    }

    /**
     * A list that asks {@code dns} for a client's confirmed name when it holds domain names.
     *
     * @param key the configuration key the entries come from, named in the error
     * @throws ConfigException for an entry written as an address or subnet that is not one ({@code 10.0.0.0/33},
     *     {@code 192.168.1.300}): taken as a name it would match nobody, and a deny list would deny nobody
     */
    public static AddressList parse(String key, List<String> entries, ForwardConfirmedDns dns) {
        List<CidrBlock> blocks = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (String e : entries) {
            Optional<CidrBlock> block = CidrBlock.parse(e);
            if (block.isPresent()) {
                blocks.add(block.get());
            } else if (CidrBlock.looksLikeOne(e)) {
                throw ConfigException.invalid(key, e, ALLOWED);
            } else {
                names.add(normalName(e));
            }
        }
        return new AddressList(List.copyOf(blocks), List.copyOf(names), dns);
    }

    private static String normalName(String entry) {
        String n = entry.trim().toLowerCase(Locale.ROOT);
        if (n.startsWith("*.")) {
            n = n.substring(2);
        }
        while (n.endsWith(".")) {
            n = n.substring(0, n.length() - 1);
        }
        return n;
    }

    public List<CidrBlock> blocks() {
        return blocks;
    }

    /** The domain-name entries, lower case, without a leading {@code *.} or trailing dot. */
    public List<String> names() {
        return names;
    }

    public boolean isEmpty() {
        return blocks.isEmpty() && names.isEmpty();
    }

    /** Whether the list holds the address, looking its name up (cached) only if an address entry did not match. */
    public boolean contains(InetAddress address) {
        if (containsAddress(address)) {
            return true;
        }
        return !names.isEmpty() && dns != null && containsName(dns.name(address));
    }

    /** Whether the list holds the address or the name already confirmed for it; never asks DNS. */
    public boolean contains(InetAddress address, Optional<String> confirmedName) {
        return containsAddress(address) || containsName(confirmedName);
    }

    /** Whether matching this list may need the client's name. */
    public boolean needsName() {
        return !names.isEmpty();
    }

    private boolean containsAddress(InetAddress address) {
        return blocks.stream().anyMatch(b -> b.contains(address));
    }

    private boolean containsName(Optional<String> confirmedName) {
        if (confirmedName.isEmpty()) {
            return false;
        }
        String n = confirmedName.get().toLowerCase(Locale.ROOT);
        return names.stream().anyMatch(entry -> n.equals(entry) || n.endsWith("." + entry));
    }

    @Override
    public String toString() {
        List<String> all = new ArrayList<>();
        blocks.forEach(b -> all.add(b.toString()));
        all.addAll(names);
        return all.toString();
    }
}
