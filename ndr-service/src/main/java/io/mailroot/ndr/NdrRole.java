package io.mailroot.ndr;

import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.MessageIds;
import io.mailroot.core.role.Role;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ndr-service: reads {@code dsn}, sends the sender the reports RFC 3461 says they want by feeding them back to
 * {@code inbound} from the null sender, and puts failures of null-sender mail in Badmail instead, so reports never
 * loop. Offsets are committed per batch, only after every report of the batch is acknowledged and every Badmail
 * file is on disk; a crash before that repeats the batch (a duplicate report, never a lost one).
 */
public final class NdrRole implements Role {

    private static final Logger LOG = LoggerFactory.getLogger(NdrRole.class);
    static final String GROUP = "ndr";
    private static final Duration POLL = Duration.ofMillis(500);
    private static final Duration RETRY_PAUSE = Duration.ofSeconds(2);

    private final KafkaClients clients;
    private final Topics topics;
    private final ReportComposer composer;
    private final BadmailFolder badmail;
    private final CountDownLatch stopping = new CountDownLatch(1);
    private volatile KafkaConsumer<String, byte[]> consumer;
    private KafkaProducer<String, byte[]> producer;
    private Thread thread;

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
    public synchronized void start() {
        if (thread != null) {
            throw new IllegalStateException("ndr-service already started");
        }
        producer = clients.producer("ndr-service");
        consumer = clients.consumer(GROUP, "ndr-service");
        consumer.subscribe(List.of(topics.dsn()));
        thread = new Thread(this::run, "ndr-service");
        thread.start();
    }

    @Override
    public void close() {
        stopping.countDown();
        KafkaConsumer<String, byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t != null) {
            try {
                t.join(30_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        closeProducer();
    }

    private void run() {
        try {
            while (stopping.getCount() > 0) {
                ConsumerRecords<String, byte[]> batch = consumer.poll(POLL);
                if (batch.isEmpty()) {
                    continue;
                }
                try {
                    handle(batch);
                } catch (WakeupException e) {
                    throw e;
                } catch (Exception e) {
                    LOG.warn("could not finish a batch of {} dsn records, will try it again: {}", batch.count(), e.toString());
                    rewind(batch);
                    renewProducer();
                    stopping.await(RETRY_PAUSE.toMillis(), TimeUnit.MILLISECONDS);
                    continue;
                }
                commit(batch);
            }
        } catch (WakeupException e) {
            // close() asked us to stop; uncommitted work is repeated by whoever owns the partitions next
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.error("ndr-service stopped by an unexpected error", e);
        } finally {
            try {
                consumer.close(Duration.ofSeconds(5));
            } catch (RuntimeException e) {
                LOG.debug("closing the dsn consumer", e);
            }
        }
    }

    /** Everything a batch asks for, made durable: reports acknowledged by Kafka, Badmail files on disk. */
    private void handle(ConsumerRecords<String, byte[]> batch) throws IOException, InterruptedException {
        List<Pending> pending = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> record : batch) {
            MailRecord failed;
            try {
                failed = EnvelopeCodec.fromRecord(record);
            } catch (EnvelopeCodec.MalformedRecordException e) {
                LOG.error("skipping malformed dsn record {}-{}@{}: {}", record.topic(), record.partition(),
                        record.offset(), e.getMessage());
                continue;
            }
            if (failed.envelope().nullSender()) {
                badmail.keep(badmailName(failed, record), failed.message(),
                        BadmailFolder.nullSenderReason(failed.envelope()));
                continue;
            }
            List<DeliveryReport> reports;
            try {
                reports = composer.compose(failed, Instant.ofEpochMilli(record.timestamp()));
            } catch (Exception e) {
                // An original Jakarta Mail cannot read must still not vanish: keep it where an administrator looks.
                LOG.error("cannot build a report for message {}: {}", failed.envelope().id(), e.toString());
                badmail.keep(badmailName(failed, record), failed.message(),
                        BadmailFolder.reason("No report could be built for this message: " + e, failed.envelope()));
                continue;
            }
            for (DeliveryReport report : reports) {
                pending.add(new Pending(record, failed, report,
                        producer.send(EnvelopeCodec.toRecord(topics.inbound(), report.id(), report.mail()))));
            }
        }
        producer.flush();
        for (Pending p : pending) {
            awaitAck(p);
        }
    }

    private void commit(ConsumerRecords<String, byte[]> batch) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition tp : batch.partitions()) {
            List<ConsumerRecord<String, byte[]>> records = batch.records(tp);
            offsets.put(tp, new OffsetAndMetadata(records.get(records.size() - 1).offset() + 1));
        }
        try {
            consumer.commitSync(offsets);
        } catch (WakeupException e) {
            throw e;
        } catch (KafkaException e) {
            // Usually a rebalance took the partitions: their new owner repeats the batch, so the sender may get a
            // report twice, never none.
            LOG.warn("could not commit dsn offsets {}: {}", offsets, e.toString());
        }
    }

    /** Puts each partition of a failed batch back to its first record, so the next poll starts the batch again. */
    private void rewind(ConsumerRecords<String, byte[]> batch) {
        for (TopicPartition tp : batch.partitions()) {
            try {
                consumer.seek(tp, batch.records(tp).get(0).offset());
            } catch (IllegalStateException e) {
                // no longer ours after a rebalance; the new owner starts from the committed offset anyway
            }
        }
    }

    /** A producer that failed a send may be in an error state; a fresh one costs little next to a stuck batch. */
    private void renewProducer() {
        closeProducer();
        producer = clients.producer("ndr-service");
    }

    private void closeProducer() {
        KafkaProducer<String, byte[]> p = producer;
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
        String id = failed.envelope().id() == null ? MessageIds.next() : failed.envelope().id();
        return id + "-" + record.partition() + "-" + record.offset();
    }

    private void awaitAck(Pending p) throws IOException, InterruptedException {
        try {
            p.ack().get();
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

    /** A report on its way to inbound, with the dsn record it answers. */
    private record Pending(ConsumerRecord<String, byte[]> source, MailRecord failed, DeliveryReport report,
                           Future<RecordMetadata> ack) {
    }
}
