package io.mailroot.ingress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.config.ConfigLoader;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.Topics;
import io.mailroot.ingress.auth.UserStore;
import io.mailroot.ingress.connection.ClientSessions;
import io.mailroot.testkit.Await;
import io.mailroot.testkit.DnsResponder;
import io.mailroot.testkit.FreePorts;
import io.mailroot.testkit.SharedKafka;
import io.mailroot.testkit.SmtpTestClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The connection layer of ingress over real sockets, real TLS and real DNS: several virtual servers with different
 * settings run side by side in one ingress role.
 */
class ConnFrontDoorTest {

    @TempDir
    static Path dir;
    private static DnsResponder dns;
    private static IngressRole ingress;
    private static int limited, perClient, idle, denied, grantByName, grantOther, denyByName, secure, open, lockout, all;

    @BeforeAll
    static void start() throws Exception {
        dns = new DnsResponder()
                .ptr("1.0.0.127.in-addr.arpa", "client.good.test")
                .a("client.good.test", "127.0.0.1");
        UserStore users = UserStore.empty(dir.resolve("users"));
        users.put("alice@example.com", "secret".toCharArray(), 1000);
        users.put("bob@other.test", "hunter2".toCharArray(), 1000);
        limited = FreePorts.next();
        perClient = FreePorts.next();
        idle = FreePorts.next();
        denied = FreePorts.next();
        grantByName = FreePorts.next();
        grantOther = FreePorts.next();
        denyByName = FreePorts.next();
        secure = FreePorts.next();
        int secureImplicit = FreePorts.next();
        open = FreePorts.next();
        lockout = FreePorts.next();
        all = FreePorts.next();
        MailrootConfig config = ConfigLoader.parse("""
                fqdn: relay.test
                dataDir: data
                usersFile: users
                localDomains: [local.test]
                dns: { servers: ["%s"], timeout: 2s }
                virtualServers:
                  - { name: Limited, addresses: [127.0.0.1], port: %d, maxConnections: 2 }
                  - { name: PerClient, addresses: [127.0.0.1], port: %d, maxConnectionsPerClient: 2 }
                  - { name: Idle, addresses: [127.0.0.1], port: %d, connectionTimeout: 1s }
                  - name: Denied
                    addresses: [127.0.0.1]
                    port: %d
                    connectionControl: { deny: [127.0.0.0/8] }
                  - name: GrantByName
                    addresses: [127.0.0.1]
                    port: %d
                    reverseDnsLookup: true
                    connectionControl: { grant: [good.test, "2001:db8::/32"] }
                  - name: GrantOther
                    addresses: [127.0.0.1]
                    port: %d
                    connectionControl: { grant: [10.0.0.0/8, other.test] }
                  - name: DenyByName
                    addresses: [127.0.0.1]
                    port: %d
                    connectionControl: { deny: [client.good.test] }
                  - name: Secure
                    addresses: [127.0.0.1]
                    port: %d
                    tls: { implicitPort: %d }
                    authentication: { basic: true, defaultDomain: example.com, maxFailures: 10 }
                  - name: Open
                    addresses: [127.0.0.1]
                    port: %d
                    tls: { enabled: false }
                    relay: { allow: ["*.good.test"] }
                    authentication: { basic: true, allowAuthWithoutTls: true }
                  - name: Lockout
                    addresses: [127.0.0.1]
                    port: %d
                    authentication: { basic: true, allowAuthWithoutTls: true, maxFailures: 2, lockout: 1m }
                  - { name: All, addresses: [0.0.0.0], port: %d }
                """.formatted(dns.address(), limited, perClient, idle, denied, grantByName, grantOther, denyByName, secure,
                secureImplicit, open, lockout, all), dir);
        String prefix = SharedKafka.uniquePrefix("conn");
        ingress = new IngressRole(config, new KafkaClients(SharedKafka.bootstrap(), prefix), new Topics(prefix, 2));
        ingress.start();
        assertEquals(List.of(secureImplicit), ingress.implicitTlsPorts());
    }

