package io.mailroot.ingress;

import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.event.EventLog;
import io.mailroot.core.event.MessageEvent;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.kafka.Topics;
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
    private final EventLog events;

    /** @param timeout how long {@link #put} waits for Kafka's acknowledgement */
    public InboundQueue(Producer<String, byte[]> producer, String topic, Duration timeout) {
        this(producer, topic, timeout, IngressMetrics.SMTP);
    }

    /** @param source where the messages come from, as {@link IngressMetrics#accepted} counts them */
    public InboundQueue(Producer<String, byte[]> producer, String topic, Duration timeout, String source) {
        this(producer, topic, timeout, source, EventLog.NONE);
    }

    /**
     * A queue on {@code inbound} whose accepted mail is RECEIVED in the trail as {@code role} of this node, on the
     * same producer.
     */
    public static InboundQueue withTrail(Producer<String, byte[]> producer, Topics topics, Duration timeout,
                                         String source, MailrootConfig config, String role) {
        return new InboundQueue(producer, topics.inbound(), timeout, source, EventLog.of(producer, topics, config, role));
    }

    /** @param events where RECEIVED goes once Kafka holds the message */
    public InboundQueue(Producer<String, byte[]> producer, String topic, Duration timeout, String source,
                        EventLog events) {
        this.producer = producer;
        this.topic = topic;
        this.timeout = timeout;
        this.source = source;
        this.events = events;
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
            received(mail);
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

    /** Only accepted mail has a trail: written after the ack, never for a message the client must keep. */
    private void received(MailRecord mail) {
        Envelope e = mail.envelope();
        events.event(MessageEvent.Type.RECEIVED, e.id()).at(e.receivedAt()).sender(e.sender()).recipients(e.recipients())
                .size(mail.message().length).client(client(e)).emit();
    }

    /**
     * Who handed the message in, as the trail shows it: {@code name [192.0.2.1] helo=H server=VS auth=U} for SMTP,
     * {@code http api-key-1 [192.0.2.1]} (or {@code http form}) for the HTTP API.
     */
    static String client(Envelope e) {
        String address = e.clientAddress() == null ? "" : "[" + e.clientAddress() + "]";
        if ("http".equals(e.virtualServer())) {
            return "http " + (e.authIdentity() != null ? e.authIdentity() : "form") + " " + address;
        }
        StringBuilder b = new StringBuilder();
        if (e.clientName() != null) {
            b.append(e.clientName()).append(' ');
        }
        b.append(address);
        if (e.helo() != null) {
            b.append(" helo=").append(e.helo());
        }
        if (e.virtualServer() != null) {
            b.append(" server=").append(e.virtualServer());
        }
        if (e.authIdentity() != null) {
            b.append(" auth=").append(e.authIdentity());
        }
        if (e.tls()) {
            b.append(" tls");
        }
        return b.toString();
    }

    @Override
    public void close() {
        events.close();
        try {
            producer.close(Duration.ofSeconds(10));
        } catch (RuntimeException e) {
            LOG.warn("closing the inbound producer: {}", e.toString());
        }
    }
}
