package io.mailroot.deliverer;

import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import io.mailroot.deliverer.control.ControlEffects;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Operator actions on the retry topics. The retry role's main loop asks {@link #step} for every record it reads; a
 * record it cannot reach yet, because its partition is paused at an earlier record not yet due, is handled by the
 * look-ahead: when the board changes, or a partition is paused under a board it was not yet read with, a consumer
 * of its own (no group) reads the partition from the paused position to its end and applies what concerns each
 * record (republish to {@code outbound}, drop, fail, park). It claims a record before acting, only while the main
 * loop is paused before it, and marks it done once Kafka acknowledged what it wrote; the main loop then commits past
 * it without acting again. Nothing is committed by the look-ahead, so a crash in between repeats the effect (at
 * worst one more attempt, report or event), never loses the record.
 */
final class RetryControl implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RetryControl.class);
    private static final Duration IDLE = Duration.ofSeconds(1);
    /** How long the main loop waits for a record the look-ahead is acting on. */
    static final Duration CLAIMED_WAIT = Duration.ofMillis(100);

    /** What the main loop does with a record. */
    enum Kind { NORMAL, WAIT, DONE, SEND }

    record Step(Kind kind, List<ProducerRecord<String, byte[]>> records) {
        static final Step NORMAL = new Step(Kind.NORMAL, List.of());
        static final Step WAIT = new Step(Kind.WAIT, List.of());
        static final Step DONE = new Step(Kind.DONE, List.of());
    }

    private record RecordId(TopicPartition tp, long offset) {
    }

    private record Scan(long generation) {
    }

    private enum Claim { ACTING, DONE }

    private final ControlEffects effects;
    private final KafkaClients clients;
    private final String clientId;
    private final Clock clock = Clock.systemUTC();
    /** Guarded by this: where each paused partition's main loop stands, what the look-ahead read, what it claimed. */
    private final Map<TopicPartition, Long> parkedAt = new HashMap<>();
    private final Map<TopicPartition, Scan> scanned = new HashMap<>();
    private final Map<RecordId, Claim> claims = new HashMap<>();
    private final Thread thread;
    private volatile boolean running = true;
    private volatile KafkaConsumer<String, byte[]> reader;
    private volatile KafkaProducer<String, byte[]> producer;

    RetryControl(ControlEffects effects, KafkaClients clients, String clientId) {
        this.effects = effects;
        this.clients = clients;
        this.clientId = clientId;
        this.thread = new Thread(this::lookAhead, clientId + "-look-ahead");
        this.thread.setDaemon(true);
        effects.board().onChange(this::wake);
        thread.start();
    }

    /** What the main loop does with a record it read: as always, wait (claimed ahead), skip (done ahead), or write these. */
    Step step(TopicPartition tp, ConsumerRecord<String, byte[]> r, MailRecord mail, Instant now, boolean due) {
        synchronized (this) {
            RecordId id = new RecordId(tp, r.offset());
            Claim c = claims.get(id);
            if (c == Claim.ACTING) {
                return Step.WAIT;
            }
            if (c == Claim.DONE) {
                claims.remove(id);
                return Step.DONE;
            }
        }
        List<ProducerRecord<String, byte[]>> out = effects.onRetry(r, mail, now, due, false);
        return out == null ? Step.NORMAL : new Step(Kind.SEND, out);
    }

    /** The main loop paused {@code tp} at {@code offset}: records from there on are the look-ahead's to act on. */
    synchronized void parked(TopicPartition tp, long offset) {
        parkedAt.put(tp, offset);
        notifyAll();
    }

    /** The main loop reads these again: the look-ahead leaves them alone. */
    synchronized void resumed(Collection<TopicPartition> tps) {
        parkedAt.keySet().removeAll(tps);
    }

    /** Assigned afresh or given away: what was claimed there is decided again by whoever reads it. */
    synchronized void forget(Collection<TopicPartition> tps) {
        parkedAt.keySet().removeAll(tps);
        scanned.keySet().removeAll(tps);
        claims.keySet().removeIf(id -> tps.contains(id.tp()));
    }

    private synchronized void wake() {
        notifyAll();
    }

    private void lookAhead() {
        while (running) {
            try {
                Map<TopicPartition, Long> todo = due();
                for (Map.Entry<TopicPartition, Long> e : todo.entrySet()) {
                    if (!running) {
                        break;
                    }
                    long generation = effects.board().generation();
                    if (scan(e.getKey(), e.getValue(), generation)) {
                        synchronized (this) {
                            scanned.put(e.getKey(), new Scan(generation));
                        }
                    }
                }
            } catch (WakeupException e) {
                // closing
            } catch (RuntimeException e) {
                // The partitions stay unscanned, so the next round reads them again.
                LOG.warn("the retry look-ahead failed: {}; trying again", e.toString());
                closeReader();
                pause(IDLE);
            }
        }
        closeReader();
    }

    private void closeReader() {
        KafkaConsumer<String, byte[]> c = reader;
        reader = null;
        if (c != null) {
            try {
                c.close(Duration.ofSeconds(2));
            } catch (RuntimeException e) {
                LOG.debug("error closing the look-ahead consumer", e);
            }
        }
    }

    private synchronized void pause(Duration d) {
        try {
            wait(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    /** Waits until some paused partition was not read ahead under the board as it is now. */
    private synchronized Map<TopicPartition, Long> due() {
        while (running) {
            long generation = effects.board().generation();
            Map<TopicPartition, Long> todo = new HashMap<>();
            for (Map.Entry<TopicPartition, Long> e : parkedAt.entrySet()) {
                Scan s = scanned.get(e.getKey());
                if (s == null || s.generation() != generation) {
                    if (effects.board().isEmpty()) {
                        scanned.put(e.getKey(), new Scan(generation));
                    } else {
                        todo.put(e.getKey(), e.getValue());
                    }
                }
            }
            if (!todo.isEmpty()) {
                return todo;
            }
            try {
                wait(IDLE.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                running = false;
            }
        }
        return Map.of();
    }

    /** Reads {@code tp} from {@code from} to its present end; false when the main loop moved on meanwhile. */
    private boolean scan(TopicPartition tp, long from, long generation) {
        KafkaConsumer<String, byte[]> c = reader();
        long end = c.endOffsets(List.of(tp)).get(tp);
        c.assign(List.of(tp));
        c.seek(tp, from);
        while (c.position(tp) < end) {
            for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(500))) {
                if (r.offset() >= end) {
                    break;
                }
                if (!stillParkedBefore(tp, r.offset())) {
                    return false;
                }
                act(tp, r);
            }
            if (!running) {
                return false;
            }
        }
        return effects.board().generation() == generation;
    }

    private synchronized boolean stillParkedBefore(TopicPartition tp, long offset) {
        Long at = parkedAt.get(tp);
        return at != null && at <= offset;
    }

    private void act(TopicPartition tp, ConsumerRecord<String, byte[]> r) {
        MailRecord mail;
        try {
            mail = EnvelopeCodec.fromRecord(r);
        } catch (EnvelopeCodec.MalformedRecordException e) {
            return; // the main loop keeps it in Badmail when it gets there
        }
        RecordId id = new RecordId(tp, r.offset());
        synchronized (this) {
            if (!stillParkedBefore(tp, r.offset()) || claims.containsKey(id)) {
                return;
            }
            // Claimed before deciding, so the main loop never decides (and writes the event) at the same time.
            claims.put(id, Claim.ACTING);
        }
        boolean ok = false;
        try {
            Instant now = clock.instant();
            Instant due = mail.envelope().nextDueAt() == null ? Instant.EPOCH : mail.envelope().nextDueAt();
            List<ProducerRecord<String, byte[]>> out = effects.onRetry(r, mail, now, !due.isAfter(now), true);
            if (out == null) {
                return;
            }
            List<Future<RecordMetadata>> acks = new ArrayList<>();
            for (ProducerRecord<String, byte[]> p : out) {
                acks.add(producer().send(p));
            }
            for (Future<RecordMetadata> f : acks) {
                f.get(30, TimeUnit.SECONDS);
            }
            ok = true;
            LOG.info("{}: operator action applied ahead on {}@{}", mail.envelope().id(), tp, r.offset());
        } catch (Exception e) {
            LOG.warn("{}: could not apply an operator action ahead: {}; it applies when the record is reached",
                    mail.envelope().id(), e.toString());
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
        } finally {
            synchronized (this) {
                if (claims.get(id) == Claim.ACTING) {
                    if (ok) {
                        claims.put(id, Claim.DONE);
                    } else {
                        claims.remove(id);
                    }
                }
            }
        }
    }

    private KafkaConsumer<String, byte[]> reader() {
        if (reader == null) {
            Map<String, Object> config = clients.consumerConfig("retry-look-ahead", clientId + "-look-ahead");
            config.remove(ConsumerConfig.GROUP_ID_CONFIG);
            reader = new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer());
        }
        return reader;
    }

    private KafkaProducer<String, byte[]> producer() {
        if (producer == null) {
            producer = clients.producer(clientId + "-look-ahead");
        }
        return producer;
    }

    @Override
    public void close() {
        running = false;
        wake();
        KafkaConsumer<String, byte[]> c = reader;
        if (c != null) {
            c.wakeup();
        }
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        KafkaProducer<String, byte[]> p = producer;
        if (p != null) {
            p.close(Duration.ofSeconds(5));
        }
    }
}
