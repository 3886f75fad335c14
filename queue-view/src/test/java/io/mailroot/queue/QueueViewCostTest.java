package io.mailroot.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mailroot.core.event.EventCodec;
import io.mailroot.core.event.MessageEvent;
import io.mailroot.core.event.MessageEvent.Type;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.TopicCreator;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.MessageIds;
import io.mailroot.testkit.Await;
import io.mailroot.testkit.SharedKafka;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * What the queue view costs: the bytes of {@code events} per message it reads, the {@code queue} records it writes,
 * and how fast it folds a backlog on this machine. A measurement, not a test of speed: run it with
 * {@code -Dqueue.cost=true} ({@code -Dqueue.cost.messages=N}); it asserts only that the view ends up right.
 */
@EnabledIfSystemProperty(named = "queue.cost", matches = "true")
class QueueViewCostTest {

    @Test
    void measure() throws Exception {
        int n = Integer.getInteger("queue.cost.messages", 20_000);
        String prefix = SharedKafka.uniquePrefix("queue-cost");
        Topics topics = new Topics(prefix, 2);
        KafkaClients clients = new KafkaClients(SharedKafka.bootstrap(), prefix);
        TopicCreator.ensure(clients, topics, 6, (short) 1);
        long eventBytes = 0;
        long events = 0;
        try (KafkaProducer<String, byte[]> producer = clients.producer("cost-events")) {
            for (int i = 0; i < n; i++) {
                for (MessageEvent e : trail(i, Instant.now())) {
                    var r = EventCodec.toRecord(topics.events(), e);
                    eventBytes += r.key().length() + r.value().length;
                    events++;
                    producer.send(r);
                }
            }
            producer.flush();
        }
        QueueViewRole role = new QueueViewRole(clients, topics, "cost");
        long t0 = System.nanoTime();
        role.start();
        try (Admin admin = Admin.create(clients.adminConfig())) {
            Map<TopicPartition, Long> end = endOffsets(admin, topics.events());
            long total = end.values().stream().mapToLong(Long::longValue).sum();
            Await.until("the view caught up with " + total + " events", Duration.ofMinutes(10), () -> {
                try {
                    Map<TopicPartition, OffsetAndMetadata> done = admin.listConsumerGroupOffsets(prefix + QueueViewRole.GROUP)
                            .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
                    return done.entrySet().stream().filter(e -> e.getValue() != null)
                            .mapToLong(e -> e.getValue().offset()).sum() >= total;
                } catch (Exception e) {
                    return false;
                }
            });
            double seconds = (System.nanoTime() - t0) / 1e9;
            long queueOffsets = endOffsets(admin, topics.queueState()).values().stream().mapToLong(Long::longValue).sum();
            assertEquals(0, new QueueReader(clients, topics, Duration.ofSeconds(60)).read(QueueFilter.ALL).size(),
                    "every message was delivered, so none is queued");
            System.out.printf("backlog: %d messages, %d events, %.0f event bytes/message (key+JSON, before lz4),"
                            + " %.1f events/message; folded the backlog in %.1f s (%.0f events/s, %.0f messages/s, start-up"
                            + " included); queue topic offsets written %d (%.2f per message, records plus transaction markers)%n",
                    n, events, (double) eventBytes / n, (double) events / n, seconds, events / seconds, n / seconds,
                    queueOffsets, (double) queueOffsets / n);
            live(admin, clients, topics, prefix, queueOffsets);
        } finally {
            role.close();
        }
    }

