package io.mailroot.deliverer.local;

import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.folder.AtomicFiles;
import io.mailroot.core.folder.Badmail;
import io.mailroot.core.kafka.BatchRewind;
import io.mailroot.core.kafka.ConsumedPositions;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.role.RestartingWorker;
import io.mailroot.core.role.Role;
import io.mailroot.deliverer.RetrySchedule;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
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
 * Local delivery: reads the {@code local} topic and writes each message to the Drop folder as {@code <id>.eml}
 * (see {@link DropFile}). Offsets are committed only once the batch's files are on disk; a redelivered record
 * rewrites the same file, so a crash between writing and committing leaves no duplicate. A message the folder
 * refuses while it takes others waits on the retry topics, so it holds up nothing behind it; when the folder refuses
 * everything, the batch is tried again every second. Either way there is one delay notice and finally a failure
 * report ({@link LocalFollowups}), so a broken Drop folder never holds mail forever.
 */
public final class DropWriterRole implements Role {

    private static final Logger LOG = LoggerFactory.getLogger(DropWriterRole.class);
    private static final io.micrometer.core.instrument.Counter WRITTEN = io.micrometer.core.instrument.Counter
            .builder("mailroot.drop.messages").description("Messages written to the Drop folder (local delivery)")
            .register(io.micrometer.core.instrument.Metrics.globalRegistry);
    private static final String GROUP = "drop";
    private static final Duration POLL = Duration.ofMillis(500);
    private static final Duration BACKOFF = Duration.ofSeconds(1);
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(30);
    /** Each file costs an fsync; a few in flight at once keep the disk busy without a thread per message. */
    private static final int WRITERS = 4;

    private final KafkaClients clients;
    private final Topics topics;
    private final Path dropDir;
    private final Badmail badmail;
    private final LocalFollowups followups;
    private final Clock clock = Clock.systemUTC();
    /**
     * Runs sessions until closed; after an error a session did not expect, starts again with a new consumer and
     * producer. Uncommitted records are written again, which rewrites the same files.
     */
    private final RestartingWorker worker = new RestartingWorker("drop-writer", this::session,
            () -> RestartingWorker.wakeUp(this.consumer), LOG);
    private final ExecutorService writers;
    private volatile KafkaConsumer<String, byte[]> consumer;
    /** The session's committed offsets, so a partition done up to its position is committed once (session thread). */
    private ConsumedPositions positions = new ConsumedPositions();
    /** For tests: sees each batch before it is written, and may throw as an unexpected failure would. */
    volatile java.util.function.Consumer<ConsumerRecords<String, byte[]>> beforeWrite;

