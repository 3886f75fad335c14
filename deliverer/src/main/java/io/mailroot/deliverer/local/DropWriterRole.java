package io.mailroot.deliverer.local;

import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.folder.AtomicFiles;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.role.Role;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Local delivery: reads the {@code local} topic and writes each message to the Drop folder as {@code <id>.eml}
 * (see {@link DropFile}). Offsets are committed only once the batch's files are on disk; a redelivered record
 * rewrites the same file, so a crash between writing and committing leaves no duplicate.
 */
public final class DropWriterRole implements Role {

    private static final Logger LOG = LoggerFactory.getLogger(DropWriterRole.class);
    private static final String GROUP = "drop";
    private static final Duration POLL = Duration.ofMillis(500);
    private static final Duration BACKOFF = Duration.ofSeconds(1);
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(30);
    /** Each file costs an fsync; a few in flight at once keep the disk busy without a thread per message. */
    private static final int WRITERS = 4;

    private final KafkaClients clients;
    private final Topics topics;
    private final Path dropDir;
    private final CountDownLatch closing = new CountDownLatch(1);
    private final ExecutorService writers;
    private volatile KafkaConsumer<String, byte[]> consumer;
    private Thread worker;

    public DropWriterRole(MailrootConfig config, KafkaClients clients, Topics topics) {
        this.clients = clients;
        this.topics = topics;
        this.dropDir = config.dropDir();
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

    public Path dropDir() {
        return dropDir;
    }

    @Override
    public synchronized void start() {
        if (worker != null) {
            throw new IllegalStateException("drop writer already started");
        }
        worker = new Thread(this::run, "drop-writer");
        worker.start();
    }

    @Override
    public void close() {
        closing.countDown();
        KafkaConsumer<String, byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        Thread t;
        synchronized (this) {
            t = worker;
        }
        try {
            if (t != null) {
                t.join(CLOSE_WAIT.toMillis());
                if (t.isAlive()) {
                    LOG.warn("drop writer did not stop within {}", CLOSE_WAIT);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            writers.shutdownNow();
        }
    }

    private boolean running() {
        return closing.getCount() > 0;
    }

    private void run() {
        try (KafkaConsumer<String, byte[]> c = clients.consumer(GROUP, "drop-writer")) {
            consumer = c;
            if (!running()) {
                return;
            }
            c.subscribe(List.of(topics.local()));
            while (running()) {
                ConsumerRecords<String, byte[]> batch = c.poll(POLL);
                if (batch.isEmpty()) {
                    continue;
                }
                try {
                    write(batch);
                } catch (IOException e) {
                    LOG.error("cannot write to the Drop folder {}; the batch of {} will be written again: {}",
                            dropDir, batch.count(), e.toString());
                    rewind(c, batch);
                    pause();
                    continue;
                }
                commit(c, nextOffsets(batch));
            }
        } catch (WakeupException e) {
            if (running()) {
                LOG.error("drop writer consumer woken up unexpectedly", e);
            }
        } catch (RuntimeException e) {
            LOG.error("drop writer stopped", e);
        } finally {
            consumer = null;
        }
    }

    /** Writes every file of the batch and returns only when all of them are on disk, or throws if any is not. */
    private void write(ConsumerRecords<String, byte[]> batch) throws IOException {
        // The last record for a name wins, and no two writers ever share a name (they would share its temp file).
        Map<String, MailRecord> byName = new LinkedHashMap<>();
        for (ConsumerRecord<String, byte[]> record : batch) {
            try {
                MailRecord mail = EnvelopeCodec.fromRecord(record);
                byName.put(fileName(mail, record), mail);
            } catch (EnvelopeCodec.MalformedRecordException e) {
                LOG.error("skipping malformed record {}-{}@{}: {}", record.topic(), record.partition(),
                        record.offset(), e.getMessage());
            }
        }
        List<Future<?>> writes = new ArrayList<>(byName.size());
        byName.forEach((name, mail) -> writes.add(writers.submit(() -> {
            try {
                AtomicFiles.write(dropDir.resolve(name), DropFile.envelopeBlock(mail.envelope()), mail.message());
            } catch (IOException e) {
                throw new UncheckedIOException(name + ": " + e.getMessage(), e);
            }
        })));
        // Wait for every write, failed or not, so none is still running when the batch is written again.
        IOException failure = null;
        for (Future<?> w : writes) {
            try {
                w.get();
            } catch (ExecutionException e) {
                if (failure == null) {
                    failure = e.getCause() instanceof UncheckedIOException u ? u.getCause() : new IOException(e.getCause());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                closing.countDown();
                failure = new IOException("interrupted while writing to the Drop folder", e);
                break;
            }
        }
        if (failure != null) {
            throw failure;
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
        // A wakeup from close() must not cost the commit of files already written, so the commit is tried again.
        for (int attempt = 0; attempt < 2; attempt++) {
            try {
                c.commitSync(offsets);
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

    private static Map<TopicPartition, OffsetAndMetadata> nextOffsets(ConsumerRecords<String, byte[]> batch) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition tp : batch.partitions()) {
            List<ConsumerRecord<String, byte[]>> records = batch.records(tp);
            ConsumerRecord<String, byte[]> last = records.get(records.size() - 1);
            offsets.put(tp, new OffsetAndMetadata(last.offset() + 1, last.leaderEpoch(), ""));
        }
        return offsets;
    }

    private static void rewind(KafkaConsumer<String, byte[]> c, ConsumerRecords<String, byte[]> batch) {
        Set<TopicPartition> assigned = c.assignment();
        for (TopicPartition tp : batch.partitions()) {
            if (assigned.contains(tp)) {
                c.seek(tp, batch.records(tp).get(0).offset());
            }
        }
    }

    private void pause() {
        try {
            closing.await(BACKOFF.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closing.countDown();
        }
    }
}
