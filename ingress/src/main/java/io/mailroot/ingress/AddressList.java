package io.mailroot.ingress;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * A list of addresses and subnets from the configuration (relay.allow, and later connection control).
 * Domain-name entries are kept aside in {@link #names()}: matching them needs reverse DNS, which comes later.
 */
public record AddressList(List<CidrBlock> blocks, List<String> names) {

    public static AddressList parse(List<String> entries) {
        List<CidrBlock> blocks = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (String e : entries) {
            CidrBlock.parse(e).ifPresentOrElse(blocks::add, () -> names.add(e));
        }
        return new AddressList(List.copyOf(blocks), List.copyOf(names));
    }

    public boolean contains(InetAddress address) {
        return blocks.stream().anyMatch(b -> b.contains(address));
    }
}
