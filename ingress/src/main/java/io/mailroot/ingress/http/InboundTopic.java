package io.mailroot.ingress.http;

import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.Producer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The inbound topic as the HTTP API sees it: one shared producer, so concurrent requests go out in the same
 * batches, and each request waits for its own acknowledgement before it is answered 202.
 */
final class InboundTopic implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(InboundTopic.class);

    private final Producer<String, byte[]> producer;
    private final String topic;
    private final Duration timeout;

    InboundTopic(Producer<String, byte[]> producer, String topic, Duration timeout) {
        this.producer = producer;
        this.topic = topic;
        this.timeout = timeout;
    }

    /** @return true only when Kafka acknowledged the record; on false the client must keep the message */
    boolean put(MailRecord mail) {
        String id = mail.envelope().id();
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            var ack = producer.send(EnvelopeCodec.toRecord(topic, id, mail));
            ack.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            LOG.warn("interrupted queueing {}", id);
        } catch (Exception e) {
            // A time-out may still land the record: the client retries, and the message comes twice, never zero times.
            LOG.warn("could not queue {}: {}", id, e.toString());
        }
        return false;
    }

    @Override
    public void close() {
        try {
            producer.close(Duration.ofSeconds(10));
        } catch (RuntimeException e) {
            LOG.warn("closing the HTTP submission producer: {}", e.toString());
        }
    }
}
