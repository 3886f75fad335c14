package io.mailroot.ndr;

import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.kafka.BatchRewind;
import io.mailroot.core.kafka.ConsumedPositions;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.Outcome;
import io.mailroot.core.message.Recipient;
import io.mailroot.core.role.RestartingWorker;
import io.mailroot.core.role.Role;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ndr-service: reads {@code dsn}, sends the sender the reports RFC 3461 says they want by feeding them back to
 * {@code inbound} from the null sender, and puts failures of null-sender mail in Badmail instead, so reports never
 * loop. A record's offset is committed only after its reports are acknowledged or its Badmail file is on disk; a
 * record that cannot be finished is tried again from there, with the records after it in its partition, and a crash
 * repeats what was not committed. A repeated record yields reports with the ids it had the first time (a duplicate
 * that can be recognised, never a lost report).
 */
public final class NdrRole implements Role {

    private static final Logger LOG = LoggerFactory.getLogger(NdrRole.class);
    private static final String REPORTS = "mailroot.ndr.reports";
    static final String GROUP = "ndr";
    private static final Duration POLL = Duration.ofMillis(500);
    private static final Duration RETRY_PAUSE = Duration.ofSeconds(2);
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(30);

    private final KafkaClients clients;
    private final Topics topics;
    private final ReportComposer composer;
    private final BadmailFolder badmail;
    /**
     * Runs sessions until closed. A session ends on an error the batch loop does not expect (a poll that fails, a
     * consumer that cannot rejoin its group): the worker then waits and starts again with a new consumer and
     * producer. Uncommitted records are read again, so reports are late, never lost.
     */
    private final RestartingWorker worker = new RestartingWorker("ndr-service", this::session,
            () -> RestartingWorker.wakeUp(this.consumer), LOG);
    private volatile KafkaConsumer<String, byte[]> consumer;
    /** The session's committed offsets, so a partition done up to its position is committed once (service thread). */
    private ConsumedPositions positions = new ConsumedPositions();
    private KafkaProducer<String, byte[]> producer;
    /** Runs on the service thread before each poll; tests make it throw to stand for an error the loop does not expect. */
    volatile Runnable beforePoll = () -> { };
    /** How many times some records of a batch had to be tried again; tests wait on it. */
    final AtomicInteger retriedBatches = new AtomicInteger();

    public NdrRole(MailrootConfig config, KafkaClients clients, Topics topics) {
        this.clients = clients;
        this.topics = topics;
        this.composer = new ReportComposer(config);
        this.badmail = new BadmailFolder(config.badmailDir(), BadmailFolder.warnBytes(config.delivery().badmailWarnSizeKb()));
    }

    @Override
    public String name() {
        return "ndr-service";
    }

    @Override
    public java.util.Optional<String> notReady() {
        return worker.notReady();
    }

    @Override
    public void start() {
        worker.start();
    }

    @Override
    public void close() {
        worker.close(CLOSE_WAIT);
    }

    /** One consumer and one producer, until close() or an unexpected error. */
    private void session() throws InterruptedException {
        producer = clients.producer("ndr-service");
        try (KafkaConsumer<String, byte[]> c = clients.consumer(GROUP, "ndr-service")) {
            consumer = c;
            positions = new ConsumedPositions();
            if (!worker.running()) {
                return;
            }
            c.subscribe(List.of(topics.dsn()));
            while (worker.running()) {
                beforePoll.run();
                ConsumerRecords<String, byte[]> batch = c.poll(POLL);
                if (batch.isEmpty()) {
                    // Nothing is in flight between batches: a position moved over a marker alone is committed too.
                    commit(c, positions.moved(c));
                    continue;
                }
                Progress progress = handle(batch);
                commit(c, batch, progress.stoppedAt());
                if (progress.stoppedAt().isEmpty()) {
                    worker.progressed();
                    continue;
                }
                retriedBatches.incrementAndGet();
                LOG.warn("could not finish {} of {} dsn records; trying again from {}: {}",
                        progress.unfinished(batch), batch.count(), progress.stoppedAt(), progress.firstError().toString());
                BatchRewind.to(c, progress.stoppedAt());
                if (progress.renewProducer()) {
                    renewProducer();
                }
                if (!worker.pause(RETRY_PAUSE)) {
                    return;
                }
            }
        } finally {
            consumer = null;
            closeProducer();
        }
    }

