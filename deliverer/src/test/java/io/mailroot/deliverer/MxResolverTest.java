package io.mailroot.deliverer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.net.HostAndPort;
import io.mailroot.testkit.DnsResponder;
import java.net.InetAddress;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class MxResolverTest {

    private DnsResponder dns;
    private MxResolver resolver;

    @BeforeEach
    void start() throws Exception {
        dns = new DnsResponder();
        resolver = new MxResolver(new MailrootConfig.DnsSettings(List.of(dns.address()), Duration.ofSeconds(2)));
    }

    @AfterEach
    void stop() {
        dns.close();
    }

    @Test
    void mailHostsComeInPreferenceOrder() throws Exception {
        dns.mx("example.test", 20, "backup.example.test")
                .mx("example.test", 10, "primary.example.test")
                .mx("example.test", 30, "last.example.test");

        List<HostAndPort> hosts = resolver.mailHosts("example.test", 2525);

        assertEquals(List.of("primary.example.test", "backup.example.test", "last.example.test"),
                hosts.stream().map(HostAndPort::host).toList());
        assertTrue(hosts.stream().allMatch(h -> h.port() == 2525 && !h.isAddress()));
    }

    @Test
    void equalPreferencesAreShuffled() throws Exception {
        dns.mx("spread.test", 10, "a.spread.test").mx("spread.test", 10, "b.spread.test")
                .mx("spread.test", 10, "c.spread.test").mx("spread.test", 50, "z.spread.test");
        Set<String> firsts = new HashSet<>();
        for (int i = 0; i < 60; i++) {
            List<HostAndPort> hosts = resolver.mailHosts("spread.test", 25);
            assertEquals("z.spread.test", hosts.get(3).host(), "the worse preference always comes last");
            firsts.add(hosts.get(0).host());
        }
        assertEquals(Set.of("a.spread.test", "b.spread.test", "c.spread.test"), firsts);
    }

    @Test
    void aDomainWithoutMxIsItsOwnMailHost() throws Exception {
        dns.a("plain.test", "127.0.0.1");

        List<HostAndPort> hosts = resolver.mailHosts("plain.test", 25);

        assertEquals(List.of(new HostAndPort("plain.test", 25)), hosts);
        assertEquals(List.of(InetAddress.getByName("127.0.0.1")), resolver.addresses(hosts.get(0)));
    }

    @Test
    void nullMxFailsPermanently() {
        dns.mx("nomail.test", 0, ".");

        DnsFailure e = assertThrows(DnsFailure.class, () -> resolver.mailHosts("nomail.test", 25));

        assertTrue(e.permanent());
        assertEquals("5.1.10", e.status());
    }

    @Test
    void aDomainThatDoesNotExistFailsPermanently() {
        DnsFailure e = assertThrows(DnsFailure.class, () -> resolver.mailHosts("nowhere.test", 25));

        assertTrue(e.permanent());
        assertEquals("5.1.2", e.status());
    }

    @Test
    void servfailIsTemporary() {
        dns.servfail("broken.test");

        DnsFailure e = assertThrows(DnsFailure.class, () -> resolver.mailHosts("broken.test", 25));

        assertFalse(e.permanent());
        assertEquals("4.4.3", e.status());
    }

    @Test
    void aResolverThatNeverAnswersIsTemporary() throws Exception {
        try (java.net.DatagramSocket silent = new java.net.DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            MxResolver mute = new MxResolver(new MailrootConfig.DnsSettings(
                    List.of("127.0.0.1:" + silent.getLocalPort()), Duration.ofMillis(300)));

            DnsFailure e = assertThrows(DnsFailure.class, () -> mute.mailHosts("example.test", 25));

            assertFalse(e.permanent());
            assertEquals("4.4.3", e.status());
        }
    }

    @Test
    void anIpAddressIsNeverLookedUp() throws Exception {
        dns.refuseAll();

        assertEquals(List.of(InetAddress.getByName("127.0.0.2")), resolver.addresses(HostAndPort.parse("127.0.0.2:2526", 25)));
        assertEquals(List.of(InetAddress.getByName("2001:db8::1")), resolver.addresses(HostAndPort.parse("2001:db8::1", 25)));
        assertThrows(DnsFailure.class, () -> resolver.addresses(HostAndPort.parse("smart.test", 25)), "names still are");
    }
}
