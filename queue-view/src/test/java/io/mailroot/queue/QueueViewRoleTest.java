package io.mailroot.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.event.EventCodec;
import io.mailroot.core.event.MessageEvent;
import io.mailroot.core.event.MessageEvent.Type;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.TopicCreator;
import io.mailroot.core.kafka.Topics;
import io.mailroot.queue.QueuedMessage.State;
import io.mailroot.testkit.Await;
import io.mailroot.testkit.SharedKafka;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class QueueViewRoleTest {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Instant NOW = Instant.now();

    private Topics topics;
    private KafkaClients clients;
    private KafkaProducer<String, byte[]> producer;
    private QueueReader reader;
    private QueueViewRole role;

    @BeforeEach
    void setUp() throws Exception {
        String prefix = SharedKafka.uniquePrefix("queue-view");
        topics = new Topics(prefix, 2);
        clients = new KafkaClients(SharedKafka.bootstrap(), prefix);
        TopicCreator.ensure(clients, topics, 3, (short) 1);
        producer = clients.producer("test-events");
        reader = new QueueReader(clients, topics, Duration.ofSeconds(30));
    }

    @AfterEach
    void tearDown() {
        if (role != null) {
            role.close();
        }
        producer.close();
    }

    private void send(MessageEvent... events) throws Exception {
        for (MessageEvent e : events) {
            producer.send(EventCodec.toRecord(topics.events(), e)).get(10, TimeUnit.SECONDS);
        }
    }

    private Map<String, QueuedMessage> view() {
        try {
            return reader.read(QueueFilter.ALL).stream().collect(Collectors.toMap(QueuedMessage::id, m -> m));
        } catch (TimeoutException e) {
            throw new AssertionError(e);
        }
    }

    private Map<String, QueuedMessage> awaitView(String what, java.util.function.Predicate<Map<String, QueuedMessage>> ok) {
        return Await.value(what, WAIT, () -> {
            Map<String, QueuedMessage> v = view();
            return ok.test(v) ? v : null;
        });
    }

    private void startRole() {
        role = new QueueViewRole(clients, topics, "test-node");
        role.start();
    }

    @Test
    void theViewFollowsTheEventsAndSurvivesARestart() throws Exception {
        Instant t = NOW.minusSeconds(600);
        send(Events.received("m1", "a@example.org", 1000, t, "b@example.net", "c@example.com"),
                Events.routed("m1", "example.net", t, "b@example.net"),
                Events.routed("m1", "example.com", t, "c@example.com"),
                Events.deferred("m1", "example.net", t.plusSeconds(1), "451 4.7.1 greylisted", 1, t.plusSeconds(900),
                        "b@example.net"),
                Events.received("m2", "d@example.org", 2000, t, "e@example.net"),
                Events.routed("m2", "example.net", t, "e@example.net"),
                Events.received("m3", "f@example.org", 3000, t, "g@example.com"),
                Events.routed("m3", "example.com", t, "g@example.com"),
                Events.of(Type.DELIVERED, "m3", t.plusSeconds(2), "g@example.com"));
        startRole();

        Map<String, QueuedMessage> v = awaitView("m1 deferred and m2 active, m3 delivered",
                m -> m.size() == 2 && m.containsKey("m1") && m.get("m1").recipients().stream()
                        .anyMatch(r -> r.state() == State.DEFERRED) && m.containsKey("m2"));
        QueuedMessage m1 = v.get("m1");
        assertEquals(1000, m1.size());
        assertEquals("451 4.7.1 greylisted", m1.recipients().get(0).delayReason());
        assertEquals("example.com", m1.recipients().get(1).nextHop());

        role.close();
        // While no view runs, events wait in their topic; the new view starts from the queue topic's state.
        send(Events.of(Type.DELIVERED, "m1", t.plusSeconds(3), "c@example.com"),
                Events.of(Type.HELD, "m2", t.plusSeconds(3)),
                Events.received("m4", "h@example.org", 4000, t, "i@example.net"));
        startRole();
        v = awaitView("m1 with one recipient, m2 held, m4 queued", m -> m.size() == 3 && m.containsKey("m4")
                && m.get("m1").recipients().size() == 1 && QueueName.of(m.get("m2")) == State.HOLD);
        // What the first view folded is still there: the deferral of b@example.net.
        assertEquals(1, v.get("m1").recipients().get(0).attempts());
        assertEquals("b@example.net", v.get("m1").recipients().get(0).address());

        send(Events.of(Type.DELIVERED, "m1", t.plusSeconds(4), "b@example.net"));
        v = awaitView("m1 delivered", m -> !m.containsKey("m1"));
        assertEquals(List.of("m2", "m4"), v.keySet().stream().sorted().toList());
    }

    @Test
    void aMessageQueuedLongerThanAnyCanBeIsRemovedUnlessHeld() throws Exception {
        Instant old = NOW.minus(Duration.ofDays(10));
        send(Events.received("old", "a@example.org", 10, old, "b@example.net"),
                Events.deferred("old", "example.net", old, "451 busy", 30, old.plusSeconds(600), "b@example.net"),
                Events.received("held", "a@example.org", 10, old, "b@example.net"),
                Events.of(Type.HELD, "held", old),
                Events.received("young", "a@example.org", 10, NOW.minusSeconds(60), "b@example.net"));
        role = new QueueViewRole(clients, topics, "test-node",
                new QueueViewRole.Sweep(Duration.ofDays(3), Duration.ofMillis(200)), java.time.Clock.systemUTC());
        role.start();
        awaitView("young and held only", m -> m.keySet().equals(java.util.Set.of("young", "held")));
    }

    @Test
    void theGaugesCountTheViewByQueue() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        var prometheus = new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(
                io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT);
        Metrics.globalRegistry.add(registry);
        Metrics.globalRegistry.add(prometheus);
        try {
            Instant t = NOW.minusSeconds(3600);
            send(Events.received("g1", "a@example.org", 10, t, "b@example.net"),
                    Events.deferred("g1", "example.net", t, "451 busy", 1, NOW.plusSeconds(600), "b@example.net"),
                    Events.received("g2", "a@example.org", 10, NOW.minusSeconds(60), "b@example.net"),
                    Events.received("g3", "a@example.org", 10, NOW.minusSeconds(60), "b@example.net"),
                    Events.of(Type.HELD, "g3", NOW));
            startRole();
            awaitView("three messages", m -> m.size() == 3 && QueueName.of(m.get("g3")) == State.HOLD);
            Await.until("gauges counting the three", WAIT, () ->
                    gauge(registry, QueueGauges.MESSAGES, "deferred") == 1 && gauge(registry, QueueGauges.MESSAGES, "active") == 1
                            && gauge(registry, QueueGauges.MESSAGES, "hold") == 1);
            double oldest = gauge(registry, QueueGauges.OLDEST, "deferred");
            assertTrue(oldest >= 3600 && oldest < 3600 + 600, "oldest deferred " + oldest);
            String scrape = prometheus.scrape();
            assertTrue(scrape.contains("mailroot_queue_messages{state=\"hold\"} 1"), scrape);
            assertTrue(scrape.contains("mailroot_queue_oldest_seconds{state=\"deferred\"} 3"), scrape);
        } finally {
            Metrics.globalRegistry.remove(registry);
            Metrics.globalRegistry.remove(prometheus);
        }
    }

    private static double gauge(SimpleMeterRegistry registry, String name, String state) {
        var g = registry.find(name).tag("state", state).gauge();
        return g == null ? -1 : g.value();
    }
}