    /**
     * Does what each record asks, making it durable: reports acknowledged by Kafka, Badmail files on disk. Records of
     * one partition are finished in order; the first that cannot be finished stops its partition there, so the records
     * before it can be committed and only it and those after it are tried again.
     */
    private Progress handle(ConsumerRecords<String, byte[]> batch) throws InterruptedException {
        Map<TopicPartition, Long> stoppedAt = new HashMap<>();
        Map<TopicPartition, List<Pending>> pending = new HashMap<>();
        Exception firstError = null;
        boolean renew = false;
        for (TopicPartition tp : batch.partitions()) {
            List<Pending> sent = new ArrayList<>();
            pending.put(tp, sent);
            for (ConsumerRecord<String, byte[]> record : batch.records(tp)) {
                try {
                    handle(record, sent);
                } catch (IOException | RuntimeException e) {
                    stoppedAt.put(tp, record.offset());
                    firstError = firstError == null ? e : firstError;
                    renew |= e instanceof KafkaException;
                    break;
                }
            }
        }
        producer.flush();
        for (Map.Entry<TopicPartition, List<Pending>> e : pending.entrySet()) {
            for (Pending p : e.getValue()) {
                try {
                    awaitAck(p);
                } catch (IOException | RuntimeException failure) {
                    stoppedAt.merge(e.getKey(), p.source().offset(), Math::min);
                    firstError = firstError == null ? failure : firstError;
                    renew = true;
                    break;
                }
            }
        }
        return new Progress(stoppedAt, firstError, renew);
    }

    /** Queues the reports one dsn record asks for (adding them to {@code sent}), or writes it to Badmail. */
    private void handle(ConsumerRecord<String, byte[]> record, List<Pending> sent) throws IOException {
        MailRecord failed;
        try {
            failed = EnvelopeCodec.fromRecord(record);
        } catch (EnvelopeCodec.MalformedRecordException e) {
            keepMalformed(record, e);
            return;
        }
        if (failed.envelope().nullSender()) {
            keepNullSenderFailures(failed, record);
            return;
        }
        List<DeliveryReport> reports;
        try {
            reports = composer.compose(failed, Instant.ofEpochMilli(record.timestamp()), action -> reportId(record, action));
        } catch (Exception e) {
            // An original Jakarta Mail cannot read must still not vanish: keep it where an administrator looks.
            LOG.error("cannot build a report for message {}: {}", failed.envelope().id(), e.toString());
            badmail.keep(badmailName(failed, record), failed.message(),
                    BadmailFolder.reason("No report could be built for this message: " + e, failed.envelope()));
            return;
        }
        for (DeliveryReport report : reports) {
            sent.add(new Pending(record, failed, report,
                    producer.send(EnvelopeCodec.toRecord(topics.inbound(), report.id(), report.mail()))));
        }
    }

    /**
     * Mail from the null sender is never answered. Its failures go to Badmail; its other outcomes (delayed while the
     * deliverer still retries, relayed, delivered) are no one's concern, and keeping them would put a message in
     * Badmail that may yet be delivered, and a second copy there when it finally expires.
     */
    private void keepNullSenderFailures(MailRecord failed, ConsumerRecord<String, byte[]> record) throws IOException {
        List<Recipient> failures = failed.envelope().recipients().stream()
                .filter(r -> r.outcome() != null && r.outcome().action() == Outcome.Action.FAILED)
                .toList();
        if (failures.isEmpty()) {
            LOG.debug("dropping the {} outcome(s) of null-sender message {} at {}: only failures go to Badmail",
                    failed.envelope().recipients().size(), failed.envelope().id(), place(record));
            return;
        }
        badmail.keep(badmailName(failed, record), failed.message(),
                BadmailFolder.nullSenderReason(failed.envelope().withRecipients(failures)));
    }

    /** A record without a readable envelope: nobody can be told about it, so it is kept for the administrator. */
    private void keepMalformed(ConsumerRecord<String, byte[]> record, RuntimeException e) throws IOException {
        Header header = record.headers().lastHeader(EnvelopeCodec.HEADER);
        LOG.error("malformed dsn record {}: {}", place(record), e.getMessage());
        badmail.keep("malformed-" + place(record), record.value() == null ? new byte[0] : record.value(),
                "Malformed record on " + place(record) + ": its envelope cannot be read, so nobody can be told about"
                        + " it.\n\nError: " + e.getMessage() + "\nKey: " + record.key() + "\nEnvelope header: "
                        + (header == null ? "(none)" : new String(header.value(), StandardCharsets.UTF_8)) + "\n");
    }

