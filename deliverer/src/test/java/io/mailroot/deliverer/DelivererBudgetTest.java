package io.mailroot.deliverer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.config.ConfigLoader;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.NextHop;
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
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The deliverers' shared in-flight budget on a real broker against a slow scripted next hop: records of 100 KB
 * against a budget of 1 MB, so partitions pause and resume many times, and every way a record's attempt can end
 * (delivered, deferred to retry, failed to a report, its partition revoked, its consumer restarted) gives its bytes
 * back: the budget is empty once the topic is consumed, and stays empty when the deliverers stop.
 */
class DelivererBudgetTest {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final int RECORD_BYTES = 100 * 1024;

    @TempDir
    Path dir;

    private DnsResponder dns;
    private PeerScript peer;
    private KafkaFixture kafka;
    private final List<Role> roles = new ArrayList<>();
    /** Of the process, for a 1 MB limit: what every deliverer of these tests shares. */
    private final InFlightBudget budget = InFlightBudget.forProcess(1);

    @BeforeEach
    void setUp() throws Exception {
        dns = new DnsResponder();
        dns.mx("remote.test", 10, "mx.remote.test").a("mx.remote.test", "127.0.0.1");
        peer = new PeerScript();
    }

    @AfterEach
    void tearDown() {
        roles.forEach(Role::close);
        if (kafka != null) {
            kafka.close();
        }
        peer.close();
        dns.close();
    }

    private MailrootConfig config(String fqdn) throws Exception {
        return ConfigLoader.parse("""
                fqdn: %s
                localDomains: [local.test]
                dns:
                  servers: ["%s"]
                  timeout: 2s
                delivery:
                  retryIntervals: [1m]
                  outboundPort: %d
                  outboundTimeout: 30s
                  maxConnectionsPerDomain: 2
                  maxInFlightMb: 1
                """.formatted(fqdn, dns.address(), peer.port()), dir);
    }

    private DelivererRole deliverer(MailrootConfig config) {
        DelivererRole d = new DelivererRole(config, kafka.clients, kafka.topics);
        d.start();
        roles.add(d);
        return d;
    }

    /** Messages of 100 KB, each to its own recipient ({@code user<i>@remote.test}), spread over the partitions. */
    private void send(int count, int partitions) throws Exception {
        List<ProducerRecord<String, byte[]>> records = new ArrayList<>();
        NextHop hop = NextHop.direct("remote.test");
        byte[] filler = new byte[RECORD_BYTES];
        Arrays.fill(filler, (byte) 'x');
        for (int i = 0; i < count; i++) {
            Envelope env = Envelope.received("budget-" + i, "alice@sender.test",
                    List.of(Recipient.of("user" + i + "@remote.test")), Instant.now()).withNextHop(hop);
            byte[] message = ("Subject: " + i + "\r\n\r\n" + new String(filler, StandardCharsets.US_ASCII)
                    .replaceAll("(.{900})", "$1\r\n") + "\r\n").getBytes(StandardCharsets.US_ASCII);
            ProducerRecord<String, byte[]> r =
                    EnvelopeCodec.toRecord(kafka.topics.outbound(), hop.key(), new MailRecord(env, message));
            // One key would put them all in one partition.
            records.add(new ProducerRecord<>(r.topic(), i % partitions, r.key(), r.value(), r.headers()));
        }
        // One at a time: a burst of large batches at a topic just created can meet its leader not yet ready, and the
        // idempotent producer's retries then run into out-of-order sequence errors until they expire.
        try (KafkaProducer<String, byte[]> p = kafka.clients.producer("test-producer")) {
            for (ProducerRecord<String, byte[]> r : records) {
                p.send(r).get(30, TimeUnit.SECONDS);
            }
        }
    }

