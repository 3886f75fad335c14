package io.mailroot.core.event;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.core.instrument.Metrics;
import java.net.ServerSocket;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/** The trail never holds up mail: a producer whose broker is gone costs the caller nothing. */
class EventLogTest {

    /** A real producer pointed at a port where no broker listens (any more): its sends wait max.block.ms, then fail. */
    private static KafkaProducer<String, byte[]> producerOfAGoneBroker(int maxBlockMs) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Map<String, Object> c = new HashMap<>();
        c.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + port);
        c.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, maxBlockMs);
        c.put(ProducerConfig.RECONNECT_BACKOFF_MS_CONFIG, 50);
        return new KafkaProducer<>(c, new StringSerializer(), new ByteArraySerializer());
    }

    @Test
    void emitReturnsBeforeTheSendFailsAndTheFailureIsCounted() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Metrics.globalRegistry.add(registry);
        try (KafkaProducer<String, byte[]> producer = producerOfAGoneBroker(3_000)) {
            EventLog log = new EventLog(producer, "events", "node-a", "ingress");
            long before = EventLog.failedInProcess();
            log.event(MessageEvent.Type.RECEIVED, "m1").sender("a@example.org").emit();
            // The send waits 3 s for metadata and then fails; had emit waited for it, this would already be 1.
            assertEquals(0, log.failures(), "emit returned before the send had an outcome");
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (log.failures() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(1, log.failures(), "the failed send is counted");
            assertTrue(EventLog.failedInProcess() >= before + 1);
            FunctionCounter counter = registry.find("mailroot_events_failed").functionCounter();
            assertTrue(counter != null && counter.count() >= 1, "the metric shows it");
            log.close();
        } finally {
            Metrics.globalRegistry.remove(registry);
        }
    }

    @Test
    void aFullBacklogCountsTheRestInsteadOfWaiting() throws Exception {
        try (KafkaProducer<String, byte[]> producer = producerOfAGoneBroker(60_000)) {
            EventLog log = new EventLog(producer, "events", "node-a", "deliverer");
            int extra = 500;
            for (int i = 0; i < EventLog.BACKLOG + extra; i++) {
                log.event(MessageEvent.Type.DELIVERED, "m" + i).addresses(List.of("b@example.net")).emit();
            }
            // The sending thread is stuck on its first send for a minute, so at most the backlog and that one wait:
            // every call returned, and what did not fit was counted there and then.
            assertTrue(log.failures() >= extra - 1, "failures: " + log.failures());
        }
    }

    @Test
    void aLogWithoutATopicWritesNothingAndNeverFails() {
        EventLog.NONE.event(MessageEvent.Type.ROUTED, "m1").emit();
        assertEquals(0, EventLog.NONE.failures());
    }
}