    /**
     * A report's queue id, derived from the dsn record it answers (time, partition, offset, kind of outcome) rather
     * than drawn at random: a record handled again after a crash or a partial failure yields reports with the same
     * ids (and Message-IDs), so the copies can be recognised downstream.
     */
    static String reportId(ConsumerRecord<?, ?> source, Outcome.Action action) {
        return Long.toString(Math.max(source.timestamp(), 0), 36).toUpperCase(Locale.ROOT) + ".R" + source.partition()
                + "-" + source.offset() + "-" + action.field();
    }

    /**
     * Commits, per partition, up to the first record that was not finished, or the whole batch: up to the consumer's
     * position, past any transaction marker after its last record (see {@link ConsumedPositions}).
     */
    private void commit(KafkaConsumer<String, byte[]> c, ConsumerRecords<String, byte[]> batch,
                        Map<TopicPartition, Long> stoppedAt) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition tp : batch.partitions()) {
            List<ConsumerRecord<String, byte[]>> records = batch.records(tp);
            long next = stoppedAt.getOrDefault(tp, Math.max(records.get(records.size() - 1).offset() + 1,
                    ConsumedPositions.of(c, tp)));
            if (next > records.get(0).offset()) {
                offsets.put(tp, new OffsetAndMetadata(next));
            }
        }
        commit(c, offsets);
    }

    private void commit(KafkaConsumer<String, byte[]> c, Map<TopicPartition, OffsetAndMetadata> offsets) {
        if (offsets.isEmpty()) {
            return;
        }
        try {
            c.commitSync(offsets);
            positions.committed(offsets);
        } catch (WakeupException e) {
            throw e;
        } catch (KafkaException e) {
            // Usually a rebalance took the partitions: their new owner repeats the records, so the sender may get a
            // report twice (with the same id), never none.
            LOG.warn("could not commit dsn offsets {}: {}", offsets, e.toString());
        }
    }

    /** A producer that failed a send may be in an error state; a fresh one costs little next to a stuck record. */
    private void renewProducer() {
        closeProducer();
        producer = clients.producer("ndr-service");
    }

    private void closeProducer() {
        KafkaProducer<String, byte[]> p = producer;
        producer = null;
        if (p != null) {
            try {
                p.close(Duration.ofSeconds(5));
            } catch (RuntimeException e) {
                LOG.debug("closing the report producer", e);
            }
        }
    }

    /** The Badmail file name: the message id plus the record's place, so two failures of one message keep both reasons. */
    private static String badmailName(MailRecord failed, ConsumerRecord<String, byte[]> record) {
        String id = failed.envelope().id() == null ? "unknown" : failed.envelope().id();
        return id + "-" + record.partition() + "-" + record.offset();
    }

    private static String place(ConsumerRecord<String, byte[]> record) {
        return record.topic() + "-" + record.partition() + "-" + record.offset();
    }

    private void awaitAck(Pending p) throws IOException, InterruptedException {
        try {
            p.ack().get();
            io.micrometer.core.instrument.Metrics.counter(REPORTS, "action", p.report().action().field()).increment();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RecordTooLargeException) {
                // Retrying cannot help; keep the original where an administrator looks rather than lose it.
                badmail.keep(badmailName(p.failed(), p.source()) + "-" + p.report().action().field(), p.failed().message(),
                        BadmailFolder.reason("The " + p.report().action().field() + " report for this message is too"
                                + " large to queue (" + p.report().mail().message().length + " bytes): "
                                + e.getCause().getMessage(), p.failed().envelope()));
                return;
            }
            throw new IOException("report " + p.report().id() + " for message " + p.failed().envelope().id()
                    + " was not acknowledged: " + e.getCause(), e.getCause());
        }
    }

    /**
     * What became of a batch.
     *
     * @param stoppedAt per partition that could not be finished, the offset of its first unfinished record
     * @param firstError why, for the log; null when everything was finished
     * @param renewProducer whether a send failed, so the producer may be in an error state
     */
    private record Progress(Map<TopicPartition, Long> stoppedAt, Exception firstError, boolean renewProducer) {

        long unfinished(ConsumerRecords<String, byte[]> batch) {
            return stoppedAt.entrySet().stream()
                    .mapToLong(e -> batch.records(e.getKey()).stream().filter(r -> r.offset() >= e.getValue()).count())
                    .sum();
        }
    }

    /** A report on its way to inbound, with the dsn record it answers. */
    private record Pending(ConsumerRecord<String, byte[]> source, MailRecord failed, DeliveryReport report,
                           Future<RecordMetadata> ack) {
    }
}
