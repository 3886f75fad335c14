package io.mailroot.deliverer;

import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.folder.Badmail;
import io.mailroot.core.kafka.BatchRewind;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.config.NodeId;
import io.mailroot.deliverer.control.ControlBoard;
import io.mailroot.deliverer.control.ControlEffects;
import io.mailroot.core.role.RestartingWorker;
import io.mailroot.core.role.Role;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds deferred mail until it is due, then puts it back on {@code outbound}. Each {@code retry.N} topic has one
 * interval, so its records become due roughly in order: at the first record not yet due the partition is paused
 * (and rewound to it) until that record's time comes. Every {@code retry.N} topic of the prefix is read, also those
 * beyond the current {@code retryIntervals}: their mail is released when due, and if deferred again waits on the
 * last level. Operator actions (hold, release, retry-now, delete, expire) reach its records through
 * {@link RetryControl}, also those behind a paused partition's first record.
 */
public final class RetryRole implements Role {

    private static final Logger LOG = LoggerFactory.getLogger(RetryRole.class);
    private static final Duration MAX_POLL = Duration.ofMillis(500);
    private static final AtomicInteger INSTANCES = new AtomicInteger();
    private static final Duration KAFKA_BACKOFF = Duration.ofMillis(500);
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(30);

    private final KafkaClients clients;
    private final Topics topics;
    private final Badmail badmail;
    private final MailrootConfig config;
    /** Operator actions ({@link ControlBoard}); the look-ahead reaches records behind the one a partition waits on. */
    private volatile ControlBoard board;
    private volatile RetryControl control;
    private final Clock clock = Clock.systemUTC();
    /** Paused partitions and when their first waiting record is due. */
    private final Map<TopicPartition, Instant> waiting = new HashMap<>();
    private final String clientId = "retry-" + INSTANCES.incrementAndGet();
    /**
     * Runs sessions until closed; after an error a session did not expect, starts again with a new consumer and
     * producer: what was released but not committed goes out once more (the deliverer is at least once anyway), and
     * retries never stop until the process does.
     */
    private final RestartingWorker worker = new RestartingWorker(clientId, this::session,
            () -> RestartingWorker.wakeUp(this.consumer), LOG);
    private volatile KafkaConsumer<String, byte[]> consumer;
    private volatile KafkaProducer<String, byte[]> producer;
    /** For tests: sees each record before it is sent, and may throw as a failing producer would. */
    volatile Consumer<ProducerRecord<String, byte[]>> beforeSend;

    public RetryRole(MailrootConfig config, KafkaClients clients, Topics topics) {
        this.clients = clients;
        this.topics = topics;
        this.badmail = new Badmail(config.badmailDir());
        this.config = config;
    }

    @Override
    public String name() {
        return "retry";
    }

    @Override
    public java.util.Optional<String> notReady() {
        return worker.notReady();
    }

    @Override
    public void start() {
        // Every current operator action is known before the first record is read.
        board = ControlBoard.open(clients, topics, clientId);
        control = new RetryControl(new ControlEffects(board, topics, RetrySchedule.of(config.delivery(), topics)::interval,
                NodeId.of(config), name()), clients, clientId);
        worker.start();
    }

    /** One consumer (and a producer, kept unless the session fails), until close() or an unexpected error. */
    private void session() {
        try {
            if (producer == null) {
                producer = clients.producer(clientId);
            }
            consumer = clients.consumer("retry", clientId);
            if (!worker.running()) {
                return;
            }
            consumer.subscribe(topics.anyRetry(), new Rebalance());
            while (worker.running()) {
                resumeDue();
                ConsumerRecords<String, byte[]> records = consumer.poll(pollTimeout());
                if (!records.isEmpty()) {
                    release(records);
                }
                worker.progressed();
            }
        } finally {
            closeConsumer();
            if (worker.running()) {
                // A session ends before close() only by failing, perhaps in the producer: the next one gets a new one.
                closeProducer();
            }
        }
    }

    private void closeConsumer() {
        KafkaConsumer<String, byte[]> c = consumer;
        control.forget(waiting.keySet());
        waiting.clear();
        if (c != null) {
            try {
                c.close(Duration.ofSeconds(5));
            } catch (RuntimeException e) {
                LOG.warn("error closing the retry consumer", e);
            } finally {
                consumer = null;
            }
        }
    }

    private void closeProducer() {
        KafkaProducer<String, byte[]> p = producer;
        producer = null;
        if (p != null) {
            try {
                p.close(Duration.ofSeconds(5));
            } catch (RuntimeException e) {
                LOG.warn("error closing the retry producer", e);
            }
        }
    }

