package io.mailroot.router;

import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.config.NodeId;
import io.mailroot.core.folder.Badmail;
import io.mailroot.core.kafka.BatchRewind;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.Outcome;
import io.mailroot.core.role.RestartingWorker;
import io.mailroot.core.role.Role;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads {@code inbound} and writes {@code local}, {@code outbound} and {@code dsn}, one Kafka transaction per poll
 * batch: the records a batch produces and the batch's consumed offsets commit together or not at all, so a message
 * is routed exactly once however often the router crashes (downstream consumers read committed).
 */
public final class RouterRole implements Role {

    private static final Logger LOG = LoggerFactory.getLogger(RouterRole.class);
    private static final String GROUP = "router";
    private static final Duration POLL = Duration.ofMillis(500);
    private static final Duration BACKOFF = Duration.ofSeconds(1);
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(30);

    private final KafkaClients clients;
    private final Topics topics;
    private final MessageRouter router;
    private final String transactionalId;
    private final Badmail badmail;
    /**
     * Runs sessions until closed. A session ends on an error the batch loop does not expect (a poll that fails, a
     * consumer that cannot rejoin its group): the worker then waits and starts again with new Kafka clients. Nothing
     * is lost meanwhile: uncommitted input is read again and an open transaction is aborted, so the node never keeps
     * answering 250 while routing has stopped.
     */
    private final RestartingWorker worker = new RestartingWorker("router", this::session,
            () -> RestartingWorker.wakeUp(this.consumer), LOG);
    private volatile KafkaConsumer<String, byte[]> consumer;
    /** Runs on the router thread before each poll; tests make it throw to stand for an error the loop does not expect. */
    volatile Runnable beforePoll = () -> { };
    /** Transactional producers this router has started; more than one means one failed or was fenced (tests). */
    final AtomicInteger producersStarted = new AtomicInteger();

    public RouterRole(MailrootConfig config, KafkaClients clients, Topics topics) {
        this(config, clients, topics, NodeId.of(config));
    }

    /**
     * @param instance names this router among its peers (the {@link NodeId}); it must be unique in the cluster and the same across
     *     restarts, so a restarted router's first transaction aborts whatever its crashed predecessor left open
     *     (rather than downstream readers waiting for the transaction time-out)
     */
    public RouterRole(MailrootConfig config, KafkaClients clients, Topics topics, String instance) {
        this(config, clients, topics, instance, MessageRouter.from(config, topics));
    }

    /** With the given rules instead of the configured ones (tests use a rule that fails). */
    RouterRole(MailrootConfig config, KafkaClients clients, Topics topics, String instance, MessageRouter router) {
        this.clients = clients;
        this.topics = topics;
        this.router = router;
        this.badmail = new Badmail(config.badmailDir());
        this.transactionalId = clients.groupPrefix() + "router-" + instance;
    }

    @Override
    public String name() {
        return "router";
    }

    @Override
    public java.util.Optional<String> notReady() {
        return worker.notReady();
    }

    public String transactionalId() {
        return transactionalId;
    }

    @Override
    public void start() {
        worker.start();
    }

    @Override
    public void close() {
        if (!worker.close(CLOSE_WAIT)) {
            LOG.warn("router did not stop within {}; its open transaction will be aborted by the broker", CLOSE_WAIT);
        }
    }

    /** One consumer and one producer, until close() or an unexpected error. */
    private void session() {
        KafkaProducer<String, byte[]> producer = null;
        try (KafkaConsumer<String, byte[]> c = newConsumer()) {
            consumer = c;
            if (!worker.running()) {
                return;
            }
            c.subscribe(List.of(topics.inbound()));
            while (worker.running()) {
                if (producer == null) {
                    producer = newProducer();
                    if (producer == null) {
                        worker.pause(BACKOFF);
                        continue;
                    }
                }
                beforePoll.run();
                ConsumerRecords<String, byte[]> batch = c.poll(POLL);
                if (batch.isEmpty()) {
                    continue;
                }
                try {
                    routeInOneTransaction(c, producer, batch);
                    worker.progressed();
                } catch (RuntimeException e) {
                    LOG.warn("router transaction failed; the batch of {} will be routed again: {}", batch.count(), e.toString());
                    producer = abort(producer);
                    BatchRewind.toStart(c, batch);
                    worker.pause(BACKOFF);
                }
            }
        } finally {
            consumer = null;
            if (producer != null) {
                try {
                    producer.close(Duration.ofSeconds(5));
                } catch (RuntimeException e) {
                    LOG.debug("closing the router producer", e);
                }
            }
        }
    }

