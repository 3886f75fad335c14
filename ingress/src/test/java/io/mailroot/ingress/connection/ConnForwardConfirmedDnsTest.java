package io.mailroot.ingress.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.config.MailrootConfig;
import io.mailroot.ingress.AddressList;
import io.mailroot.testkit.DnsResponder;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Forward-confirmed reverse DNS against a real DNS server on loopback, and the address lists that use it. */
class ConnForwardConfirmedDnsTest {

    private static DnsResponder dns;
    private static ForwardConfirmedDns fcrdns;

    @BeforeAll
    static void start() throws Exception {
        dns = new DnsResponder()
                .ptr("1.0.0.127.in-addr.arpa", "client.good.test")
                .a("client.good.test", "127.0.0.1")
                // a PTR anyone can write: the name does not lead back to the address
                .ptr("2.0.0.127.in-addr.arpa", "mail.bank.test")
                .a("mail.bank.test", "192.0.2.10")
                // two names, the second one confirmed
                .ptr("3.0.0.127.in-addr.arpa", "nowhere.test")
                .ptr("3.0.0.127.in-addr.arpa", "second.good.test")
                .a("second.good.test", "127.0.0.3")
                .servfail("4.0.0.127.in-addr.arpa")
                .ptr("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", "v6.good.test")
                .a("v6.good.test", "2001:db8::1");
        fcrdns = new ForwardConfirmedDns(new MailrootConfig.DnsSettings(List.of(dns.address()), Duration.ofSeconds(2)));
    }

    @AfterAll
    static void stop() {
        dns.close();
    }

    private static InetAddress ip(String s) throws Exception {
        return InetAddress.getByName(s);
    }

    @Test
    void aNameIsConfirmedOnlyWhenItLeadsBackToTheAddress() throws Exception {
        assertEquals(Optional.of("client.good.test"), fcrdns.name(ip("127.0.0.1")));
        assertEquals(Optional.empty(), fcrdns.name(ip("127.0.0.2")), "PTR without a matching A record");
        assertEquals(Optional.of("second.good.test"), fcrdns.name(ip("127.0.0.3")));
        assertEquals(Optional.empty(), fcrdns.name(ip("127.0.0.4")), "a DNS failure confirms nothing");
        assertEquals(Optional.empty(), fcrdns.name(ip("127.0.0.5")), "no PTR at all");
        assertEquals(Optional.of("v6.good.test"), fcrdns.name(ip("2001:db8::1")));
    }

    @Test
    void addressListsMatchDomainNamesAndTheirSubdomains() throws Exception {
        AddressList list = AddressList.parse("relay.allow", List.of("192.0.2.0/24", "*.good.test", "exact.test."), fcrdns);
        assertEquals(List.of("good.test", "exact.test"), list.names());
        assertTrue(list.contains(ip("127.0.0.1")), "client.good.test ends in .good.test");
        assertTrue(list.contains(ip("2001:db8::1")), "v6.good.test");
        assertFalse(list.contains(ip("127.0.0.2")), "an unconfirmed PTR name never matches");
        assertTrue(list.contains(ip("192.0.2.99")));
        assertTrue(list.contains(ip("198.51.100.1"), Optional.of("EXACT.test")));
        assertFalse(list.contains(ip("198.51.100.1"), Optional.of("notexact.test")), "a suffix must start at a dot");
        assertFalse(AddressList.parse("relay.allow", List.of("good.test")).contains(ip("127.0.0.1")), "without a resolver names match nobody");
    }
}