    /** Sends every due record of the batch to outbound, waits for the acks, then commits the batch at once. */
    private void release(ConsumerRecords<String, byte[]> records) {
        Instant now = clock.instant();
        Map<TopicPartition, OffsetAndMetadata> commits = new HashMap<>();
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        for (TopicPartition tp : records.partitions()) {
            for (ConsumerRecord<String, byte[]> r : records.records(tp)) {
                Envelope env;
                MailRecord mail;
                try {
                    mail = EnvelopeCodec.fromRecord(r);
                    env = mail.envelope();
                } catch (EnvelopeCodec.MalformedRecordException e) {
                    if (!keepMalformed(r, e)) {
                        Set<TopicPartition> touched = new HashSet<>(commits.keySet());
                        touched.add(tp);
                        waitFor(sent);
                        BatchRewind.toStart(consumer, records, touched);
                        worker.pause(KAFKA_BACKOFF);
                        return;
                    }
                    commits.put(tp, new OffsetAndMetadata(r.offset() + 1));
                    continue;
                }
                Instant due = env.nextDueAt() == null ? Instant.EPOCH : env.nextDueAt();
                RetryControl.Step step = control.step(tp, r, mail, now, !due.isAfter(now));
                if (step.kind() == RetryControl.Kind.WAIT) {
                    park(tp, r.offset(), now.plus(RetryControl.CLAIMED_WAIT));
                    break;
                }
                if (step.kind() == RetryControl.Kind.NORMAL && due.isAfter(now)) {
                    park(tp, r.offset(), due);
                    break;
                }
                try {
                    if (step.kind() == RetryControl.Kind.NORMAL) {
                        sent.add(send(r));
                    }
                    for (ProducerRecord<String, byte[]> instead : step.records()) {
                        sent.add(producer.send(instead));
                    }
                } catch (KafkaException e) {
                    LOG.warn("could not put retries back on {}: {}; trying again", topics.outbound(), e.toString());
                    Set<TopicPartition> touched = new HashSet<>(commits.keySet());
                    touched.add(tp);
                    waitFor(sent);
                    BatchRewind.toStart(consumer, records, touched);
                    worker.pause(KAFKA_BACKOFF);
                    return;
                }
                commits.put(tp, new OffsetAndMetadata(r.offset() + 1));
            }
        }
        if (commits.isEmpty()) {
            return;
        }
        try {
            for (Future<RecordMetadata> f : sent) {
                f.get();
            }
        } catch (ExecutionException e) {
            // Nothing of this batch is committed; rewinding makes the next poll send it all again.
            LOG.warn("could not put retries back on {}: {}", topics.outbound(), e.getCause().toString());
            BatchRewind.toStart(consumer, records, commits.keySet());
            return;
        } catch (InterruptedException e) {
            worker.interrupted();
            return;
        }
        try {
            consumer.commitSync(commits);
        } catch (WakeupException e) {
            // Stopping: what was put back on outbound must still be committed, or it would go out twice.
            consumer.commitSync(commits);
            throw e;
        } catch (KafkaException e) {
            // Commit failed (rebalance, time-out): read the batch again; whatever is still ours goes out once more.
            LOG.warn("could not commit released retries: {}; reading them again", e.toString());
            BatchRewind.toStart(consumer, records, commits.keySet());
            worker.pause(KAFKA_BACKOFF);
        }
    }

    /** Rewinds the partition to the record it waits for, and pauses it until {@code until}. */
    private void park(TopicPartition tp, long offset, Instant until) {
        consumer.seek(tp, offset);
        consumer.pause(List.of(tp));
        waiting.put(tp, until);
        control.parked(tp, offset);
    }

    /** Sends one record back to outbound; a synchronous failure (buffer full, metadata time-out) rewinds the batch. */
    private Future<RecordMetadata> send(ConsumerRecord<String, byte[]> r) {
        ProducerRecord<String, byte[]> out =
                new ProducerRecord<>(topics.outbound(), null, r.key(), r.value(), r.headers());
        Consumer<ProducerRecord<String, byte[]>> hook = beforeSend;
        if (hook != null) {
            hook.accept(out);
        }
        return producer.send(out);
    }

    /** Lets what was already sent finish (its outcome does not matter: the batch is read again) before rewinding. */
    private static void waitFor(List<Future<RecordMetadata>> sent) {
        for (Future<RecordMetadata> f : sent) {
            try {
                f.get();
            } catch (ExecutionException e) {
                // sent again with the batch
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Nobody can be told about a record without a readable envelope: kept in Badmail, it is committed past. */
    private boolean keepMalformed(ConsumerRecord<String, byte[]> r, RuntimeException e) {
        try {
            badmail.keepMalformed(r, e);
            LOG.error("malformed record {}-{}@{} kept in Badmail: {}", r.topic(), r.partition(), r.offset(), e.getMessage());
            return true;
        } catch (IOException io) {
            LOG.warn("cannot keep malformed record {}-{}@{} in Badmail {}: {}; trying again", r.topic(), r.partition(),
                    r.offset(), badmail.dir(), io.toString());
            return false;
        }
    }

    private void resumeDue() {
        Instant now = clock.instant();
        List<TopicPartition> due = new ArrayList<>();
        waiting.entrySet().removeIf(e -> {
            if (!e.getValue().isAfter(now)) {
                due.add(e.getKey());
                return true;
            }
            return false;
        });
        if (!due.isEmpty()) {
            control.resumed(due);
            consumer.resume(due);
        }
    }

    private Duration pollTimeout() {
        Instant now = clock.instant();
        Duration wait = MAX_POLL;
        for (Instant due : waiting.values()) {
            Duration d = Duration.between(now, due);
            if (d.compareTo(wait) < 0) {
                wait = d.isNegative() ? Duration.ZERO : d;
            }
        }
        return wait;
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> revoked) {
            // Everything released was committed before the next poll, so there is nothing to save here.
            Set<TopicPartition> gone = new HashSet<>(revoked);
            waiting.keySet().removeAll(gone);
            control.forget(gone);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> assigned) {
            waiting.keySet().removeAll(assigned);
            control.forget(assigned);
            consumer.resume(assigned);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> lost) {
            onPartitionsRevoked(lost);
        }
    }

    @Override
    public void close() {
        if (worker.close(CLOSE_WAIT)) {
            closeProducer();
        }
        if (control != null) {
            control.close();
        }
        if (board != null) {
            board.close();
        }
    }
}
