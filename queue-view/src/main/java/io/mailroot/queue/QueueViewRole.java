package io.mailroot.queue;

import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.config.NodeId;
import io.mailroot.core.event.EventCodec;
import io.mailroot.core.event.MessageEvent;
import io.mailroot.core.kafka.BatchRewind;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.role.RestartingWorker;
import io.mailroot.core.role.Role;
import io.micrometer.core.instrument.Metrics;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Folds {@code events} into the compacted {@code queue} topic: one record per queued message (its {@link
 * QueuedMessage}), a tombstone once none of its recipients waits. It reads only {@code events}, which every role
 * writes anyway, so listing the queue never asks a deliverer anything.
 *
 * <p>Each poll is one Kafka transaction: the new state of every message the batch touched (one record per
 * message, however many of its events the batch held) and the batch's offsets on {@code events} commit together.
 * So the {@code queue} topic always holds exactly the fold of the events up to the committed offset, and a view
 * that takes over a partition (after a restart, a crash or a rebalance) rebuilds its state by reading the same
 * partition number of {@code queue} to its end, then goes on from the committed offset. A queue record is written
 * to the partition its event came from, not where its key would hash, so this holds whatever partitioner wrote
 * {@code events}; {@code queue} needs at least as many partitions as {@code events}. Replaying {@code events}
 * from the beginning instead would lose every message queued longer than that topic's retention (7 days; queue
 * topics keep mail 30).
 */
public final class QueueViewRole implements Role {

    /** The longest a fetch waits for more events before the view folds what it has. */
    static final Duration FOLD_EVERY = Duration.ofMillis(500);
    private static final Logger LOG = LoggerFactory.getLogger(QueueViewRole.class);
    public static final String GROUP = "queue-view";
    private static final Duration POLL = Duration.ofMillis(500);
    private static final Duration BACKOFF = Duration.ofSeconds(1);
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(30);
    private static final Duration LOAD_TIMEOUT = Duration.ofMinutes(2);
    /** Departed messages remembered per partition, for events that land after the message left (see QueueFold). */
    private static final int DEPARTED_KEPT = 10_000;
    private static final Duration SWEEP_EVERY = Duration.ofMinutes(10);

    /**
     * Removing messages whose last events were lost (see {@link #sweep}).
     *
     * @param outlived the longest a message can be queued
     * @param every how often to look
     */
    public record Sweep(Duration outlived, Duration every) {
    }

    private final KafkaClients clients;
    private final Topics topics;
    private final String transactionalId;
    /** Null: no sweep. */
    private final Sweep sweep;
    private final Clock clock;
    private Instant nextSweep = Instant.EPOCH;
    private final RestartingWorker worker = new RestartingWorker("queue-view", this::session,
            () -> RestartingWorker.wakeUp(this.consumer), LOG);
    /** The folded state of the assigned partitions; written by the worker thread only, read by the gauges too. */
    private final Map<Integer, Map<String, QueuedMessage>> queued = new ConcurrentHashMap<>();
    private final Map<Integer, LinkedHashMap<String, QueuedMessage>> departed = new HashMap<>();
    private volatile KafkaConsumer<String, byte[]> consumer;
    private QueueGauges gauges;

    public QueueViewRole(MailrootConfig config, KafkaClients clients, Topics topics) {
        this(clients, topics, NodeId.of(config), new Sweep(outlived(config), SWEEP_EVERY), Clock.systemUTC());
    }

    /** Without the sweep of outlived messages. */
    public QueueViewRole(KafkaClients clients, Topics topics, String instance) {
        this(clients, topics, instance, null, Clock.systemUTC());
    }

    /**
     * @param instance names this view among its peers, unique in the cluster and the same across restarts
     * @param sweep how messages whose last events were lost are removed, or null for never
     */
    public QueueViewRole(KafkaClients clients, Topics topics, String instance, Sweep sweep, Clock clock) {
        this.clients = clients;
        this.topics = topics;
        this.transactionalId = clients.groupPrefix() + "queue-view-" + instance;
        this.sweep = sweep;
        this.clock = clock;
    }

    /**
     * The longest a message can wait: the larger expiration timeout, then the longest retry interval (the attempt
     * that finds it expired), and an hour for clocks and slow attempts.
     */
    static Duration outlived(MailrootConfig config) {
        Duration expire = config.delivery().expirationTimeout();
        if (config.delivery().local() != null && config.delivery().local().expirationTimeout().compareTo(expire) > 0) {
            expire = config.delivery().local().expirationTimeout();
        }
        Duration longestRetry = config.delivery().retryIntervals().stream().max(Duration::compareTo).orElse(Duration.ZERO);
        return expire.plus(longestRetry).plus(Duration.ofHours(1));
    }

    @Override
    public String name() {
        return "queue";
    }

    @Override
    public void start() {
        gauges = new QueueGauges(Metrics.globalRegistry, this::messages, Clock.systemUTC());
        worker.start();
    }