    /**
     * Mail as it flows: {@code rate} messages a second for {@code seconds}, each delivered a second after it was
     * received and routed (a tenth deferred once first), while the view runs; then the view's CPU time, the
     * {@code queue} records per message, and how far behind it was when the last event was written.
     */
    private void live(Admin admin, KafkaClients clients, Topics topics, String prefix, long queueBefore) throws Exception {
        int rate = Integer.getInteger("queue.cost.rate", 500);
        int seconds = Integer.getInteger("queue.cost.seconds", 10);
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        long cpu0 = viewCpu(mx);
        int n = 0;
        // Per tick (a tenth of a second), the rest of the trails of the messages received then.
        java.util.ArrayDeque<List<MessageEvent>> later = new java.util.ArrayDeque<>();
        try (KafkaProducer<String, byte[]> producer = clients.producer("cost-live")) {
            for (int tick = 0; tick < seconds * 10 + 11; tick++) {
                long tickStart = System.nanoTime();
                List<MessageEvent> now = new java.util.ArrayList<>();
                List<MessageEvent> rest = new java.util.ArrayList<>();
                if (tick < seconds * 10) {
                    for (int k = 0; k < rate / 10; k++, n++) {
                        List<MessageEvent> trail = trail(1_000_000 + n, Instant.now());
                        now.addAll(trail.subList(0, 2));
                        rest.addAll(trail.subList(2, trail.size()));
                    }
                }
                later.add(rest);
                // What was received ten ticks (a second) ago is delivered now.
                if (later.size() > 10) {
                    now.addAll(later.poll());
                }
                for (MessageEvent e : now) {
                    producer.send(EventCodec.toRecord(topics.events(), e));
                }
                producer.flush();
                long sleep = 100 - (System.nanoTime() - tickStart) / 1_000_000;
                if (sleep > 0) {
                    Thread.sleep(sleep); // pacing the load, not waiting for a result
                }
            }
        }
        long lastWritten = System.nanoTime();
        Map<TopicPartition, Long> end = endOffsets(admin, topics.events());
        long total = end.values().stream().mapToLong(Long::longValue).sum();
        Await.until("the view caught up", Duration.ofMinutes(5), () -> {
            try {
                return admin.listConsumerGroupOffsets(prefix + QueueViewRole.GROUP).partitionsToOffsetAndMetadata()
                        .get(10, TimeUnit.SECONDS).values().stream().filter(java.util.Objects::nonNull)
                        .mapToLong(OffsetAndMetadata::offset).sum() >= total;
            } catch (Exception e) {
                return false;
            }
        });
        double behind = (System.nanoTime() - lastWritten) / 1e6;
        assertEquals(0, new QueueReader(clients, topics, Duration.ofSeconds(60)).read(QueueFilter.ALL).size(),
                "every message was delivered, so none is queued");
        long cpu = viewCpu(mx) - cpu0;
        long queueRecords = endOffsets(admin, topics.queueState()).values().stream().mapToLong(Long::longValue).sum() - queueBefore;
        System.out.printf("live: %d messages at %d/s over %d s; queue view thread CPU %d ms (%.2f ms per 1000 messages);"
                        + " queue topic offsets written %d (%.2f per message); caught up %.0f ms after the last event%n",
                n, rate, seconds, cpu / 1_000_000, cpu / 1e6 / n * 1000, queueRecords, (double) queueRecords / n, behind);
    }

    private static long viewCpu(java.lang.management.ThreadMXBean mx) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("queue-view"))
                .mapToLong(t -> Math.max(0, mx.getThreadCpuTime(t.getId()))).sum();
    }

    /** One message's events: received, routed, a tenth deferred once, delivered. */
    private static List<MessageEvent> trail(int i, Instant t) {
        String id = MessageIds.next();
        String rcpt = "user" + i + "@domain" + (i % 48) + ".example";
        String hop = "domain" + (i % 48) + ".example";
        String sender = "sender" + (i % 100) + "@example.org";
        List<MessageEvent> trail = new java.util.ArrayList<>(List.of(
                new MessageEvent(id, Type.RECEIVED, t, "node-0a1b2c3d4e5f6", "ingress", sender, List.of(rcpt), 4200,
                        "192.0.2.10 [client.example] HELO client.example on default", null, null, null, 0, null, null, null),
                new MessageEvent(id, Type.ROUTED, t, "node-0a1b2c3d4e5f6", "router", sender, List.of(rcpt), 4200, null, hop,
                        null, null, 0, null, null, null)));
        if (i % 10 == 0) {
            trail.add(new MessageEvent(id, Type.DEFERRED, t, "node-0a1b2c3d4e5f6", "deliverer", null, List.of(rcpt), 0, null,
                    hop, "mx." + hop + " [192.0.2.7]", "451 4.7.1 Greylisted, please try again later", 1, t.plusSeconds(900),
                    null, null));
        }
        trail.add(new MessageEvent(id, Type.DELIVERED, t, "node-0a1b2c3d4e5f6", "deliverer", null, List.of(rcpt), 0, null,
                hop, "mx." + hop + " [192.0.2.7]", "250 2.0.0 Ok: queued as 4ABCD1234", 1, null, null, null));
        return trail;
    }

    private static Map<TopicPartition, Long> endOffsets(Admin admin, String topic) throws Exception {
        var parts = admin.describeTopics(List.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS).get(topic).partitions();
        Map<TopicPartition, OffsetSpec> ask = new java.util.HashMap<>();
        parts.forEach(p -> ask.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest()));
        Map<TopicPartition, Long> out = new java.util.HashMap<>();
        admin.listOffsets(ask).all().get(10, TimeUnit.SECONDS).forEach((tp, info) -> out.put(tp, info.offset()));
        return out;
    }
}
