package io.mailroot.deliverer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.config.ConfigLoader;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.NextHop;
import io.mailroot.core.message.Recipient;
import io.mailroot.deliverer.DeliveryResult.Verdict;
import io.mailroot.deliverer.smtp.SmtpClient;
import io.mailroot.testkit.DnsResponder;
import io.mailroot.testkit.PeerScript;
import io.mailroot.testkit.PeerScript.Command;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One next hop's sending against scripted peers on loopback (several MX share a port on 127.0.0.1 and 127.0.0.2):
 * which host gets the mail, how many connections and transactions it takes, and outbound security.
 */
class HopSenderPeerTest {

    private static final byte[] MESSAGE = "Subject: hi\r\n\r\nhello\r\n".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path dir;

    private DnsResponder dns;
    /** The best MX (or the relay), on 127.0.0.1; its port is every peer's port. */
    private PeerScript first;
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final List<HopSender> senders = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        dns = new DnsResponder();
        first = new PeerScript("127.0.0.1", 0);
    }

    @AfterEach
    void stop() throws Exception {
        senders.forEach(HopSender::close);
        for (AutoCloseable c : closeables) {
            c.close();
        }
        first.close();
        dns.close();
    }

    private PeerScript second() throws Exception {
        PeerScript p = new PeerScript("127.0.0.2", first.port());
        closeables.add(p);
        return p;
    }

    private String relay() {
        return "[127.0.0.1]:" + first.port();
    }

    private MailrootConfig config(String delivery) throws Exception {
        return ConfigLoader.parse("""
                fqdn: relay.test
                localDomains: [local.test]
                dns:
                  servers: ["%s"]
                  timeout: 1s
                delivery:
                  outboundPort: %d
                  outboundTimeout: 10s
                """.formatted(dns.address(), first.port()) + delivery, dir);
    }

    /** Route remote.test through the relay on 127.0.0.1 with these Outbound Security settings. */
    private MailrootConfig relayWith(String security) throws Exception {
        return config("""
                  routeDomains:
                    remote.test: "%s"
                  outboundSecurity:
                    "%s": %s
                """.formatted(relay(), relay(), security));
    }

    private HopSender sender(MailrootConfig config, NextHop hop) {
        HopSender s = new HopSender(hop, config, new MxResolver(config.dns()),
                new SmtpClient("relay.test", config.delivery().outboundTimeout()));
        senders.add(s);
        return s;
    }

    private static MailRecord mail(NextHop hop, String... to) {
        Envelope env = Envelope.received("M1", "alice@sender.test",
                List.of(to).stream().map(Recipient::of).toList(), Instant.now()).withNextHop(hop);
        return new MailRecord(env, MESSAGE);
    }

    private List<DeliveryResult> deliver(MailrootConfig config, NextHop hop, String... to) {
        return sender(config, hop).deliver(mail(hop, to));
    }

    private void twoMx() {
        dns.mx("remote.test", 10, "mx1.remote.test").a("mx1.remote.test", "127.0.0.2")
                .mx("remote.test", 20, "mx2.remote.test").a("mx2.remote.test", "127.0.0.1");
    }

    private NextHop viaRelay() {
        return new NextHop("remote.test", relay(), null);
    }

    private static boolean sentAny(PeerScript peer, String verb) {
        return peer.commands().stream().anyMatch(c -> c.toUpperCase().startsWith(verb));
    }

    @Test
    void aRefusedConnectionMovesOnToTheNextMx() throws Exception {
        twoMx(); // nothing listens on 127.0.0.2

        List<DeliveryResult> results = deliver(config(""), NextHop.direct("remote.test"), "bob@remote.test");

        assertTrue(results.get(0).accepted(), results.toString());
        assertEquals("mx2.remote.test", results.get(0).remoteHost());
        assertEquals(1, first.accepted().size());
    }

    @Test
    void a421GreetingMovesOnToTheNextMx() throws Exception {
        twoMx();
        PeerScript busy = second().on(Command.GREETING, "421 4.3.2 too busy, try later");

        List<DeliveryResult> results = deliver(config(""), NextHop.direct("remote.test"), "bob@remote.test");

        assertTrue(results.get(0).accepted(), results.toString());
        assertEquals(1, busy.connections());
        assertEquals(List.of(), busy.commands(), "nothing was said to the busy host");
        assertEquals(1, first.accepted().size());
    }

    @Test
    void a4xxToMailFromMovesOnToTheNextMxButARecipient4xxDoesNot() throws Exception {
        twoMx();
        PeerScript later = second().on(Command.MAIL, "451 4.3.0 try again later")
                .rcpt(r -> r.startsWith("carol@"), "450 4.2.1 mailbox busy");

        List<DeliveryResult> whole = deliver(config(""), NextHop.direct("remote.test"), "bob@remote.test");

        assertTrue(whole.get(0).accepted(), whole.toString());
        assertEquals("mx2.remote.test", whole.get(0).remoteHost());
        assertEquals(1, later.mailCommands().size());
        assertEquals(1, first.accepted().size());

        // A 4xx for one recipient says nothing about the host: that recipient waits for a retry at the same MX.
        later.on(Command.MAIL, "250 2.1.0 ok");
        List<DeliveryResult> one = deliver(config(""), NextHop.direct("remote.test"), "bob@remote.test",
                "carol@remote.test");

        assertEquals(List.of(Verdict.DELIVERED, Verdict.DEFERRED), one.stream().map(DeliveryResult::verdict).toList());
        assertEquals("mx1.remote.test", one.get(1).remoteHost());
        assertEquals(List.of("bob@remote.test"), later.accepted().get(0).recipients());
        assertEquals(1, first.accepted().size(), "the second MX saw nothing of it");
    }

    @Test
    void a421InTheMiddleOfTheSessionMovesOnToTheNextMx() throws Exception {
        twoMx();
        PeerScript closing = second().on(Command.RCPT, "421 4.3.2 shutting down");

        List<DeliveryResult> results = deliver(config(""), NextHop.direct("remote.test"), "bob@remote.test");

        assertTrue(results.get(0).accepted(), results.toString());
        assertEquals("mx2.remote.test", results.get(0).remoteHost());
        assertEquals(1, closing.mailCommands().size());
        assertEquals(List.of(), closing.transactions());
        assertEquals(1, first.accepted().size());
    }

    @Test
    void theLowestPreferenceGetsTheMail() throws Exception {
        PeerScript worse = second();
        dns.mx("remote.test", 20, "mx2.remote.test").a("mx2.remote.test", "127.0.0.2")
                .mx("remote.test", 10, "mx1.remote.test").a("mx1.remote.test", "127.0.0.1");
        MailrootConfig config = config("");

        for (int i = 0; i < 3; i++) {
            assertTrue(deliver(config, NextHop.direct("remote.test"), "bob@remote.test").get(0).accepted());
        }

        assertEquals(3, first.accepted().size());
        assertEquals(0, worse.connections());
    }

    @Test
    void a105RecipientMessageGoesAsTwoTransactionsOnOneConnection() throws Exception {
        dns.mx("remote.test", 10, "mx.remote.test").a("mx.remote.test", "127.0.0.1");
        String[] to = IntStream.rangeClosed(1, 105).mapToObj(i -> "user" + i + "@remote.test").toArray(String[]::new);

        List<DeliveryResult> results = deliver(config(""), NextHop.direct("remote.test"), to);

        assertEquals(105, results.stream().filter(DeliveryResult::accepted).count());
        assertEquals(1, first.connections());
        assertEquals(List.of(100, 5), first.accepted().stream().map(t -> t.recipients().size()).toList());
        assertEquals(List.of(to), first.accepted().stream().flatMap(t -> t.recipients().stream()).toList());
    }

    @Test
    void whenTlsIsRequiredAHopWithoutStartTlsIsATemporaryFailureAndNothingGoesInClear() throws Exception {
        DeliveryResult r = deliver(relayWith("{requireTls: true, verifyCertificate: false}"), viaRelay(),
                "bob@remote.test").get(0);

        assertEquals(Verdict.DEFERRED, r.verdict());
        assertEquals("4.7.10", r.status());
        assertTrue(r.reply().contains("TLS is required for relay " + relay()), r.reply());
        assertEquals(1, first.connections());
        assertTrue(!sentAny(first, "MAIL") && !sentAny(first, "RCPT") && !sentAny(first, "DATA"),
                "commands sent: " + first.commands());
    }

    @Test
    void whenTlsIsRequiredARefusedStartTlsIsATemporaryFailure() throws Exception {
        first.offerStartTls().on(Command.STARTTLS, "454 4.7.0 TLS not available now");

        DeliveryResult r = deliver(relayWith("{requireTls: true, verifyCertificate: false}"), viaRelay(),
                "bob@remote.test").get(0);

        assertEquals(Verdict.DEFERRED, r.verdict());
        assertEquals("4.7.10", r.status());
        assertTrue(r.reply().contains("454 4.7.0"), r.reply());
        assertTrue(!sentAny(first, "MAIL"), "commands sent: " + first.commands());
    }

    @Test
    void whenTlsIsRequiredAndOfferedTheMailGoesOverTls() throws Exception {
        first.offerStartTls();

        DeliveryResult r = deliver(relayWith("{requireTls: true, verifyCertificate: false}"), viaRelay(),
                "bob@remote.test").get(0);

        assertTrue(r.accepted(), r.toString());
        assertTrue(first.accepted().get(0).tls());
    }

    @Test
    void opportunisticTlsIsUsedForAnMxWhenOffered() throws Exception {
        dns.mx("remote.test", 10, "mx.remote.test").a("mx.remote.test", "127.0.0.1");
        first.offerStartTls();

        assertTrue(deliver(config(""), NextHop.direct("remote.test"), "bob@remote.test").get(0).accepted());
        assertTrue(first.accepted().get(0).tls());
    }

    @Test
    void credentialsAreGivenWithAuthPlainAfterStartTls() throws Exception {
        first.offerStartTls().requireAuth("relayuser", "s3cret", "PLAIN", "LOGIN");

        DeliveryResult r = deliver(relayWith("{username: relayuser, password: s3cret, verifyCertificate: false}"),
                viaRelay(), "bob@remote.test").get(0);

        assertTrue(r.accepted(), r.toString());
        assertEquals(List.of("relayuser"), first.authIdentities());
        PeerScript.Transaction t = first.accepted().get(0);
        assertEquals("relayuser", t.authIdentity());
        assertTrue(t.tls());
        List<String> commands = first.commands();
        assertTrue(commands.indexOf("STARTTLS") >= 0
                && commands.indexOf("STARTTLS") < indexOfPrefix(commands, "AUTH PLAIN"), commands.toString());
    }

    @Test
    void authLoginIsUsedWhenItIsTheOnlyMechanism() throws Exception {
        first.offerStartTls().requireAuth("relayuser", "s3cret", "LOGIN");

        DeliveryResult r = deliver(relayWith(
                "{requireTls: true, username: relayuser, password: s3cret, verifyCertificate: false}"),
                viaRelay(), "bob@remote.test").get(0);

        assertTrue(r.accepted(), r.toString());
        assertEquals(List.of("relayuser"), first.authIdentities());
        assertTrue(first.commands().contains("AUTH LOGIN"), first.commands().toString());
    }

    @Test
    void aWrongPasswordIsATemporaryFailureNamingTheRelay() throws Exception {
        first.offerStartTls().requireAuth("relayuser", "s3cret", "PLAIN");

        DeliveryResult r = deliver(relayWith("{username: relayuser, password: wrong, verifyCertificate: false}"),
                viaRelay(), "bob@remote.test").get(0);

        assertEquals(Verdict.DEFERRED, r.verdict());
        assertEquals("4.7.8", r.status());
        assertTrue(r.reply().contains("relay " + relay()) && r.reply().contains("535"), r.reply());
        assertEquals(1, first.authFailures());
        assertEquals(List.of(), first.transactions());
    }

    @Test
    void credentialsAreNeverSentInClear() throws Exception {
        first.requireAuth("relayuser", "s3cret", "PLAIN", "LOGIN");

        DeliveryResult r = deliver(relayWith(
                "{requireTls: false, username: relayuser, password: s3cret, verifyCertificate: false}"),
                viaRelay(), "bob@remote.test").get(0);

        assertEquals(Verdict.DEFERRED, r.verdict());
        assertTrue(r.reply().contains("never sent in clear"), r.reply());
        assertTrue(!sentAny(first, "AUTH") && !sentAny(first, "MAIL"), "commands sent: " + first.commands());
    }

    @Test
    void aFallbackRelayHasItsOwnSecuritySettings() throws Exception {
        dns.servfail("down.test");
        first.offerStartTls().requireAuth("relayuser", "s3cret", "PLAIN");
        MailrootConfig config = config("""
                  outboundSecurity:
                    "%s": {username: relayuser, password: s3cret, verifyCertificate: false}
                """.formatted(relay()));

        DeliveryResult r = deliver(config, new NextHop("down.test", null, relay()), "dora@down.test").get(0);

        assertTrue(r.accepted(), r.toString());
        assertEquals(List.of("relayuser"), first.authIdentities());
    }

    @Test
    void aRelayWhoseCertificateCannotBeVerifiedGetsNeitherCredentialsNorMail() throws Exception {
        // PeerScript's certificate is self-signed, for peer.test: neither trusted nor issued for the relay's name.
        first.offerStartTls().requireAuth("relayuser", "s3cret", "PLAIN");

        DeliveryResult r = deliver(relayWith("{requireTls: true, username: relayuser, password: s3cret}"), viaRelay(),
                "bob@remote.test").get(0);

        assertEquals(Verdict.DEFERRED, r.verdict());
        assertEquals("4.7.5", r.status());
        assertTrue(r.reply().contains("relay " + relay()), r.reply());
        assertTrue(!sentAny(first, "AUTH") && !sentAny(first, "MAIL"), "commands sent: " + first.commands());
        assertEquals(List.of(), first.authIdentities());
        assertEquals(List.of(), first.transactions());
    }

    @Test
    void whenOnlyTlsIsRequiredAnUnverifiableCertificateStillStopsTheMail() throws Exception {
        first.offerStartTls();

        DeliveryResult r = deliver(relayWith("{requireTls: true}"), viaRelay(), "bob@remote.test").get(0);

        assertEquals(Verdict.DEFERRED, r.verdict());
        assertEquals("4.7.5", r.status());
        assertTrue(!sentAny(first, "MAIL"), "commands sent: " + first.commands());
    }

    @Test
    void opportunisticTlsToAnMxIsNeverVerified() throws Exception {
        dns.mx("remote.test", 10, "mx.remote.test").a("mx.remote.test", "127.0.0.1");
        first.offerStartTls();

        // The relay's settings verify certificates; they do not apply to MX delivery.
        MailrootConfig config = config("""
                  outboundSecurity:
                    "%s": {requireTls: true}
                """.formatted(relay()));
        assertTrue(deliver(config, NextHop.direct("remote.test"), "bob@remote.test").get(0).accepted());
        assertTrue(first.accepted().get(0).tls());
    }

    private static int indexOfPrefix(List<String> lines, String prefix) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith(prefix)) {
                return i;
            }
        }
        return -1;
    }
}