    public DropWriterRole(MailrootConfig config, KafkaClients clients, Topics topics) {
        this.clients = clients;
        this.topics = topics;
        this.dropDir = config.dropDir();
        this.badmail = new Badmail(config.badmailDir());
        this.followups = new LocalFollowups(topics, config.delivery().local(),
                RetrySchedule.of(config.delivery(), topics), dropDir);
        AtomicInteger n = new AtomicInteger();
        this.writers = Executors.newFixedThreadPool(WRITERS, r -> {
            Thread t = new Thread(r, "drop-writer-io-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public String name() {
        return "drop-writer";
    }

    @Override
    public java.util.Optional<String> notReady() {
        return worker.notReady();
    }

    public Path dropDir() {
        return dropDir;
    }

    @Override
    public void start() {
        worker.start();
    }

    @Override
    public void close() {
        try {
            if (!worker.close(CLOSE_WAIT)) {
                LOG.warn("drop writer did not stop within {}", CLOSE_WAIT);
            }
        } finally {
            writers.shutdownNow();
        }
    }

    /** One consumer and one producer, until close() or an unexpected error. */
    private void session() {
        try (KafkaConsumer<String, byte[]> c = clients.consumer(GROUP, "drop-writer");
             KafkaProducer<String, byte[]> producer = clients.producer("drop-writer")) {
            consumer = c;
            positions = new ConsumedPositions();
            if (!worker.running()) {
                return;
            }
            c.subscribe(List.of(topics.local()));
            while (worker.running()) {
                ConsumerRecords<String, byte[]> batch = c.poll(POLL);
                if (batch.isEmpty()) {
                    // Nothing is in flight between batches: a position moved over a marker alone is committed too.
                    commit(c, positions.moved(c));
                    worker.progressed();
                    continue;
                }
                java.util.function.Consumer<ConsumerRecords<String, byte[]>> hook = beforeWrite;
                if (hook != null) {
                    hook.accept(batch);
                }
                Map<String, String> failed;
                try {
                    failed = write(batch);
                } catch (IOException e) {
                    LOG.error("cannot write to the Drop folder {} or Badmail; the batch of {} will be written again: {}",
                            dropDir, batch.count(), e.toString());
                    BatchRewind.toStart(c, batch);
                    worker.pause(BACKOFF);
                    continue;
                }
                if (failed.isEmpty()) {
                    // Every file is on disk: the positions, past any transaction marker (see ConsumedPositions).
                    commit(c, positions.moved(c));
                } else if (settle(c, producer, batch, failed)) {
                    worker.pause(BACKOFF);
                }
                worker.progressed();
            }
        } finally {
            consumer = null;
        }
    }

    /**
     * Writes every file of the batch and returns when each is on disk or has failed: the failures by file name
     * (empty when all were written). Throws when interrupted or when Badmail refuses a malformed record, with the
     * batch's outcome unknown.
     */
    private Map<String, String> write(ConsumerRecords<String, byte[]> batch) throws IOException {
        // The last record for a name wins, and no two writers ever share a name (they would share its temp file).
        Map<String, MailRecord> byName = new LinkedHashMap<>();
        for (ConsumerRecord<String, byte[]> record : batch) {
            try {
                MailRecord mail = EnvelopeCodec.fromRecord(record);
                byName.put(fileName(mail, record), mail);
            } catch (EnvelopeCodec.MalformedRecordException e) {
                // Nobody can be told about it; kept in Badmail, it is committed with the batch (or the batch rewinds).
                badmail.keepMalformed(record, e);
                LOG.error("malformed record {}-{}@{} kept in Badmail: {}", record.topic(), record.partition(),
                        record.offset(), e.getMessage());
            }
        }
        Map<String, Future<?>> writes = new LinkedHashMap<>();
        byName.forEach((name, mail) -> writes.put(name, writers.submit(() -> {
            try {
                AtomicFiles.write(dropDir.resolve(name), DropFile.envelopeBlock(mail.envelope()), mail.message());
            } catch (IOException e) {
                throw new UncheckedIOException(name + ": " + e.getMessage(), e);
            }
        })));
        // Wait for every write, failed or not, so none is still running when the batch is written again.
        Map<String, String> failures = new HashMap<>();
        for (Map.Entry<String, Future<?>> w : writes.entrySet()) {
            try {
                w.getValue().get();
                WRITTEN.increment();
            } catch (ExecutionException e) {
                Throwable cause = e.getCause() instanceof UncheckedIOException u ? u.getCause() : e.getCause();
                failures.put(w.getKey(), cause.toString());
            } catch (InterruptedException e) {
                worker.interrupted();
                throw new IOException("interrupted while writing to the Drop folder", e);
            }
        }
        return failures;
    }

    /**
     * After some files of a batch failed: each failed message is tried again, or (once it is old enough) reported
     * as delayed or failed and finished. Commits up to the first message of each partition still to be tried again
     * and rewinds there. Returns whether anything is left to try again (so the caller backs off).
     */
    private boolean settle(KafkaConsumer<String, byte[]> c, KafkaProducer<String, byte[]> producer,
                           ConsumerRecords<String, byte[]> batch, Map<String, String> failed) {
        Instant now = clock.instant();
        Map<String, Boolean> resolvedByName = new HashMap<>();
        List<ProducerRecord<String, byte[]>> reports = new ArrayList<>();
        // The last record for a name is the one that was written; earlier copies share its fate.
        Map<String, ConsumerRecord<String, byte[]>> winners = new HashMap<>();
        Map<ConsumerRecord<String, byte[]>, MailRecord> parsed = new HashMap<>();
        for (ConsumerRecord<String, byte[]> record : batch) {
            try {
                MailRecord mail = EnvelopeCodec.fromRecord(record);
                parsed.put(record, mail);
                winners.put(fileName(mail, record), record);
            } catch (EnvelopeCodec.MalformedRecordException e) {
                // kept in Badmail by write()
            }
        }
        // Some files went in: the folder works, and what failed is particular to its message.
        boolean othersWritten = winners.size() > failed.size();
        winners.forEach((name, record) -> {
            String error = failed.get(name);
            if (error == null) {
                return;
            }
            MailRecord mail = parsed.get(record);
            Instant since = mail.envelope().receivedAt() != null ? mail.envelope().receivedAt()
                    : Instant.ofEpochMilli(record.timestamp());
            LocalFollowups.Decision d = followups.after(mail, record.key(), error, since, now, othersWritten);
            resolvedByName.put(name, d.resolved());
            reports.addAll(d.records());
            if (!d.resolved()) {
                LOG.warn("{}: cannot write to the Drop folder {}, will try again: {}", mail.envelope().id(), dropDir,
                        error);
            } else {
                LOG.warn("{}: cannot write to the Drop folder {}: {}; {}", mail.envelope().id(), dropDir, error,
                        d.records().stream().anyMatch(r -> r.topic().equals(topics.dsn())) ? "reported to the sender"
                                : "it waits on the retry topics while the messages behind it are written");
            }
        });
        if (!send(producer, reports)) {
            BatchRewind.toStart(c, batch);
            return true;
        }
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        boolean retry = false;
        for (TopicPartition tp : batch.partitions()) {
            List<ConsumerRecord<String, byte[]>> records = batch.records(tp);
            long next = records.get(records.size() - 1).offset() + 1;
            for (ConsumerRecord<String, byte[]> record : records) {
                MailRecord mail = parsed.get(record);
                if (mail != null && Boolean.FALSE.equals(resolvedByName.get(fileName(mail, record)))) {
                    next = record.offset();
                    retry = true;
                    break;
                }
            }
            offsets.put(tp, new OffsetAndMetadata(next, ""));
            if (c.assignment().contains(tp)) {
                c.seek(tp, next);
            }
        }
        commit(c, offsets);
        return retry;
    }

    /** Sends the reports and copies and waits for all acks; false if any failed (nothing is committed then). */
    private boolean send(KafkaProducer<String, byte[]> producer, List<ProducerRecord<String, byte[]>> records) {
        List<Future<RecordMetadata>> acks = new ArrayList<>();
        for (ProducerRecord<String, byte[]> r : records) {
            acks.add(producer.send(r));
        }
        try {
            for (Future<RecordMetadata> ack : acks) {
                ack.get();
            }
            return true;
        } catch (ExecutionException e) {
            LOG.warn("could not queue local delivery reports: {}", e.getCause().toString());
            return false;
        } catch (InterruptedException e) {
            worker.interrupted();
            return false;
        }
    }

    /** A record without an id is still named after something stable, so its redelivery overwrites it. */
    private static String fileName(MailRecord mail, ConsumerRecord<String, byte[]> record) {
        String id = mail.envelope().id();
        if (id == null || id.isBlank()) {
            id = "local-" + record.partition() + "-" + record.offset();
        }
        return DropFile.fileName(id);
    }

    private void commit(KafkaConsumer<String, byte[]> c, Map<TopicPartition, OffsetAndMetadata> offsets) {
        if (offsets.isEmpty()) {
            return;
        }
        // A wakeup from close() must not cost the commit of files already written, so the commit is tried again.
        for (int attempt = 0; attempt < 2; attempt++) {
            try {
                c.commitSync(offsets);
                positions.committed(offsets);
                return;
            } catch (WakeupException e) {
                LOG.debug("commit interrupted by close; committing once more");
            } catch (KafkaException e) {
                // The files are written; whoever reads these records next rewrites the same files.
                LOG.warn("drop writer could not commit {}: {}", offsets, e.toString());
                return;
            }
        }
    }
}