    /** Waits for the condition while sampling what the budget holds; returns the most it was seen to hold. */
    private long watchBudget(String what, java.util.function.BooleanSupplier done) {
        AtomicLong most = new AtomicLong();
        try {
            Await.until(what, WAIT, () -> {
                most.accumulateAndGet(budget.held(), Math::max);
                return done.getAsBoolean();
            });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; the budget holds " + budget.held() + " bytes, "
                    + budget.waiting() + " claims wait; the peer accepted " + peer.accepted().size() + " ("
                    + acceptedRecipients().size() + " distinct) of " + peer.transactions().size() + " transactions, "
                    + "EHLO names " + peer.commands().stream().filter(c -> c.startsWith("EHLO")).distinct().toList(), e);
        }
        return most.get();
    }

    private Set<String> acceptedRecipients() {
        return peer.accepted().stream().map(t -> t.recipients().get(0)).collect(Collectors.toSet());
    }

    @Test
    void deliveredRetriedAndFailedRecordsGiveTheirBytesBackAndPartitionsResume() throws Exception {
        kafka = new KafkaFixture("budget", 3);
        // Three deferred (to retry.1), two refused for good (to a report), the rest accepted slowly.
        List<Reply> replies = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            replies.add(Reply.of("451 4.3.0 busy"));
        }
        for (int i = 0; i < 2; i++) {
            replies.add(Reply.of("554 5.7.1 refused"));
        }
        replies.add(Reply.after(Duration.ofMillis(20), "250 2.0.0 queued"));
        peer.on(Command.END_OF_DATA, replies.toArray(Reply[]::new));
        long waitsBefore = budget.waits();
        deliverer(config("relay.test"));

        int n = 40;
        send(n, 3);

        long most = watchBudget("every record finished", () -> peer.transactions().size() >= n
                && kafka.caughtUp("deliverer", kafka.topics.outbound()));
        assertEquals(n - 5, peer.accepted().size());
        Await.until("the retries and reports are on their topics", WAIT, () -> {
            try {
                return kafka.end(kafka.topics.retry(1)) == 3 && kafka.end(kafka.topics.dsn()) == 2;
            } catch (Exception e) {
                return false;
            }
        });
        assertTrue(budget.waits() > waitsBefore, "4 MB of mail against a 1 MB budget never waited");
        assertTrue(most <= budget.limit(), "held " + most + " of " + budget.limit());
        Await.until("the budget is empty again", WAIT, () -> budget.held() == 0);
        assertEquals(0, budget.waiting());
    }

    @Test
    void aRevokedPartitionAndARestartedConsumerGiveTheirBytesBack() throws Exception {
        kafka = new KafkaFixture("budget-revoke", 2);
        peer.on(Command.END_OF_DATA, Reply.after(Duration.ofMillis(250), "250 2.0.0 queued"));
        DelivererRole first = new DelivererRole(config("relay.test"), kafka.clients, kafka.topics);
        AtomicInteger taken = new AtomicInteger();
        // The fifth record taken fails the session: the consumer restarts with four records still held.
        first.beforeTake = r -> {
            if (taken.incrementAndGet() == 5) {
                throw new IllegalStateException("injected: something unexpected");
            }
        };
        first.start();
        roles.add(first);

        int n = 40;
        send(n, 2);
        Await.until("deliveries under way after the restart", WAIT, () -> taken.get() > 10 && peer.accepted().size() >= 3);
        // A second deliverer in the process takes one of the two partitions away from the first, mid-delivery.
        deliverer(config("relay2.test"));
        long most = watchBudget("the second deliverer delivering from a partition it took over",
                () -> peer.commands().contains("EHLO relay2.test"));
        assertTrue(acceptedRecipients().size() < n, "it came too late to take anything over");

        most = Math.max(most, watchBudget("every message delivered and committed",
                () -> acceptedRecipients().size() == n && kafka.caughtUp("deliverer", kafka.topics.outbound())));
        assertTrue(most <= budget.limit(), "held " + most + " of " + budget.limit());
        Await.until("the budget is empty again", WAIT, () -> budget.held() == 0);

        roles.forEach(Role::close);
        roles.clear();
        assertEquals(0, budget.held());
        assertEquals(0, budget.waiting(), "no claim left waiting after the deliverers stopped");
    }
}
