package io.mailroot.ingress;

import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.Producer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The inbound topic as ingress sees it: one shared idempotent producer that every SMTP session (or HTTP request)
 * hands its message to. Each waits for its own acknowledgement, and the producer batches the records of concurrent
 * ones together, so throughput grows with concurrency rather than costing a round trip each.
 */
public final class InboundQueue implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(InboundQueue.class);

    private final Producer<String, byte[]> producer;
    private final String topic;
    private final Duration timeout;
    private final String source;

    /** @param timeout how long {@link #put} waits for Kafka's acknowledgement */
    public InboundQueue(Producer<String, byte[]> producer, String topic, Duration timeout) {
        this(producer, topic, timeout, IngressMetrics.SMTP);
    }

    /** @param source where the messages come from, as {@link IngressMetrics#accepted} counts them */
    public InboundQueue(Producer<String, byte[]> producer, String topic, Duration timeout, String source) {
        this.producer = producer;
        this.topic = topic;
        this.timeout = timeout;
        this.source = source;
    }

    /**
     * Publishes the message and waits, at most the queueing time-out, until Kafka has acknowledged it.
     *
     * @return true only when the record is durably in the topic; on false the client must keep the message
     */
    public boolean put(MailRecord mail) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            var ack = producer.send(EnvelopeCodec.toRecord(topic, mail.envelope().id(), mail));
            ack.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            IngressMetrics.accepted(source);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            LOG.warn("interrupted queueing {}", mail.envelope().id());
        } catch (ExecutionException e) {
            LOG.warn("could not queue {}: {}", mail.envelope().id(), e.getCause().toString());
        } catch (TimeoutException e) {
            // The record may still land; the client retries and the message arrives twice, never zero times.
            LOG.warn("no acknowledgement for {} within {}", mail.envelope().id(), timeout);
        } catch (RuntimeException e) {
            // send() itself fails when metadata cannot be fetched within max.block.ms, or after close().
            LOG.warn("could not queue {}: {}", mail.envelope().id(), e.toString());
        }
        return false;
    }

    @Override
    public void close() {
        try {
            producer.close(Duration.ofSeconds(10));
        } catch (RuntimeException e) {
            LOG.warn("closing the inbound producer: {}", e.toString());
        }
    }
}
