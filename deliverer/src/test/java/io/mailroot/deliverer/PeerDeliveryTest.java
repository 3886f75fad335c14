package io.mailroot.deliverer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.config.ConfigLoader;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.MessageIds;
import io.mailroot.core.message.NextHop;
import io.mailroot.core.message.Outcome;
import io.mailroot.core.message.Recipient;
import io.mailroot.core.role.Role;
import io.mailroot.testkit.Await;
import io.mailroot.testkit.DnsResponder;
import io.mailroot.testkit.PeerScript;
import io.mailroot.testkit.PeerScript.Command;
import io.mailroot.testkit.PeerScript.Reply;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The deliverer and retry roles on a real broker against a scripted next hop: what the sender hears, what is
 * retried and when, how many connections and transactions the peer saw, and that a crash loses nothing.
 */
class PeerDeliveryTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final byte[] MESSAGE = "From: alice@sender.test\r\nSubject: hello\r\n\r\nbody\r\n"
            .getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path dir;

    private DnsResponder dns;
    private PeerScript peer;
    private KafkaFixture kafka;
    private final List<Role> roles = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        dns = new DnsResponder();
        dns.mx("remote.test", 10, "mx.remote.test").a("mx.remote.test", "127.0.0.1");
        peer = new PeerScript();
        kafka = new KafkaFixture("peer", 1);
    }

    @AfterEach
    void tearDown() {
        roles.forEach(Role::close);
        kafka.close();
        peer.close();
        dns.close();
    }

    private MailrootConfig config(String delivery) throws Exception {
        return config("30s", delivery);
    }

    private MailrootConfig config(String outboundTimeout, String delivery) throws Exception {
        return ConfigLoader.parse("""
                fqdn: relay.test
                localDomains: [local.test]
                dns:
                  servers: ["%s"]
                  timeout: 2s
                delivery:
                  retryIntervals: [1s, 1s]
                  outboundPort: %d
                  outboundTimeout: %s
                """.formatted(dns.address(), peer.port(), outboundTimeout) + delivery, dir);
    }

    private DelivererRole deliverer(MailrootConfig config) {
        DelivererRole d = new DelivererRole(config, kafka.clients, kafka.topics);
        d.start();
        roles.add(d);
        return d;
    }

    private void retry(MailrootConfig config) {
        RetryRole r = new RetryRole(config, kafka.clients, kafka.topics);
        r.start();
        roles.add(r);
    }

    private List<Envelope> send(int copies, String... to) throws Exception {
        List<Envelope> sent = new ArrayList<>();
        List<ProducerRecord<String, byte[]>> records = new ArrayList<>();
        NextHop hop = NextHop.direct("remote.test");
        for (int i = 0; i < copies; i++) {
            Envelope env = Envelope.received(MessageIds.next(), "alice@sender.test",
                    List.of(to).stream().map(Recipient::of).toList(), Instant.now()).withNextHop(hop);
            records.add(EnvelopeCodec.toRecord(kafka.topics.outbound(), hop.key(), new MailRecord(env, MESSAGE)));
            sent.add(env);
        }
        kafka.publish(records);
        return sent;
    }

    private boolean allConsumed() {
        return kafka.caughtUp("deliverer", kafka.topics.outbound()) && kafka.caughtUp("retry", kafka.topics.retry(1))
                && kafka.caughtUp("retry", kafka.topics.retry(2));
    }

    private static Map<String, Outcome> outcomes(MailRecord report) {
        return report.envelope().recipients().stream()
                .collect(Collectors.toMap(Recipient::address, Recipient::outcome));
    }

    @Test
    void a451AtTheEndOfDataIsRetriedAndThenDelivered() throws Exception {
        peer.on(Command.END_OF_DATA, "451 4.3.0 busy", "250 2.0.0 queued");
        MailrootConfig config = config("");
        deliverer(config);
        retry(config);
        List<MailRecord> retries = kafka.watch(kafka.topics.retry(1));
        List<MailRecord> dsn = kafka.watch(kafka.topics.dsn());

        send(1, "bob@remote.test");

        Await.until("the peer accepted it", WAIT, () -> peer.accepted().size() == 1);
        Await.until("everything is consumed", WAIT, this::allConsumed);
        assertEquals(2, peer.transactions().size(), "one refused, one accepted");
        assertArrayEquals(MESSAGE, peer.accepted().get(0).data());
        Await.until("the retry record was seen", WAIT, () -> retries.size() == 1);
        assertEquals("451 4.3.0 busy", retries.get(0).envelope().lastError());
        assertEquals(1, retries.get(0).envelope().attempt());
        assertEquals(0, kafka.end(kafka.topics.dsn()), "no report: " + dsn);
    }

    @Test
    void oneRecipientOfThreeRefusedIsReportedAndTheOtherTwoDelivered() throws Exception {
        peer.rcpt(r -> r.startsWith("nobody@"), "550 5.1.1 no such user");
        deliverer(config(""));
        List<MailRecord> dsn = kafka.watch(kafka.topics.dsn());

        Envelope env = send(1, "bob@remote.test", "nobody@remote.test", "carol@remote.test").get(0);

        Await.until("the two were delivered", WAIT, () -> peer.accepted().size() == 1);
        assertEquals(List.of("bob@remote.test", "carol@remote.test"), peer.accepted().get(0).recipients());
        Await.until("one report", WAIT, () -> dsn.size() == 1);
        assertEquals(env.id(), dsn.get(0).envelope().id());
        assertEquals(Map.of("nobody@remote.test", Outcome.failed("5.1.1", "smtp; 550 5.1.1 no such user",
                "mx.remote.test")), outcomes(dsn.get(0)));
        Await.until("the offset is committed", WAIT, () -> kafka.caughtUp("deliverer", kafka.topics.outbound()));
        assertEquals(1, peer.connections());
        assertEquals(0, kafka.end(kafka.topics.retry(1)));
    }

    @Test
    void a552AtDataFailsEveryRecipientPermanently() throws Exception {
        peer.on(Command.END_OF_DATA, "552 5.3.4 message too big for this system");
        deliverer(config(""));
        List<MailRecord> dsn = kafka.watch(kafka.topics.dsn());

        send(1, "bob@remote.test", "carol@remote.test", "dave@remote.test");

        Await.until("a report", WAIT, () -> dsn.size() == 1);
        Map<String, Outcome> outcomes = outcomes(dsn.get(0));
        assertEquals(3, outcomes.size());
        for (Outcome o : outcomes.values()) {
            assertEquals(Outcome.failed("5.3.4", "smtp; 552 5.3.4 message too big for this system", "mx.remote.test"),
                    o);
        }
        Await.until("the offset is committed", WAIT, () -> kafka.caughtUp("deliverer", kafka.topics.outbound()));
        assertEquals(0, kafka.end(kafka.topics.retry(1)), "nothing to retry");
        assertEquals(List.of(), peer.accepted());
    }

    @Test
    void aReplySlowerThanTheOutboundTimeoutIsRetried() throws Exception {
        peer.on(Command.MAIL, Reply.after(Duration.ofSeconds(4), "250 2.1.0 ok"), Reply.of("250 2.1.0 ok"));
        MailrootConfig config = config("2s", "");
        deliverer(config);
        retry(config);
        List<MailRecord> retries = kafka.watch(kafka.topics.retry(1));

        send(1, "bob@remote.test");

        Await.until("delivered on the retry", WAIT, () -> peer.accepted().size() == 1);
        Await.until("the retry record was seen", WAIT, () -> retries.size() == 1);
        Envelope waited = retries.get(0).envelope();
        assertTrue(waited.lastError().contains("timed out"), waited.lastError());
        assertEquals(Outcome.Action.DELAYED, waited.recipients().get(0).outcome().action());
        assertEquals(2, peer.connections(), "the timed-out connection was not reused");
        Await.until("everything is consumed", WAIT, this::allConsumed);
    }

    @Test
    void twentyFiveMessagesAtTwentyPerConnectionTakeTwoConnections() throws Exception {
        deliverer(config("  maxMessagesPerConnection: 20\n  maxConnectionsPerDomain: 1\n"));

        send(25, "bob@remote.test");

        Await.until("all 25 arrived", WAIT, () -> peer.accepted().size() == 25);
        assertEquals(2, peer.connections());
        Map<Integer, Long> perConnection = peer.accepted().stream()
                .collect(Collectors.groupingBy(PeerScript.Transaction::connection, Collectors.counting()));
        assertEquals(Map.of(1, 20L, 2, 5L), perConnection);
        Await.until("the offsets are committed", WAIT, () -> kafka.caughtUp("deliverer", kafka.topics.outbound()));
    }

    @Test
    void retriesKeepTheirIntervalsTheSenderHearsOfTheDelayOnceAndThenOfTheExpiry() throws Exception {
        peer.on(Command.MAIL, "451 4.3.0 try again later");
        MailrootConfig config = config("  delayNotification: 2s\n  expirationTimeout: 5s\n");
        deliverer(config);
        retry(config);
        List<MailRecord> dsn = kafka.watch(kafka.topics.dsn());

        send(1, "bob@remote.test");

        Await.until("the expiry report", WAIT, () -> dsn.stream().anyMatch(r -> action(r) == Outcome.Action.FAILED));
        Await.until("everything is consumed", WAIT, this::allConsumed);
        List<MailRecord> delayed = dsn.stream().filter(r -> action(r) == Outcome.Action.DELAYED).toList();
        List<MailRecord> failed = dsn.stream().filter(r -> action(r) == Outcome.Action.FAILED).toList();
        assertEquals(1, delayed.size(), "exactly one delay notice: " + dsn);
        assertEquals(1, failed.size());
        assertEquals(2, kafka.end(kafka.topics.dsn()));
        Outcome expired = failed.get(0).envelope().recipients().get(0).outcome();
        assertEquals("4.4.7", expired.status());
        assertEquals("smtp; 451 4.3.0 try again later", expired.diagnostic());
        assertEquals("4.3.0", delayed.get(0).envelope().recipients().get(0).outcome().status());

        List<Instant> attempts = peer.mailCommands();
        assertTrue(attempts.size() >= 4, "attempts: " + attempts);
        for (int i = 1; i < attempts.size(); i++) {
            Duration gap = Duration.between(attempts.get(i - 1), attempts.get(i));
            assertTrue(gap.compareTo(Duration.ofSeconds(1)) >= 0, "attempt " + i + " came after " + gap);
        }
        Duration span = Duration.between(attempts.get(0), attempts.get(attempts.size() - 1));
        assertTrue(span.compareTo(Duration.ofSeconds(5)) >= 0, "gave up after " + span);
    }

    private static Outcome.Action action(MailRecord report) {
        return report.envelope().recipients().get(0).outcome().action();
    }

    @Test
    void aDelivererKilledWhileTheNextHopHoldsTheDataLosesNothing() throws Exception {
        // The first end of data is never answered, as if the deliverer died waiting; the next one is accepted.
        peer.on(Command.END_OF_DATA, Reply.silence(), Reply.of("250 2.0.0 queued"));
        MailrootConfig config = config("");
        DelivererRole first = deliverer(config);

        Envelope env = send(1, "bob@remote.test").get(0);
        Await.until("the peer holds the data", WAIT, () -> peer.dataReceived() == 1);
        first.abandon();
        roles.remove(first);
        assertEquals(List.of(), peer.accepted());
        assertEquals(0, kafka.committed("deliverer", kafka.topics.outbound()), "nothing was committed");

        deliverer(config);

        Await.until("the next deliverer delivered it", WAIT, () -> peer.accepted().size() == 1);
        assertEquals("alice@sender.test", peer.accepted().get(0).sender());
        assertArrayEquals(MESSAGE, peer.accepted().get(0).data());
        Await.until("and committed it", WAIT, () -> kafka.caughtUp("deliverer", kafka.topics.outbound()));
        assertEquals(2, peer.connections());
        assertEquals(env.recipients().stream().map(Recipient::address).toList(), peer.accepted().get(0).recipients());
    }

    @Test
    void aRelayThatRefusesOurPasswordHoldsTheMailForARetryNamingTheRelay() throws Exception {
        String relay = "[127.0.0.1]:" + peer.port();
        peer.offerStartTls().requireAuth("relayuser", "s3cret", "PLAIN");
        deliverer(config("""
                  routeDomains:
                    remote.test: "%s"
                  outboundSecurity:
                    "%s": {requireTls: true, username: relayuser, password: stale, verifyCertificate: false}
                """.formatted(relay, relay)));
        List<MailRecord> retries = kafka.watch(kafka.topics.retry(1));
        NextHop hop = new NextHop("remote.test", relay, null);
        Envelope env = Envelope.received(MessageIds.next(), "alice@sender.test", List.of(Recipient.of("bob@remote.test")),
                Instant.now()).withNextHop(hop);

        kafka.publish(List.of(EnvelopeCodec.toRecord(kafka.topics.outbound(), hop.key(), new MailRecord(env, MESSAGE))));

        Await.until("a retry record", WAIT, () -> retries.size() == 1);
        String lastError = retries.get(0).envelope().lastError();
        assertTrue(lastError.contains("relay " + relay) && lastError.contains("535"), lastError);
        assertEquals("4.7.8", retries.get(0).envelope().recipients().get(0).outcome().status());
        Await.until("the offset is committed", WAIT, () -> kafka.caughtUp("deliverer", kafka.topics.outbound()));
        assertEquals(0, kafka.end(kafka.topics.dsn()), "no report for an operator's mistake");
        assertEquals(1, peer.authFailures());
        assertEquals(List.of(), peer.transactions());
    }

    @Test
    void aGracefulStopLetsTheTransactionUnderWayFinishAndCommitsIt() throws Exception {
        peer.on(Command.END_OF_DATA, Reply.after(Duration.ofSeconds(1), "250 2.0.0 queued"));
        MailrootConfig config = config("");
        DelivererRole first = deliverer(config);

        send(1, "bob@remote.test");
        Await.until("the peer has the data and is slow to answer", WAIT, () -> peer.dataReceived() == 1);
        first.close();
        roles.remove(first);

        assertEquals(1, peer.accepted().size(), "the transaction under way was finished, not cut");
        assertTrue(kafka.caughtUp("deliverer", kafka.topics.outbound()), "and its offset committed");
        // A new instance starts after the committed offset: only the next message reaches the peer.
        deliverer(config);
        send(1, "carol@remote.test");
        Await.until("the next message arrived", WAIT, () -> peer.accepted().size() == 2);
        Await.until("and was committed", WAIT, () -> kafka.caughtUp("deliverer", kafka.topics.outbound()));
        assertEquals(List.of(List.of("bob@remote.test"), List.of("carol@remote.test")),
                peer.accepted().stream().map(PeerScript.Transaction::recipients).toList(), "each delivered once");
    }

    @Test
    void anUnexpectedFailureRestartsTheConsumerInsteadOfStoppingDelivery() throws Exception {
        MailrootConfig config = config("");
        DelivererRole d = new DelivererRole(config, kafka.clients, kafka.topics);
        java.util.concurrent.atomic.AtomicInteger taken = new java.util.concurrent.atomic.AtomicInteger();
        d.beforeTake = r -> {
            if (taken.incrementAndGet() == 1) {
                throw new IllegalStateException("injected: something unexpected");
            }
        };
        d.start();
        roles.add(d);

        send(1, "bob@remote.test");

        Await.until("the restarted consumer delivered it", WAIT, () -> peer.accepted().size() == 1);
        Await.until("and committed it", WAIT, () -> kafka.caughtUp("deliverer", kafka.topics.outbound()));
        assertEquals(1, peer.accepted().size());
        assertTrue(taken.get() >= 2, "records taken: " + taken.get());
    }
}