    private void routeInOneTransaction(KafkaConsumer<String, byte[]> c, KafkaProducer<String, byte[]> producer,
                                       ConsumerRecords<String, byte[]> batch) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        RoutedTally tally = new RoutedTally(topics);
        producer.beginTransaction();
        for (ConsumerRecord<String, byte[]> record : batch) {
            offsets.put(new TopicPartition(record.topic(), record.partition()),
                    new OffsetAndMetadata(record.offset() + 1, record.leaderEpoch(), ""));
            MailRecord mail;
            try {
                mail = EnvelopeCodec.fromRecord(record);
            } catch (EnvelopeCodec.MalformedRecordException e) {
                // Nobody can be told about a record without a readable envelope; it must not block its partition,
                // so it is kept in Badmail (before the offset commits) and skipped.
                keepMalformed(record, e);
                continue;
            }
            // Sends are only queued here; commitTransaction flushes them and fails if any of them failed.
            for (ProducerRecord<String, byte[]> out : routeOrReport(mail, record)) {
                producer.send(out);
                tally.record(out);
            }
            tally.message();
        }
        producer.sendOffsetsToTransaction(offsets, c.groupMetadata());
        producer.commitTransaction();
        tally.committed();
    }

    /**
     * The records a message becomes; when the rules fail on it (a rule bug, a value no rule expected), a dsn record
     * failing every recipient instead, so the sender hears of it (or, for the null sender, the ndr-service puts it in
     * Badmail) rather than the message vanishing after its 250.
     */
    private List<ProducerRecord<String, byte[]>> routeOrReport(MailRecord mail, ConsumerRecord<String, byte[]> record) {
        try {
            return router.route(mail);
        } catch (RuntimeException e) {
            LOG.error("cannot route message {} at {}-{}@{}; reporting every recipient as failed", mail.envelope().id(),
                    record.topic(), record.partition(), record.offset(), e);
            try {
                return List.of(routingFailed(topics, mail, e));
            } catch (RuntimeException again) {
                keep("unroutable-" + place(record), record.value(), "Message " + mail.envelope().id() + " at "
                        + place(record) + " could not be routed (" + summary(e) + ") nor reported (" + summary(again)
                        + ").\n");
                return List.of();
            }
        }
    }

    /** The dsn record for a message the rules failed on: every recipient failed with 5.3.0, the bytes unchanged. */
    static ProducerRecord<String, byte[]> routingFailed(Topics topics, MailRecord mail, RuntimeException cause) {
        Outcome failed = Outcome.failed("5.3.0", "x-mailroot; routing failed: " + summary(cause), null);
        Envelope envelope = mail.envelope().withRecipientsMapped(r -> r.withOutcome(failed));
        return EnvelopeCodec.toRecord(topics.dsn(), mail.envelope().id(), new MailRecord(envelope, mail.message()));
    }

    /** One line naming the exception, short enough for a Diagnostic-Code field. */
    static String summary(Throwable e) {
        String s = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
        s = s.replaceAll("[\\r\\n\\t]+", " ").trim();
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }

    private void keepMalformed(ConsumerRecord<String, byte[]> record, RuntimeException e) {
        Header header = record.headers().lastHeader(EnvelopeCodec.HEADER);
        String reason = "Malformed record on " + place(record) + ": its envelope cannot be read, so nobody can be told"
                + " about it.\n\nError: " + e.getMessage() + "\nKey: " + record.key() + "\nEnvelope header: "
                + (header == null ? "(none)" : new String(header.value(), StandardCharsets.UTF_8)) + "\n";
        LOG.error("malformed record {} kept in Badmail: {}", place(record), e.getMessage());
        keep("malformed-" + place(record), record.value(), reason);
    }

    /** Writes to Badmail; a failure fails the transaction, so the batch is tried again rather than the record lost. */
    private void keep(String id, byte[] bytes, String reason) {
        try {
            badmail.write(id, bytes == null ? new byte[0] : bytes, reason);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + id + " to Badmail " + badmail.dir(), e);
        }
    }

    private static String place(ConsumerRecord<String, byte[]> record) {
        return record.topic() + "-" + record.partition() + "-" + record.offset();
    }

    /**
     * Each transaction costs a round of commit requests, so each should carry a full poll: the default 1 MB per
     * partition would stop a fetch at about a hundred ordinary messages.
     */
    private KafkaConsumer<String, byte[]> newConsumer() {
        Map<String, Object> config = clients.consumerConfig(GROUP, transactionalId);
        config.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 16 * 1024 * 1024);
        return new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer());
    }

    private KafkaProducer<String, byte[]> newProducer() {
        KafkaProducer<String, byte[]> p = null;
        try {
            p = clients.transactionalProducer(transactionalId);
            p.initTransactions();
            producersStarted.incrementAndGet();
            return p;
        } catch (KafkaException e) {
            LOG.warn("router cannot start its transactional producer {}: {}", transactionalId, e.toString());
            if (p != null) {
                p.close(Duration.ZERO);
            }
            return null;
        }
    }

    /**
     * Aborts the open transaction; when even that fails (fenced by a newer producer with the same id, or another
     * fatal producer error) the producer is closed and a fresh one is made on the next loop.
     */
    private KafkaProducer<String, byte[]> abort(KafkaProducer<String, byte[]> producer) {
        try {
            producer.abortTransaction();
            return producer;
        } catch (KafkaException | IllegalStateException e) {
            LOG.warn("router producer {} cannot abort ({}); replacing it", transactionalId, e.toString());
            producer.close(Duration.ZERO);
            return null;
        }
    }
}