    @Override
    public void close() {
        if (!worker.close(CLOSE_WAIT)) {
            LOG.warn("queue view did not stop within {}; its open transaction will be aborted by the broker", CLOSE_WAIT);
        }
        if (gauges != null) {
            gauges.close();
            gauges = null;
        }
    }

    /** The messages this view holds now (its partitions only). */
    Stream<QueuedMessage> messages() {
        return queued.values().stream().flatMap(m -> m.values().stream());
    }

    /**
     * Waits for up to {@link #FOLD_EVERY} or 64 KB of events per fetch: the view is for people, half a second
     * behind costs nothing, and each poll is a transaction (markers on every partition it wrote, on three
     * replicas), so polls of a few events each would cost the brokers more than the events themselves.
     */
    private KafkaConsumer<String, byte[]> batchingConsumer() {
        Map<String, Object> config = clients.consumerConfig(GROUP, transactionalId);
        config.put(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, 64 * 1024);
        config.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, (int) FOLD_EVERY.toMillis());
        return new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer());
    }

    private void session() {
        KafkaProducer<String, byte[]> producer = null;
        try (KafkaConsumer<String, byte[]> c = batchingConsumer()) {
            consumer = c;
            if (!worker.running()) {
                return;
            }
            requireEnoughQueuePartitions(c);
            c.subscribe(List.of(topics.events()), new Rebuild());
            while (worker.running()) {
                if (producer == null) {
                    producer = newProducer();
                    if (producer == null) {
                        worker.pause(BACKOFF);
                        continue;
                    }
                }
                ConsumerRecords<String, byte[]> batch = c.poll(POLL);
                if (!batch.isEmpty()) {
                    try {
                        foldInOneTransaction(c, producer, batch);
                        worker.progressed();
                    } catch (RuntimeException e) {
                        LOG.warn("queue view transaction failed; the batch of {} will be folded again: {}", batch.count(), e.toString());
                        producer = abort(producer);
                        BatchRewind.toStart(c, batch);
                        worker.pause(BACKOFF);
                        continue;
                    }
                }
                producer = sweepWhenDue(producer);
            }
        } finally {
            consumer = null;
            queued.clear();
            departed.clear();
            if (producer != null) {
                try {
                    producer.close(Duration.ofSeconds(5));
                } catch (RuntimeException e) {
                    LOG.debug("closing the queue view producer", e);
                }
            }
        }
    }

    /**
     * Folds the batch into new states, writes them with the offsets in one transaction, and only then takes them as
     * its own: a failed transaction leaves the state as it was, matching the offsets the batch is read again from.
     */
    private void foldInOneTransaction(KafkaConsumer<String, byte[]> c, KafkaProducer<String, byte[]> producer,
                                      ConsumerRecords<String, byte[]> batch) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        Map<Integer, Map<String, QueuedMessage>> changed = new HashMap<>();
        for (ConsumerRecord<String, byte[]> record : batch) {
            offsets.put(new TopicPartition(record.topic(), record.partition()),
                    new OffsetAndMetadata(record.offset() + 1, record.leaderEpoch(), ""));
            MessageEvent event;
            try {
                event = EventCodec.decode(record.value() == null ? new byte[0] : record.value());
            } catch (RuntimeException e) {
                // An event is history, not mail: one that cannot be read is skipped, not kept.
                LOG.warn("skipping unreadable event {}-{}@{}: {}", record.topic(), record.partition(), record.offset(),
                        e.getMessage());
                continue;
            }
            if (event.messageId() == null || event.type() == null) {
                continue;
            }
            Map<String, QueuedMessage> part = changed.computeIfAbsent(record.partition(), p -> new LinkedHashMap<>());
            QueuedMessage before = part.containsKey(event.messageId()) ? part.get(event.messageId())
                    : known(record.partition(), event.messageId());
            QueuedMessage after = QueueFold.apply(before, event);
            if (after != null && !after.equals(before)) {
                part.put(event.messageId(), after);
            }
        }
        producer.beginTransaction();
        changed.forEach((partition, messages) -> messages.forEach((id, m) -> {
            boolean listed = queued.getOrDefault(partition, Map.of()).containsKey(id);
            if (QueueFold.departed(m) && !listed) {
                return; // came and went within the batch: nothing to remove from the topic
            }
            producer.send(new ProducerRecord<>(topics.queueState(), partition, id,
                    QueueFold.departed(m) ? null : QueueCodec.encode(m)));
        }));
        producer.sendOffsetsToTransaction(offsets, c.groupMetadata());
        producer.commitTransaction();
        changed.forEach((partition, messages) -> messages.forEach((id, m) -> {
            if (QueueFold.departed(m)) {
                queued.computeIfAbsent(partition, p -> new ConcurrentHashMap<>()).remove(id);
                departedOf(partition).put(id, m);
            } else {
                queued.computeIfAbsent(partition, p -> new ConcurrentHashMap<>()).put(id, m);
                departedOf(partition).remove(id);
            }
        }));
    }

    private KafkaProducer<String, byte[]> sweepWhenDue(KafkaProducer<String, byte[]> producer) {
        Instant now = clock.instant();
        if (sweep == null || now.isBefore(nextSweep)) {
            return producer;
        }
        nextSweep = now.plus(sweep.every());
        try {
            sweep(producer, now);
            return producer;
        } catch (RuntimeException e) {
            LOG.warn("queue view could not remove outlived messages; trying again in {}: {}", sweep.every(), e.toString());
            return abort(producer);
        }
    }

    /**
     * Removes what has been queued longer than any message can be ({@link Sweep#outlived}) and is not held: its
     * delivered, failed or expired event never reached {@code events} (the roles' event log drops events rather than
     * hold up mail while Kafka refuses them), and without this it would be listed forever.
     */
    private void sweep(KafkaProducer<String, byte[]> producer, Instant now) {
        Instant cutoff = now.minus(sweep.outlived());
        Map<Integer, List<QueuedMessage>> stale = new HashMap<>();
        queued.forEach((partition, messages) -> messages.values().stream()
                .filter(m -> m.arrival() != null && m.arrival().isBefore(cutoff)
                        && QueueName.of(m) != QueuedMessage.State.HOLD)
                .forEach(m -> stale.computeIfAbsent(partition, p -> new java.util.ArrayList<>()).add(m)));
        if (stale.isEmpty()) {
            return;
        }
        producer.beginTransaction();
        stale.forEach((partition, messages) -> messages.forEach(m ->
                producer.send(new ProducerRecord<>(topics.queueState(), partition, m.id(), null))));
        producer.commitTransaction();
        int n = 0;
        for (var e : stale.entrySet()) {
            for (QueuedMessage m : e.getValue()) {
                queued.get(e.getKey()).remove(m.id());
                departedOf(e.getKey()).put(m.id(), new QueuedMessage(m.id(), m.sender(), m.size(), m.arrival(), List.of(),
                        m.updatedAt()));
                n++;
            }
        }
        LOG.warn("queue view removed {} message(s) queued longer than {} (the longest a message can be) with no event"
                + " saying they left: their last events were lost", n, sweep.outlived());
    }

    private QueuedMessage known(int partition, String id) {
        QueuedMessage m = queued.getOrDefault(partition, Map.of()).get(id);
        return m != null ? m : departedOf(partition).get(id);
    }

    private LinkedHashMap<String, QueuedMessage> departedOf(int partition) {
        return departed.computeIfAbsent(partition, p -> new LinkedHashMap<>(16, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, QueuedMessage> eldest) {
                return size() > DEPARTED_KEPT;
            }
        });
    }

    private void requireEnoughQueuePartitions(KafkaConsumer<String, byte[]> c) {
        int events = c.partitionsFor(topics.events()).size();
        int queue = c.partitionsFor(topics.queueState()).size();
        if (queue < events) {
            throw new IllegalStateException("topic " + topics.queueState() + " has " + queue + " partitions but "
                    + topics.events() + " has " + events + "; the queue view writes each message to its events"
                    + " partition, so give " + topics.queueState() + " at least " + events);
        }
    }

    /** Takes over a partition's state from the queue topic when it is assigned, forgets it when it goes. */
    private final class Rebuild implements ConsumerRebalanceListener {

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            if (partitions.isEmpty()) {
                return;
            }
            List<Integer> numbers = partitions.stream().map(TopicPartition::partition).toList();
            long t0 = System.nanoTime();
            Map<Integer, Map<String, QueuedMessage>> loaded;
            try {
                loaded = QueueSnapshot.read(clients, topics.queueState(), numbers, LOAD_TIMEOUT);
            } catch (TimeoutException e) {
                // Folding on without the state would write wrong states; the session starts over.
                throw new KafkaException("cannot rebuild the queue view of partitions " + numbers + ": " + e.getMessage(), e);
            }
            loaded.forEach((p, messages) -> {
                queued.put(p, new ConcurrentHashMap<>(messages));
                departed.remove(p);
            });
            LOG.info("queue view took partitions {} with {} queued messages ({} ms)", numbers,
                    loaded.values().stream().mapToInt(Map::size).sum(), (System.nanoTime() - t0) / 1_000_000);
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            for (TopicPartition tp : partitions) {
                queued.remove(tp.partition());
                departed.remove(tp.partition());
            }
        }
    }

    private KafkaProducer<String, byte[]> newProducer() {
        KafkaProducer<String, byte[]> p = null;
        try {
            p = clients.transactionalProducer(transactionalId);
            p.initTransactions();
            return p;
        } catch (KafkaException e) {
            LOG.warn("queue view cannot start its transactional producer {}: {}", transactionalId, e.toString());
            if (p != null) {
                p.close(Duration.ZERO);
            }
            return null;
        }
    }

    private KafkaProducer<String, byte[]> abort(KafkaProducer<String, byte[]> producer) {
        try {
            producer.abortTransaction();
            return producer;
        } catch (KafkaException | IllegalStateException e) {
            LOG.warn("queue view producer {} cannot abort ({}); replacing it", transactionalId, e.toString());
            producer.close(Duration.ZERO);
            return null;
        }
    }
}
