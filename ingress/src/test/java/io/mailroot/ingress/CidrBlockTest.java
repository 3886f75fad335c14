package io.mailroot.ingress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.config.ConfigException;
import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class CidrBlockTest {

    private static boolean contains(String block, String address) throws Exception {
        return CidrBlock.parse(block).orElseThrow().contains(InetAddress.getByName(address));
    }

    @Test
    void ipv4SubnetContainsItsAddressesOnly() throws Exception {
        assertTrue(contains("127.0.0.0/8", "127.0.0.1"));
        assertTrue(contains("127.0.0.0/8", "127.255.255.255"));
        assertFalse(contains("127.0.0.0/8", "128.0.0.1"));
        assertTrue(contains("192.0.2.128/25", "192.0.2.200"));
        assertFalse(contains("192.0.2.128/25", "192.0.2.127"));
        // host bits in the written network are ignored, as routers do
        assertTrue(contains("10.1.2.3/16", "10.1.200.1"));
    }

    @Test
    void singleAddressMatchesOnlyItself() throws Exception {
        assertTrue(contains("192.0.2.7", "192.0.2.7"));
        assertFalse(contains("192.0.2.7", "192.0.2.8"));
        assertTrue(contains("192.0.2.7/32", "192.0.2.7"));
    }

    @Test
    void zeroPrefixMatchesEveryAddressOfItsFamily() throws Exception {
        assertTrue(contains("0.0.0.0/0", "203.0.113.9"));
        assertFalse(contains("0.0.0.0/0", "2001:db8::1"));
    }

    @Test
    void ipv6SubnetsAndLiterals() throws Exception {
        assertTrue(contains("2001:db8::/32", "2001:db8:1::5"));
        assertFalse(contains("2001:db8::/32", "2001:db9::1"));
        assertTrue(contains("[::1]", "::1"));
        assertFalse(contains("::1", "127.0.0.1"));
        assertTrue(contains("fe80::/10", "febf::1"));
        assertFalse(contains("fe80::/10", "fec0::1"));
    }

    @Test
    void namesAndNonsenseAreNotBlocks() {
        assertTrue(CidrBlock.parse("relay.example.com").isEmpty());
        assertTrue(CidrBlock.parse("10.0.0.0/33").isEmpty());
        assertTrue(CidrBlock.parse("10.0.0.0/x").isEmpty());
        assertTrue(CidrBlock.parse("2001:db8::/129").isEmpty());
    }

    @Test
    void addressListKeepsNamesAside() throws Exception {
        AddressList list = AddressList.parse("relay.allow", List.of("192.0.2.0/24", "trusted.example.com", "2001:db8::1"));
        assertEquals(List.of("trusted.example.com"), list.names());
        assertTrue(list.contains(InetAddress.getByName("192.0.2.99")));
        assertTrue(list.contains(InetAddress.getByName("2001:db8::1")));
        assertFalse(list.contains(InetAddress.getByName("198.51.100.1")));
    }

    @Test
    void addressListRefusesTyposWrittenAsAddressesInsteadOfTakingThemForNames() {
        for (String typo : List.of("10.0.0.0/33", "192.168.1.300", "10.0.0/8", "10.0.0.0/x", "2001:db8::/129",
                "2001:db8:::1", "[192.0.2.1", "relay.example.com/24", "host:25", "1.2.3")) {
            ConfigException e = assertThrows(ConfigException.class,
                    () -> AddressList.parse("virtualServers[0].connectionControl.deny", List.of("127.0.0.1", typo)), typo);
            assertEquals("configuration key 'virtualServers[0].connectionControl.deny' has value '" + typo
                    + "'; allowed: an IP address, a CIDR subnet (e.g. 10.0.0.0/8) or a domain name", e.getMessage());
        }
        // names with digits are still names
        assertEquals(List.of("mx1.example.com", "123.example", "example.com"),
                AddressList.parse("relay.allow", List.of("mx1.example.com", "123.example", "*.example.com.")).names());
    }
}
