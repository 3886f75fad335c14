package io.mailroot.core.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class HostAndPortTest {

    @Test
    void namesWithAndWithoutPort() {
        assertEquals(new HostAndPort("smart.test", 25), HostAndPort.parse("Smart.test", 25));
        assertEquals(new HostAndPort("smart.test", 2526), HostAndPort.parse(" smart.test:2526 ", 25));
        assertFalse(HostAndPort.parse("smart.test", 25).isAddress());
        assertEquals(Optional.empty(), HostAndPort.parse("smart.test", 25).address());
    }

    @Test
    void ipv4BracketedOrNotIsAnAddress() throws Exception {
        InetAddress ip = InetAddress.getByName("127.0.0.2");
        for (String s : new String[] {"127.0.0.2:2526", "[127.0.0.2]:2526"}) {
            HostAndPort h = HostAndPort.parse(s, 25);
            assertEquals(new HostAndPort("127.0.0.2", 2526), h, s);
            assertEquals(Optional.of(ip), h.address(), s);
        }
        assertEquals(new HostAndPort("127.0.0.2", 25), HostAndPort.parse("127.0.0.2", 25));
        assertEquals(new HostAndPort("127.0.0.2", 25), HostAndPort.parse("[127.0.0.2]", 25));
    }

    @Test
    void ipv6WithoutBracketsHasNoPort() throws Exception {
        InetAddress ip = InetAddress.getByName("2001:db8::1");
        HostAndPort bare = HostAndPort.parse("2001:db8::1", 25);
        assertEquals(25, bare.port());
        assertEquals(Optional.of(ip), bare.address());
        HostAndPort bracketed = HostAndPort.parse("[2001:db8::1]:2526", 25);
        assertEquals(2526, bracketed.port());
        assertEquals(Optional.of(ip), bracketed.address());
        assertEquals(bracketed, HostAndPort.parse("[IPv6:2001:DB8:0::1]:2526", 25), "the RFC 5321 form, any spelling");
        assertEquals("[2001:db8:0:0:0:0:0:1]:2526", bracketed.toString(), "a port stays readable after an IPv6 address");
    }

    @Test
    void badInputIsRefusedWithItsReason() {
        for (String s : new String[] {"[mail.test]", "[127.0.0.1", "[127.0.0.1]x", "mail.test:x", "mail.test:0",
                "mail.test:70000", "2001:db8::zz", "999.1.1.1", "a b", "", "host:"}) {
            assertFalse(HostAndPort.isValid(s), s);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HostAndPort.parse(s, 25), s);
            assertTrue(e.getMessage() != null && !e.getMessage().isEmpty(), s);
        }
    }
}