    @AfterAll
    static void stop() {
        if (ingress != null) {
            ingress.close();
        }
        dns.close();
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    private static List<String> lines(String reply) {
        return List.of(reply.split("\n"));
    }

    private static SmtpTestClient greeted(int port) throws IOException {
        SmtpTestClient c = new SmtpTestClient("127.0.0.1", port);
        assertTrue(c.greeting().startsWith("220 relay.test"), c.greeting());
        return c;
    }

    @Test
    void ehloListsTheExtensionsEachServerOffers() throws Exception {
        try (SmtpTestClient c = greeted(limited)) {
            List<String> ehlo = lines(c.command("EHLO client.test"));
            assertEquals("250-relay.test", ehlo.get(0));
            for (String ext : List.of("SIZE 2097152", "PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "DSN", "STARTTLS")) {
                assertTrue(ehlo.stream().anyMatch(l -> l.substring(4).equals(ext)), ext + " in " + ehlo);
            }
            assertTrue(ehlo.get(ehlo.size() - 1).startsWith("250 "), ehlo.toString());
            assertFalse(ehlo.toString().contains("AUTH"), "basic authentication is off: " + ehlo);
        }
        try (SmtpTestClient c = greeted(open)) {
            List<String> ehlo = lines(c.command("EHLO client.test"));
            assertTrue(ehlo.contains("250 AUTH PLAIN LOGIN"), "AUTH allowed without TLS: " + ehlo);
            assertFalse(ehlo.toString().contains("STARTTLS"), "TLS is off: " + ehlo);
            assertTrue(c.command("STARTTLS").startsWith("502 5.5.1"));
        }
        try (SmtpTestClient c = greeted(secure)) {
            List<String> before = lines(c.command("EHLO client.test"));
            assertTrue(before.contains("250 STARTTLS"), before.toString());
            assertFalse(before.toString().contains("AUTH"), "no AUTH before TLS: " + before);
            assertTrue(c.command("STARTTLS").startsWith("220 2.0.0"));
            c.startTls();
            List<String> after = lines(c.command("EHLO client.test"));
            assertTrue(after.contains("250 AUTH PLAIN LOGIN"), after.toString());
            assertFalse(after.toString().contains("STARTTLS"), after.toString());
        }
    }

    @Test
    void oneConnectionOverTheLimitHears421AndTheOthersAreStillServed() throws Exception {
        try (SmtpTestClient first = greeted(limited); SmtpTestClient second = greeted(limited)) {
            try (SmtpTestClient third = new SmtpTestClient("127.0.0.1", limited)) {
                assertEquals("421 4.3.2 Too many connections, try again later", third.greeting());
                assertTrue(third.closedByServer());
            }
            assertTrue(first.command("NOOP").startsWith("250"));
            assertTrue(second.command("EHLO client.test").startsWith("250"));
            assertTrue(first.command("QUIT").startsWith("221"));
        }
        // With both gone, there is room again.
        Await.until("a new connection to be greeted", Duration.ofSeconds(10), () -> {
            try (SmtpTestClient again = new SmtpTestClient("127.0.0.1", limited)) {
                return again.greeting().startsWith("220");
            } catch (IOException e) {
                return false;
            }
        });
    }

    @Test
    void oneClientAddressGetsNoMoreThanItsShareAndRoomAgainWhenOneCloses() throws Exception {
        try (SmtpTestClient first = greeted(perClient); SmtpTestClient second = greeted(perClient)) {
            try (SmtpTestClient third = new SmtpTestClient("127.0.0.1", perClient)) {
                assertEquals("421 4.7.0 Too many connections from your address, try again later", third.greeting());
                assertTrue(third.closedByServer());
            }
            assertTrue(second.command("NOOP").startsWith("250"), "the two admitted are still served");
            assertTrue(first.command("QUIT").startsWith("221"));
            // One of the two gone: room for one more, but not for two.
            SmtpTestClient again = Await.value("a new connection to be greeted", Duration.ofSeconds(10), () -> {
                try {
                    SmtpTestClient c = new SmtpTestClient("127.0.0.1", perClient);
                    if (c.greeting().startsWith("220")) {
                        return c;
                    }
                    c.close();
                    return null;
                } catch (IOException e) {
                    return null;
                }
            });
            try (again; SmtpTestClient over = new SmtpTestClient("127.0.0.1", perClient)) {
                assertTrue(over.greeting().startsWith("421 4.7.0"), over.greeting());
                assertTrue(again.command("EHLO client.test").startsWith("250"));
            }
        }
    }

    @Test
    void anIdleConnectionIsClosedWith421() throws Exception {
        try (SmtpTestClient c = greeted(idle)) {
            assertTrue(c.command("EHLO client.test").startsWith("250"));
            long t0 = System.nanoTime();
            assertEquals("421 4.4.2 Idle timeout, closing connection", c.reply());
            long waited = Duration.ofNanos(System.nanoTime() - t0).toMillis();
            assertTrue(waited >= 900 && waited < 5000, "closed after " + waited + " ms");
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void anIdleTlsConnectionHearsThe421Encrypted() throws Exception {
        try (SmtpTestClient c = greeted(idle)) {
            c.command("EHLO client.test");
            assertTrue(c.command("STARTTLS").startsWith("220"));
            c.startTls();
            assertTrue(c.command("EHLO client.test").startsWith("250"));
            assertEquals("421 4.4.2 Idle timeout, closing connection", c.reply());
        }
    }

    @Test
    void aClientThatKeepsTalkingIsNotIdle() throws Exception {
        try (SmtpTestClient c = greeted(idle)) {
            long end = System.nanoTime() + Duration.ofMillis(2500).toNanos();
            while (System.nanoTime() < end) {
                assertTrue(c.command("NOOP").startsWith("250"));
                Thread.sleep(300); // the client's pace, not a synchronisation
            }
        }
    }

    @Test
    void connectionControlByAddressAndByConfirmedName() throws Exception {
        try (SmtpTestClient c = new SmtpTestClient("127.0.0.1", denied)) {
            assertEquals("554 5.7.1 Access denied", c.greeting());
            assertTrue(c.closedByServer());
        }
        try (SmtpTestClient c = new SmtpTestClient("127.0.0.1", grantOther)) {
            assertEquals("554 5.7.1 Access denied", c.greeting(), "only 10/8 and other.test are granted");
        }
        try (SmtpTestClient c = new SmtpTestClient("127.0.0.1", denyByName)) {
            assertEquals("554 5.7.1 Access denied", c.greeting(), "127.0.0.1 is confirmed as client.good.test");
        }
        try (SmtpTestClient c = greeted(grantByName)) {
            // reverseDnsLookup: the transaction layer finds the confirmed name through ClientSessions.
            Await.until("the session's verified name", Duration.ofSeconds(5), () -> ClientSessions.snapshot().stream()
                    .anyMatch(s -> s.verifiedName().equals(Optional.of("client.good.test"))));
            assertTrue(c.command("EHLO client.good.test").startsWith("250"));
        }
    }

    @Test
    void twoVirtualServersWithDifferentSettingsServeAtTheSameTime() throws Exception {
        try (SmtpTestClient refused = new SmtpTestClient("127.0.0.1", denied); SmtpTestClient served = greeted(open)) {
            assertTrue(refused.greeting().startsWith("554 5.7.1"));
            assertTrue(served.command("EHLO client.test").startsWith("250"));
            assertTrue(served.command("NOOP").startsWith("250"));
        }
    }

    @Test
    void relayAllowMatchesADomainNameThroughReverseDns() throws Exception {
        try (SmtpTestClient c = greeted(open)) {
            c.command("EHLO client.test");
            assertTrue(c.command("MAIL FROM:<a@client.test>").startsWith("250"));
            String rcpt = c.command("RCPT TO:<bob@remote.test>");
            assertTrue(rcpt.startsWith("250"), "client.good.test is in relay.allow as *.good.test: " + rcpt);
        }
        try (SmtpTestClient c = greeted(secure)) {
            c.command("EHLO client.test");
            assertTrue(c.command("MAIL FROM:<a@client.test>").startsWith("250"));
            assertTrue(c.command("RCPT TO:<bob@remote.test>").startsWith("550 5.7.1"));
        }
    }

    @Test
    void startTlsNegotiatesTls13Or12AndResetsTheSession() throws Exception {
        for (String protocol : List.of("TLSv1.3", "TLSv1.2")) {
            try (SmtpTestClient c = greeted(secure)) {
                c.command("EHLO client.test");
                assertTrue(c.command("STARTTLS").startsWith("220 2.0.0"));
                SSLSocket tls = c.startTls(protocol);
                assertEquals(protocol, tls.getSession().getProtocol());
                // The state after TLS is that after the greeting: EHLO first.
                assertTrue(c.command("MAIL FROM:<a@client.test>").startsWith("503"));
                assertTrue(c.command("EHLO client.test").startsWith("250"));
                assertTrue(c.command("STARTTLS").startsWith("503 5.5.1"), "TLS is already on");
            }
        }
    }

    @Test
    void textPipelinedBehindStartTlsIsDiscardedNotExecutedInsideTls() throws Exception {
        try (SmtpTestClient c = greeted(secure)) {
            c.command("EHLO client.test");
            c.send("STARTTLS\r\nMAIL FROM:<mallory@evil.test>\r\n");
            assertTrue(c.reply().startsWith("220 2.0.0"));
            c.startTls();
            // Had the injected MAIL run inside TLS, its reply would come first here.
            String ehlo = c.command("EHLO client.test");
            assertTrue(ehlo.startsWith("250-relay.test"), ehlo);
            assertTrue(c.command("RCPT TO:<bob@local.test>").startsWith("503"), "no MAIL was given inside TLS");
        }
    }

    @Test
    void implicitTlsPortSpeaksTlsFromTheFirstByte() throws Exception {
        try (SmtpTestClient c = SmtpTestClient.implicitTls("127.0.0.1", ingress.implicitTlsPorts().get(0))) {
            assertTrue(c.greeting().startsWith("220 relay.test"), c.greeting());
            List<String> ehlo = lines(c.command("EHLO client.test"));
            assertTrue(ehlo.contains("250 AUTH PLAIN LOGIN"), ehlo.toString());
            assertTrue(c.command("STARTTLS").startsWith("503"));
            assertEquals("235 2.7.0 Authentication successful", c.command("AUTH PLAIN " + b64("\0alice\0secret")));
        }
    }

    @Test
    void authNeedsTlsAndKnowsTheUsers() throws Exception {
        try (SmtpTestClient c = greeted(secure)) {
            c.command("EHLO client.test");
            assertEquals("538 5.7.11 Encryption required for requested authentication mechanism",
                    c.command("AUTH PLAIN " + b64("\0alice@example.com\0secret")));
            c.command("STARTTLS");
            c.startTls();
            c.command("EHLO client.test");
            assertEquals("535 5.7.8 Authentication credentials invalid", c.command("AUTH PLAIN " + b64("\0alice\0wrong")));
            assertEquals("501 5.5.2 Invalid base64 data", c.command("AUTH PLAIN not*base64!"));
            assertTrue(c.command("AUTH CRAM-MD5").startsWith("504 5.5.4"));
            // defaultDomain: "alice" is alice@example.com
            assertEquals("235 2.7.0 Authentication successful", c.command("AUTH PLAIN " + b64("\0alice\0secret")));
            assertTrue(c.command("AUTH PLAIN " + b64("\0alice\0secret")).startsWith("503 5.5.1"), "already authenticated");
            assertFalse(c.command("EHLO client.test").contains("AUTH"), "AUTH is no longer offered");
            // The transaction layer sees the identity: an authenticated session may relay (allowAuthenticated).
            assertTrue(c.command("MAIL FROM:<alice@example.com>").startsWith("250"));
            String rcpt = c.command("RCPT TO:<bob@remote.test>");
            assertTrue(rcpt.startsWith("250"), rcpt);
        }
    }

    @Test
    void authLoginAsksForNameAndPassword() throws Exception {
        try (SmtpTestClient c = greeted(open)) {
            c.command("EHLO client.test");
            assertEquals("334 VXNlcm5hbWU6", c.command("AUTH LOGIN"));
            assertEquals("334 UGFzc3dvcmQ6", c.command(b64("bob@other.test")));
            assertEquals("235 2.7.0 Authentication successful", c.command(b64("hunter2")));
        }
        try (SmtpTestClient c = greeted(open)) {
            c.command("EHLO client.test");
            assertEquals("334 UGFzc3dvcmQ6", c.command("AUTH LOGIN " + b64("bob@other.test")));
            assertEquals("501 5.5.2 Invalid base64 data", c.command("%%%"));
            assertEquals("334 ", c.command("AUTH PLAIN"));
            assertEquals("501 5.0.0 Authentication cancelled", c.command("*"));
        }
    }

    @Test
    void repeatedFailuresAreSlowedAndThenRefused() throws Exception {
        try (SmtpTestClient c = greeted(lockout)) {
            c.command("EHLO client.test");
            List<Long> millis = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                long t0 = System.nanoTime();
                assertEquals("535 5.7.8 Authentication credentials invalid", c.command("AUTH PLAIN " + b64("\0alice@example.com\0guess" + i)));
                millis.add(Duration.ofNanos(System.nanoTime() - t0).toMillis());
            }
            assertTrue(millis.get(1) >= 450, "the second failure is answered later: " + millis);
            assertEquals("454 4.7.0 Too many authentication failures, try again later",
                    c.command("AUTH PLAIN " + b64("\0alice@example.com\0secret")));
        }
        try (SmtpTestClient c = greeted(lockout)) {
            assertTrue(c.command("AUTH PLAIN " + b64("\0alice@example.com\0secret")).startsWith("454 4.7.0"),
                    "the lockout is per address, not per connection");
        }
    }

    @Test
    void zeroAddressListensOnAllAddresses() throws Exception {
        try (SmtpTestClient c = greeted(all)) {
            assertTrue(c.command("EHLO client.test").startsWith("250"));
        }
    }

    @Test
    void aFailedHandshakeEndsOnlyThatConnection() throws Exception {
        try (SmtpTestClient c = greeted(secure)) {
            c.command("EHLO client.test");
            assertTrue(c.command("STARTTLS").startsWith("220"));
            c.send("EHLO this is not a TLS handshake\r\n");
            assertTrue(c.closedByServer());
        }
        try (SmtpTestClient c = greeted(secure)) {
            assertTrue(c.command("EHLO client.test").startsWith("250"));
        }
    }

    @Test
    void aDeniedClientGetsNoFurther() {
        assertThrows(IOException.class, () -> {
            try (SmtpTestClient c = new SmtpTestClient("127.0.0.1", denied)) {
                c.command("EHLO client.test");
            }
        });
    }
}
