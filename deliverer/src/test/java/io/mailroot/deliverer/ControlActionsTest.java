package io.mailroot.deliverer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.config.ConfigLoader;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.control.ControlAction;
import io.mailroot.core.control.ControlAction.Verb;
import io.mailroot.core.control.ControlCodec;
import io.mailroot.core.event.EventCodec;
import io.mailroot.core.event.MessageEvent;
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
import io.mailroot.testkit.ScriptedSmtpServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Operator actions against real deliverer and retry roles: mail deferred for an hour by a peer's 451 waits on
 * retry.1 (one partition, so the messages of two domains queue one behind the other), and the actions reach it.
 */
class ControlActionsTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final byte[] MESSAGE = "Subject: held up\r\n\r\nbody\r\n".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path dir;
    private DnsResponder dns;
    private ScriptedSmtpServer mx;
    private KafkaFixture kafka;
    private final List<Role> roles = new ArrayList<>();
    private List<MailRecord> retries;
    private List<MailRecord> dsn;
    private final List<MessageEvent> events = new CopyOnWriteArrayList<>();
    private Thread eventReader;
    private KafkaConsumer<String, byte[]> eventConsumer;
    private MailrootConfig config;

    @BeforeEach
    void start() throws Exception {
        dns = new DnsResponder();
        mx = new ScriptedSmtpServer();
        dns.mx("remote.test", 10, "mx.remote.test").mx("other.test", 10, "mx.remote.test")
                .a("mx.remote.test", "127.0.0.1");
        kafka = new KafkaFixture("control", 1);
        config = config("1h");
        retries = kafka.watch(kafka.topics.retry(1));
        dsn = kafka.watch(kafka.topics.dsn());
        watchEvents();
    }

    private MailrootConfig config(String interval) {
        return ConfigLoader.parse("""
                fqdn: relay.test
                nodeId: test-node
                dns:
                  servers: ["%s"]
                  timeout: 2s
                delivery:
                  retryIntervals: [%s]
                  outboundPort: %d
                """.formatted(dns.address(), interval, mx.port()), dir);
    }

    /** The roles read the whole control topic as they start: what was asked before is known before any mail. */
    private void startRoles() throws Exception {
        for (Role r : List.of(new DelivererRole(config, kafka.clients, kafka.topics),
                new RetryRole(config, kafka.clients, kafka.topics))) {
            r.start();
            roles.add(r);
        }
    }

    @AfterEach
    void stop() throws Exception {
        for (Role r : roles) {
            r.close();
        }
        eventConsumer.wakeup();
        eventReader.join(5000);
        kafka.close();
        mx.close();
        dns.close();
    }

    private void watchEvents() {
        eventConsumer = kafka.clients.consumer("test-events", "test-events");
        TopicPartition tp = new TopicPartition(kafka.topics.events(), 0);
        eventConsumer.assign(List.of(tp));
        eventConsumer.seekToBeginning(List.of(tp));
        eventReader = new Thread(() -> {
            try {
                while (true) {
                    for (ConsumerRecord<String, byte[]> r : eventConsumer.poll(Duration.ofMillis(100))) {
                        events.add(EventCodec.decode(r.value()));
                    }
                }
            } catch (WakeupException e) {
                eventConsumer.close(Duration.ofSeconds(2));
            }
        });
        eventReader.start();
    }

    private Envelope send(String to) throws Exception {
        Envelope env = Envelope.received(MessageIds.next(), "alice@sender.test", List.of(Recipient.of(to)),
                Instant.now()).withNextHop(NextHop.direct(to.substring(to.indexOf('@') + 1)));
        kafka.publish(List.of(EnvelopeCodec.toRecord(kafka.topics.outbound(), env.nextHop().key(),
                new MailRecord(env, MESSAGE))));
        return env;
    }

    /** Sends a message the peer answers 451, and waits until it waits an hour on retry.1. */
    private Envelope deferred(String to) throws Exception {
        mx.dataReplies("451 4.3.0 busy");
        Envelope env = send(to);
        Await.until(env.id() + " waits on retry.1", WAIT,
                () -> retries.stream().anyMatch(m -> m.envelope().id().equals(env.id())));
        return env;
    }

    private ControlAction act(Verb verb, String id, String domain, boolean report) throws Exception {
        ControlAction a = new ControlAction(UUID.randomUUID().toString(), verb, id, domain, report, Instant.now(),
                "tester");
        publish(a);
        return a;
    }

    private void publish(ControlAction a) throws Exception {
        try (KafkaProducer<String, byte[]> p = kafka.clients.producer("test-operator")) {
            p.send(ControlCodec.toRecord(kafka.topics.control(), a)).get();
        }
    }

    private boolean delivered(Envelope env) {
        String to = env.recipients().get(0).address();
        return mx.received().stream().anyMatch(r -> r.recipients().contains(to));
    }

    private long events(Envelope env, MessageEvent.Type type) {
        return events.stream().filter(e -> e.messageId().equals(env.id()) && e.type() == type).count();
    }

    @Test
    void retryNowOfOneMessageDeliversItPastAnEarlierOneNotYetDue() throws Exception {
        startRoles();
        Envelope ahead = deferred("carol@other.test");
        Envelope wanted = deferred("bob@remote.test");

        ControlAction a = act(Verb.RETRY_NOW, wanted.id(), null, false);

        Await.until("the message asked for was delivered", WAIT, () -> delivered(wanted));
        Await.until("its RETRY_NOW event was written", WAIT, () -> events(wanted, MessageEvent.Type.RETRY_NOW) == 1);
        MessageEvent e = events.stream().filter(x -> x.type() == MessageEvent.Type.RETRY_NOW).findFirst().orElseThrow();
        assertEquals("retry", e.role());
        assertTrue(e.detail().contains(a.id()) && e.detail().contains("tester"), e.detail());
        assertFalse(delivered(ahead), "the message ahead of it is not due for an hour and was not asked for");
        assertEquals(0, events(ahead, MessageEvent.Type.RETRY_NOW));
        assertEquals(0, kafka.committed("retry", kafka.topics.retry(1)), "the retry partition still waits at the first");

        publish(a);
        // Applied after the repeated retry-now: once it is done, the repeat was considered.
        act(Verb.RETRY_NOW, ahead.id(), null, false);
        Await.until("the message ahead was delivered", WAIT, () -> delivered(ahead));
        assertEquals(1, mx.received().stream().filter(m -> m.recipients().contains("bob@remote.test")).count(),
                "the same retry-now twice is one attempt");
        assertEquals(1, events(wanted, MessageEvent.Type.RETRY_NOW));
    }

    @Test
    void anActionKnownAtStartReachesARecordBehindOneNotYetDue() throws Exception {
        Instant inAnHour = Instant.now().plus(Duration.ofHours(1));
        Envelope ahead = waiting("carol@other.test", inAnHour);
        Envelope wanted = waiting("bob@remote.test", inAnHour);
        kafka.publish(List.of(EnvelopeCodec.toRecord(kafka.topics.retry(1), "other.test", new MailRecord(ahead, MESSAGE)),
                EnvelopeCodec.toRecord(kafka.topics.retry(1), "remote.test", new MailRecord(wanted, MESSAGE))));
        // As after a restart: the action is older than the roles, younger than the records.
        act(Verb.RETRY_NOW, null, "remote.test", false);

        startRoles();

        Await.until("the message asked for was delivered", WAIT, () -> delivered(wanted));
        assertFalse(delivered(ahead));
    }

    private static Envelope waiting(String to, Instant due) {
        return Envelope.received(MessageIds.next(), "alice@sender.test", List.of(Recipient.of(to)),
                        Instant.now().minusSeconds(600)).withNextHop(NextHop.direct(to.substring(to.indexOf('@') + 1)))
                .withAttempt(1, Instant.now().minusSeconds(600), due, "451 4.3.0 busy");
    }

    @Test
    void aHeldMessageAtTheHeadOfARetryPartitionDoesNotStopTheOthers() throws Exception {
        config = config("1s");
        act(Verb.HOLD, null, "remote.test", false);
        startRoles();
        Envelope held = send("bob@remote.test");
        Await.until("it was parked as held", WAIT, () -> events(held, MessageEvent.Type.HELD) == 1);
        Envelope behind = deferred("carol@other.test");

        Await.until("the message behind it was retried and delivered", WAIT, () -> delivered(behind));
        Await.until("the held message was parked again at the end of its level", WAIT,
                () -> retries.stream().filter(m -> m.envelope().id().equals(held.id())).count() >= 3);
        assertFalse(delivered(held));
        assertEquals(1, events(held, MessageEvent.Type.HELD), "parked again is not held again");

        act(Verb.RELEASE, null, "remote.test", false);
        Await.until("the released message was delivered", WAIT, () -> delivered(held));
    }

    @Test
    void retryNowOfADomainDeliversItsMailOnly() throws Exception {
        startRoles();
        Envelope ahead = deferred("carol@other.test");
        Envelope first = deferred("bob@remote.test");
        Envelope second = deferred("dave@remote.test");

        act(Verb.RETRY_NOW, null, "Remote.Test", false);

        Await.until("both messages of the domain were delivered", WAIT, () -> delivered(first) && delivered(second));
        assertFalse(delivered(ahead));
        assertEquals(2, mx.received().size());
    }

    @Test
    void aHeldMessageWaitsWhileOthersGoAndIsDeliveredWhenReleased() throws Exception {
        act(Verb.HOLD, null, "remote.test", false);
        startRoles();
        Envelope held = send("bob@remote.test");
        Await.until("it was parked as held", WAIT, () -> events(held, MessageEvent.Type.HELD) == 1);
        Envelope other = send("carol@other.test");

        Await.until("the other message was delivered", WAIT, () -> delivered(other));
        assertFalse(delivered(held), "held mail is not delivered");
        MailRecord parked = retries.stream().filter(m -> m.envelope().id().equals(held.id())).findFirst().orElseThrow();
        assertTrue(parked.envelope().nextDueAt().isAfter(Instant.now().plus(Duration.ofMinutes(30))),
                "parked until the level's interval: " + parked.envelope().nextDueAt());

        act(Verb.RELEASE, null, "remote.test", false);

        Await.until("the released message was delivered", WAIT, () -> delivered(held));
        Await.until("its RELEASED event was written", WAIT, () -> events(held, MessageEvent.Type.RELEASED) == 1);
        assertEquals(1, events(held, MessageEvent.Type.HELD));
    }

    @Test
    void aHoldReachesMailAlreadyWaitingAndKeepsItPastItsTime() throws Exception {
        startRoles();
        Envelope waiting = deferred("bob@remote.test");
        act(Verb.HOLD, waiting.id(), null, false);
        Await.until("it was held where it waited", WAIT, () -> events(waiting, MessageEvent.Type.HELD) == 1);
        act(Verb.RETRY_NOW, null, "remote.test", false);
        Envelope other = deferred("carol@other.test");
        act(Verb.RETRY_NOW, other.id(), null, false);

        Await.until("the other message was delivered", WAIT, () -> delivered(other));
        assertFalse(delivered(waiting), "a hold wins over a retry-now");

        act(Verb.RELEASE, waiting.id(), null, false);
        Await.until("the released message was delivered", WAIT, () -> delivered(waiting));
    }

    @Test
    void deleteWithAReportFailsTheMessageToItsSender() throws Exception {
        startRoles();
        Envelope ahead = deferred("carol@other.test");
        Envelope doomed = deferred("bob@remote.test");

        ControlAction a = new ControlAction(UUID.randomUUID().toString(), Verb.DELETE, doomed.id(), null, true,
                Instant.now(), "tester");
        publish(a);
        publish(a);
        // Applied after the doubled delete: once it is done, the delete was considered twice.
        act(Verb.RETRY_NOW, ahead.id(), null, false);

        Await.until("the message after it was delivered", WAIT, () -> delivered(ahead));
        Await.until("a report record was written", WAIT, () -> dsn.size() >= 1);
        Await.until("its DELETED event was written", WAIT, () -> events(doomed, MessageEvent.Type.DELETED) >= 1);
        assertEquals(1, dsn.size(), "the same delete twice reports once");
        Envelope report = dsn.get(0).envelope();
        assertEquals(doomed.id(), report.id());
        Outcome o = report.recipients().get(0).outcome();
        assertEquals(Outcome.Action.FAILED, o.action());
        assertEquals("5.0.0", o.status());
        assertTrue(o.diagnostic().contains("deleted by the operator"), o.diagnostic());
        assertFalse(delivered(doomed));
        assertEquals(1, events(doomed, MessageEvent.Type.DELETED));
    }

    @Test
    void deleteWithoutAReportDropsTheMessageSilently() throws Exception {
        startRoles();
        Envelope doomed = deferred("bob@remote.test");

        act(Verb.DELETE, null, "remote.test", false);

        Await.until("its DELETED event was written", WAIT, () -> events(doomed, MessageEvent.Type.DELETED) == 1);
        // The event is written with the effect and acknowledged with it: a report would be there by now.
        assertEquals(0, kafka.end(kafka.topics.dsn()));
        Envelope after = send("eve@remote.test");
        Await.until("mail for the domain that came after the delete is delivered", WAIT, () -> delivered(after));
        assertFalse(delivered(doomed));
    }

    @Test
    void expireFailsTheMessageAsIfItsTimeHadPassed() throws Exception {
        startRoles();
        Envelope old = deferred("bob@remote.test");

        act(Verb.EXPIRE, old.id(), null, false);

        Await.until("a report record was written", WAIT, () -> dsn.size() == 1);
        Outcome o = dsn.get(0).envelope().recipients().get(0).outcome();
        assertEquals(Outcome.Action.FAILED, o.action());
        assertEquals("4.4.7", o.status());
        assertTrue(o.diagnostic().startsWith("smtp; 451"), "the last reply, as an expiry reports it: " + o.diagnostic());
        Await.until("its EXPIRED event was written", WAIT, () -> events(old, MessageEvent.Type.EXPIRED) == 1);
        assertFalse(delivered(old));
    }

    @Test
    void aDeleteKnownAtStartStopsDeliveryFromOutbound() throws Exception {
        act(Verb.DELETE, null, "remote.test", true);
        startRoles();
        Envelope before = Envelope.received(MessageIds.next(), "alice@sender.test", List.of(Recipient.of("bob@remote.test")),
                Instant.now().minusSeconds(60)).withNextHop(NextHop.direct("remote.test"));
        kafka.publish(List.of(EnvelopeCodec.toRecord(kafka.topics.outbound(), "remote.test", new MailRecord(before, MESSAGE))));
        Envelope later = send("carol@remote.test");

        Await.until("a report record was written", WAIT, () -> dsn.size() == 1);
        Await.until("mail that arrived after the delete was delivered", WAIT, () -> delivered(later));
        assertFalse(delivered(before));
        assertEquals(before.id(), dsn.get(0).envelope().id());
        MessageEvent e = events.stream().filter(x -> x.messageId().equals(before.id())).findFirst().orElseThrow();
        assertEquals(MessageEvent.Type.DELETED, e.type());
        assertEquals("deliverer", e.role());
    }
}
