package io.mailroot.router;

import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.role.Role;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
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
    private final CountDownLatch closing = new CountDownLatch(1);
    private volatile KafkaConsumer<String, byte[]> consumer;
    private Thread worker;

    public RouterRole(MailrootConfig config, KafkaClients clients, Topics topics) {
        this(config, clients, topics, defaultInstance(config));
    }

    /**
     * @param instance names this router among its peers; it must be unique in the cluster and the same across
     *     restarts, so a restarted router's first transaction aborts whatever its crashed predecessor left open
     *     (rather than downstream readers waiting for the transaction time-out)
     */
    public RouterRole(MailrootConfig config, KafkaClients clients, Topics topics, String instance) {
        this.clients = clients;
        this.topics = topics;
        this.router = MessageRouter.from(config, topics);
        this.transactionalId = clients.groupPrefix() + "router-" + instance;
    }

    @Override
    public String name() {
        return "router";
    }

    public String transactionalId() {
        return transactionalId;
    }

    @Override
    public synchronized void start() {
        if (worker != null) {
            throw new IllegalStateException("router already started");
        }
        worker = new Thread(this::run, "router");
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
        if (t == null) {
            return;
        }
        try {
            t.join(CLOSE_WAIT.toMillis());
            if (t.isAlive()) {
                LOG.warn("router did not stop within {}; its open transaction will be aborted by the broker", CLOSE_WAIT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private boolean running() {
        return closing.getCount() > 0;
    }

    private void run() {
        KafkaProducer<String, byte[]> producer = null;
        try (KafkaConsumer<String, byte[]> c = newConsumer()) {
            consumer = c;
            if (!running()) {
                return;
            }
            c.subscribe(List.of(topics.inbound()));
            while (running()) {
                if (producer == null) {
                    producer = newProducer();
                    if (producer == null) {
                        pause();
                        continue;
                    }
                }
                ConsumerRecords<String, byte[]> batch = c.poll(POLL);
                if (batch.isEmpty()) {
                    continue;
                }
                try {
                    routeInOneTransaction(c, producer, batch);
                } catch (RuntimeException e) {
                    LOG.warn("router transaction failed; the batch of {} will be routed again: {}", batch.count(), e.toString());
                    producer = abort(producer);
                    rewind(c, batch);
                    pause();
                }
            }
        } catch (WakeupException e) {
            if (running()) {
                LOG.error("router consumer woken up unexpectedly", e);
            }
        } catch (RuntimeException e) {
            LOG.error("router stopped", e);
        } finally {
            consumer = null;
            if (producer != null) {
                producer.close(Duration.ofSeconds(5));
            }
        }
    }

    private void routeInOneTransaction(KafkaConsumer<String, byte[]> c, KafkaProducer<String, byte[]> producer,
                                       ConsumerRecords<String, byte[]> batch) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        producer.beginTransaction();
        for (ConsumerRecord<String, byte[]> record : batch) {
            // A skipped record still counts as consumed, so one bad record cannot block its partition.
            offsets.put(new TopicPartition(record.topic(), record.partition()),
                    new OffsetAndMetadata(record.offset() + 1, record.leaderEpoch(), ""));
            MailRecord mail;
            try {
                mail = EnvelopeCodec.fromRecord(record);
            } catch (EnvelopeCodec.MalformedRecordException e) {
                LOG.error("skipping malformed record {}-{}@{}: {}", record.topic(), record.partition(),
                        record.offset(), e.getMessage());
                continue;
            }
            List<ProducerRecord<String, byte[]>> routed;
            try {
                routed = router.route(mail);
            } catch (RuntimeException e) {
                // Only an envelope no rule can read (a recipient without an address) gets here; retrying cannot help.
                LOG.error("skipping message {} at {}-{}@{}: cannot route it", mail.envelope().id(), record.topic(),
                        record.partition(), record.offset(), e);
                continue;
            }
            // Sends are only queued here; commitTransaction flushes them and fails if any of them failed.
            for (ProducerRecord<String, byte[]> out : routed) {
                producer.send(out);
            }
        }
        producer.sendOffsetsToTransaction(offsets, c.groupMetadata());
        producer.commitTransaction();
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

    /**
     * Puts the consumer back where the failed batch began. Every earlier batch committed, so that is the committed
     * offset; partitions lost in a rebalance meanwhile are left to their new owner.
     */
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

    private static String defaultInstance(MailrootConfig config) {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return config.fqdn();
        }
    }
}
