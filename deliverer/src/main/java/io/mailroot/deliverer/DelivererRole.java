package io.mailroot.deliverer;

import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.event.EventLog;
import io.mailroot.core.folder.Badmail;
import io.mailroot.core.kafka.ConsumedPositions;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.NextHop;
import io.mailroot.core.message.Recipient;
import io.mailroot.core.role.RestartingWorker;
import io.mailroot.core.role.Role;
import io.mailroot.deliverer.control.ControlBoard;
import io.mailroot.deliverer.control.ControlEffects;
import io.mailroot.deliverer.smtp.SmtpClient;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers {@code outbound} to remote next hops. One consumer thread reads and commits; delivery runs on a bounded
 * pool, grouped per next hop ({@link HopQueues}), so a dead hop never holds up the rest of its partition. What is not
 * delivered goes on as records ({@link Followups}); a record's offset is committed only when the next hop took it or
 * every record it led to was acknowledged by Kafka.
 */
public final class DelivererRole implements Role {

    private static final Logger LOG = LoggerFactory.getLogger(DelivererRole.class);
    /** Past this, a partition is paused until its deliveries catch up; bytes are bounded by the {@link InFlightBudget}. */
    private static final int MAX_RECORDS_IN_FLIGHT = 2000;
    /** What a record costs beyond its bytes while it is held: the parsed envelope, the job, the bookkeeping. */
    private static final int RECORD_OVERHEAD = 2048;
    private static final Duration POLL = Duration.ofMillis(100);
    private static final Duration RESEND_AFTER = Duration.ofSeconds(1);
    private static final AtomicInteger INSTANCES = new AtomicInteger();
    /** The longest a graceful stop waits for transactions under way (less when outboundTimeout is shorter). */
    private static final Duration MAX_FINISH = Duration.ofSeconds(20);
    /** How long a revoked partition's transactions under way may take to finish before it is handed over. */
    private static final Duration REVOKE_FINISH = Duration.ofSeconds(10);

    private final MailrootConfig config;
    private final KafkaClients clients;
    private final Topics topics;
    private final Followups followups;
    private final Clock clock = Clock.systemUTC();
    private final Map<TopicPartition, PartitionProgress> partitions = new ConcurrentHashMap<>();
    private final Set<TopicPartition> paused = new HashSet<>();
    /** Partitions over {@link #MAX_RECORDS_IN_FLIGHT}, paused until half of it is finished. */
    private final Set<TopicPartition> full = new HashSet<>();
    /** Shared with every deliverer of the process; a partition whose next record does not fit waits here, paused. */
    private final InFlightBudget budget;
    private final Map<TopicPartition, Waiting> waiting = new ConcurrentHashMap<>();
    private final String clientId = "deliverer-" + INSTANCES.incrementAndGet();
    /**
     * Runs the consumer until {@link #close()}; after an error a session did not expect, starts again with a new
     * consumer: what was not committed is read and delivered again (at least once), and delivery never silently stops.
     */
    private final RestartingWorker worker = new RestartingWorker(clientId, this::session, this::wakeup, LOG);
    private volatile KafkaConsumer<String, byte[]> consumer;
    private KafkaProducer<String, byte[]> producer;
    private EventLog events = EventLog.NONE;
    private ThreadPoolExecutor pool;
    private ScheduledExecutorService resender;
    private SmtpClient smtp;
    private HopQueues queues;
    /** Operator actions: a held, deleted or expired message is not delivered. */
    private ControlBoard board;
    private ControlEffects control;
    /** For tests: sees each record before it is taken, and may throw as an unexpected failure would. */
    volatile java.util.function.Consumer<ConsumerRecord<String, byte[]>> beforeTake;
    /** Set by {@link #abandon()}: stop as a killed process would, committing nothing more. */
    private volatile boolean abandoned;
    /**
     * Whether every record of the last poll was taken (or its partition rewound to it), so that no record before a
     * partition's position is unaccounted for; false while a batch is handled, and after one failed half-way (then
     * the revocation on closing must commit only what was taken and finished). Consumer thread only.
     */
    private boolean batchTaken = true;
    /** Whether a partition waited for the budget at the last look (consumer thread only). */
    private boolean budgetFull;

    public DelivererRole(MailrootConfig config, KafkaClients clients, Topics topics) {
        this.config = config;
        this.clients = clients;
        this.topics = topics;
        this.followups = new Followups(topics, RetrySchedule.of(config.delivery(), topics));
        this.budget = InFlightBudget.forProcess(config.delivery().maxInFlightMb());
    }

    /** A partition rewound to {@code offset}, paused until {@code claim} (that record's bytes) is granted. */
    private record Waiting(long offset, InFlightBudget.Claim claim) {
    }

    @Override
    public String name() {
        return "deliverer";
    }

    @Override
    public java.util.Optional<String> notReady() {
        return worker.notReady();
    }

    @Override
    public void start() {
        MailrootConfig.Delivery d = config.delivery();
        // Every current operator action is known before the first record is taken (and before anything else is made).
        board = ControlBoard.open(clients, topics, clientId);
        control = new ControlEffects(board, topics, RetrySchedule.of(d, topics)::interval,
                io.mailroot.core.config.NodeId.of(config), name());
        MxResolver resolver = new MxResolver(config.dns());
        smtp = new SmtpClient(config.fqdn(), d.outboundTimeout());
        DeliveryMetrics.PROCESS.opened(smtp);
        AtomicInteger threads = new AtomicInteger();
        // One thread per open connection at most: the pool's size is maxOutboundConnections.
        pool = new ThreadPoolExecutor(d.maxOutboundConnections(), d.maxOutboundConnections(), 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, clientId + "-smtp-" + threads.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        pool.allowCoreThreadTimeOut(true);
        resender = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, clientId + "-resend");
            t.setDaemon(true);
            return t;
        });
        queues = new HopQueues(pool, d.maxConnectionsPerDomain(), d.maxMessagesPerConnection(),
                hop -> new HopSender(hop, config, resolver, smtp), this::delivered);
        producer = clients.producer(clientId);
        events = EventLog.of(producer, topics, config, "deliverer");
        worker.start();
    }

    /** One consumer, until close() (then a graceful stop) or an unexpected error. */
    private void session() {
        try {
            consumer = clients.consumer("deliverer", clientId);
            if (!worker.running()) {
                return;
            }
            consumer.subscribe(List.of(topics.outbound()), new Rebalance());
            while (worker.running()) {
                ConsumerRecords<String, byte[]> records = consumer.poll(POLL);
                batchTaken = false;
                for (TopicPartition tp : records.partitions()) {
                    for (ConsumerRecord<String, byte[]> record : records.records(tp)) {
                        java.util.function.Consumer<ConsumerRecord<String, byte[]>> hook = beforeTake;
                        if (hook != null) {
                            hook.accept(record);
                        }
                        InFlightBudget.Claim claim = claim(tp, record);
                        if (claim == null) {
                            break;
                        }
                        take(record, claim);
                    }
                }
                batchTaken = true;
                pauseOrResume();
                commit(false);
                worker.progressed();
            }
        } finally {
            if (!worker.running()) {
                stopDelivering();
            }
            closeConsumer();
        }
    }

    /**
     * A graceful stop: no new messages are started, those past their MAIL command get up to {@link #finishLimit()}
     * to end their transaction and have their follow-ups acknowledged, then what is finished is committed and the
     * rest is cut (and delivered again by whoever reads the partition next). {@link #abandon()} cuts at once.
     */
    private void stopDelivering() {
        if (abandoned) {
            queues.close();
            return;
        }
        Duration limit = finishLimit();
        if (!queues.finish(limit)) {
            LOG.warn("deliveries still under way after {}; cutting them (they will be delivered again)", limit);
        }
        try {
            // Acks of the follow-ups finish their offsets (the callbacks run before flush returns).
            producer.flush();
        } catch (RuntimeException e) {
            LOG.warn("could not flush the deliverer's producer", e);
        }
        finalCommit();
        queues.close();
    }

    private Duration finishLimit() {
        Duration timeout = config.delivery().outboundTimeout();
        return timeout.compareTo(MAX_FINISH) < 0 ? timeout : MAX_FINISH;
    }

    private void closeConsumer() {
        KafkaConsumer<String, byte[]> c = consumer;
        if (c != null) {
            try {
                // Revokes (and commits) what is ours; with the partitions forgotten, late results are dropped.
                c.close(Duration.ofSeconds(5));
            } catch (RuntimeException e) {
                LOG.warn("error closing the deliverer consumer", e);
            } finally {
                consumer = null;
            }
        }
        for (PartitionProgress p : partitions.values()) {
            queues.drop(p);
            p.abandon();
        }
        partitions.clear();
        paused.clear();
        full.clear();
        waiting.values().forEach(w -> w.claim().release());
        waiting.clear();
    }

    /** Keeps what was finished before stopping; a wakeup that arrived outside poll may hit the first try. */
    private void finalCommit() {
        for (int attempt = 0; attempt < 2; attempt++) {
            try {
                commit(true);
                return;
            } catch (WakeupException e) {
                LOG.debug("commit interrupted by the stop signal; trying again");
            } catch (RuntimeException e) {
                LOG.warn("final commit failed; those records will be delivered again", e);
                return;
            }
        }
    }

    /**
     * The budget for a record, or null when it must wait: then its partition is rewound to it and paused (the records
     * fetched behind it are dropped and read again later), and it is granted in turn as deliveries finish.
     */
    private InFlightBudget.Claim claim(TopicPartition tp, ConsumerRecord<String, byte[]> record) {
        long bytes = footprint(record);
        Waiting w = waiting.remove(tp);
        if (w != null) {
            if (w.offset() == record.offset() && w.claim().bytes() == bytes && w.claim().granted()) {
                return w.claim();
            }
            // Not the record it was made for (the partition was moved meanwhile): ask again, in turn.
            w.claim().release();
        }
        InFlightBudget.Claim claim = budget.claim(bytes);
        if (claim.granted()) {
            return claim;
        }
        consumer.seek(tp, record.offset());
        waiting.put(tp, new Waiting(record.offset(), claim));
        if (paused.add(tp)) {
            consumer.pause(List.of(tp));
        }
        return null;
    }

    /** What holding a record costs the heap, about: its bytes and the objects made from it. */
    static long footprint(ConsumerRecord<String, byte[]> record) {
        long bytes = RECORD_OVERHEAD + (record.value() == null ? 0 : record.value().length)
                + (record.key() == null ? 0 : record.key().length() * 2L);
        for (Header h : record.headers()) {
            bytes += h.key().length() * 2L + (h.value() == null ? 0 : h.value().length);
        }
        return bytes;
    }

    private void take(ConsumerRecord<String, byte[]> record, InFlightBudget.Claim claim) {
        TopicPartition tp = new TopicPartition(record.topic(), record.partition());
        PartitionProgress progress = partitions.computeIfAbsent(tp, p -> new PartitionProgress());
        progress.started(record.offset(), claim);
        MailRecord mail;
        try {
            mail = EnvelopeCodec.fromRecord(record);
        } catch (EnvelopeCodec.MalformedRecordException e) {
            keepMalformed(record, tp, progress, e);
            return;
        }
        List<Recipient> recipients = mail.envelope().recipients();
        if (recipients.isEmpty()) {
            progress.finished(record.offset());
            return;
        }
        NextHop hop = mail.envelope().nextHop() != null ? mail.envelope().nextHop()
                : NextHop.direct(recipients.get(0).domain());
        List<ProducerRecord<String, byte[]>> instead = control.onOutbound(record, mail, clock.instant());
        if (instead != null) {
            produce(new HopQueues.Job(mail, hop, tp, progress, record.offset()), instead);
            return;
        }
        queues.submit(new HopQueues.Job(mail, hop, tp, progress, record.offset()));
    }

    /** Nobody can be told about a record without a readable envelope: it is kept in Badmail before its offset finishes. */
    private void keepMalformed(ConsumerRecord<String, byte[]> record, TopicPartition tp, PartitionProgress progress,
                               RuntimeException e) {
        Badmail badmail = new Badmail(config.badmailDir());
        try {
            badmail.keepMalformed(record, e);
            LOG.error("malformed record {}-{}@{} kept in Badmail: {}", tp.topic(), tp.partition(), record.offset(),
                    e.getMessage());
            progress.finished(record.offset());
        } catch (IOException io) {
            LOG.warn("cannot keep malformed record {}-{}@{} in Badmail {}: {}; trying again", tp.topic(), tp.partition(),
                    record.offset(), badmail.dir(), io.toString());
            if (worker.running() && partitions.get(tp) == progress) {
                try {
                    resender.schedule(() -> keepMalformed(record, tp, progress, e), RESEND_AFTER.toMillis(),
                            TimeUnit.MILLISECONDS);
                } catch (RuntimeException stopping) {
                    LOG.debug("shutting down; {}-{}@{} will be read again", tp.topic(), tp.partition(), record.offset());
                }
            }
        }
    }

    /** Called on a delivery thread when a message's attempt is over; finishes the offset once follow-ups are acked. */
    private void delivered(HopQueues.Job job, List<DeliveryResult> results) {
        if (!current(partitions, job)) {
            // Its record is read again by the partition's new owner; a retry or report from here would be a second.
            LOG.info("{}: {} was revoked while it was being delivered; leaving it to the new owner",
                    job.mail().envelope().id(), job.partition());
            return;
        }
        List<ProducerRecord<String, byte[]>> records =
                followups.after(job.mail(), job.hop(), results, clock.instant());
        events.emit(DeliveryEvents.of(events, topics, job.mail(), job.hop(), results, records));
        produce(job, records);
    }

    /** Whether the job's partition is still ours, under the same assignment as when the job was taken. */
    static boolean current(Map<TopicPartition, PartitionProgress> partitions, HopQueues.Job job) {
        return partitions.get(job.partition()) == job.progress();
    }

    private void produce(HopQueues.Job job, List<ProducerRecord<String, byte[]>> records) {
        if (records.isEmpty()) {
            job.progress().finished(job.offset());
            return;
        }
        if (abandoned) {
            return;
        }
        AtomicInteger pending = new AtomicInteger(records.size());
        AtomicInteger failed = new AtomicInteger();
        for (ProducerRecord<String, byte[]> r : records) {
            try {
                producer.send(r, (meta, error) -> {
                    if (error != null) {
                        failed.incrementAndGet();
                        LOG.warn("{}: could not queue {} record: {}", job.mail().envelope().id(), r.topic(),
                                error.toString());
                    }
                    if (pending.decrementAndGet() == 0) {
                        if (failed.get() == 0) {
                            job.progress().finished(job.offset());
                        } else {
                            resendLater(job, records);
                        }
                    }
                });
            } catch (RuntimeException e) {
                failed.incrementAndGet();
                LOG.warn("{}: could not queue {} record: {}", job.mail().envelope().id(), r.topic(), e.toString());
                if (pending.decrementAndGet() == 0) {
                    resendLater(job, records);
                }
            }
        }
    }

    /** The offset stays uncommitted until its follow-ups are in Kafka; sending them all again is safe (at least once). */
    private void resendLater(HopQueues.Job job, List<ProducerRecord<String, byte[]>> records) {
        if (!worker.running() || !current(partitions, job)) {
            return;
        }
        try {
            resender.schedule(() -> produce(job, records), RESEND_AFTER.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RuntimeException e) {
            LOG.debug("shutting down; {} will be delivered again", job.mail().envelope().id());
        }
    }

    /**
     * A partition is paused while its next record waits for the budget, or while it has too many records in flight;
     * it resumes when neither holds. The first partition to wait in a while is logged, for an operator to see that
     * delivery, not reading, is what limits throughput.
     */
    private void pauseOrResume() {
        boolean waited = false;
        for (Map.Entry<TopicPartition, PartitionProgress> e : partitions.entrySet()) {
            TopicPartition tp = e.getKey();
            int records = e.getValue().records();
            if (records >= MAX_RECORDS_IN_FLIGHT) {
                full.add(tp);
            } else if (records <= MAX_RECORDS_IN_FLIGHT / 2) {
                full.remove(tp);
            }
            Waiting w = waiting.get(tp);
            boolean waits = w != null && !w.claim().granted();
            waited |= waits;
            boolean pause = waits || full.contains(tp);
            if (pause && paused.add(tp)) {
                consumer.pause(List.of(tp));
            } else if (!pause && paused.remove(tp)) {
                consumer.resume(List.of(tp));
            }
        }
        if (waited && !budgetFull) {
            LOG.info("in-flight budget full ({} of {} MB held): pausing {} partition(s) until deliveries catch up",
                    "%.1f".formatted(budget.held() / 1048576.0), "%.1f".formatted(budget.limit() / 1048576.0),
                    waiting.size());
        } else if (!waited && budgetFull) {
            LOG.debug("in-flight budget has room again; partitions resumed");
        }
        budgetFull = waited;
    }

    private void commit(boolean sync) {
        commit(partitions.keySet(), sync);
    }

    private void commit(Collection<TopicPartition> which, boolean sync) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        Map<TopicPartition, Long> marks = new HashMap<>();
        for (TopicPartition tp : which) {
            PartitionProgress p = partitions.get(tp);
            long position = batchTaken ? ConsumedPositions.of(consumer, tp) : -1;
            long offset = p == null ? -1 : p.commitOffset(position);
            if (offset >= 0) {
                offsets.put(tp, new OffsetAndMetadata(offset));
                marks.put(tp, offset);
            }
        }
        if (offsets.isEmpty()) {
            return;
        }
        if (sync) {
            consumer.commitSync(offsets);
            marks.forEach((tp, o) -> mark(tp, o));
        } else {
            consumer.commitAsync(offsets, (done, error) -> {
                if (error == null) {
                    marks.forEach((tp, o) -> mark(tp, o));
                } else {
                    LOG.debug("offset commit failed, will try again: {}", error.toString());
                }
            });
        }
    }

    private void mark(TopicPartition tp, long offset) {
        PartitionProgress p = partitions.get(tp);
        if (p != null) {
            p.committed(offset);
        }
    }

    /**
     * On revocation stops taking the partitions' queued messages, lets those already in an SMTP transaction finish
     * (up to {@link #REVOKE_FINISH}) and their follow-ups be acknowledged, commits what is finished and forgets the
     * rest, which the new owner delivers. Lost partitions (the group already gave them away) are forgotten at once.
     */
    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> revoked) {
            if (abandoned) {
                forget(revoked);
                return;
            }
            finishUnderWay(revoked);
            try {
                commit(revoked, true);
            } catch (RuntimeException e) {
                LOG.warn("commit on revocation failed; those records will be delivered again", e);
            }
            forget(revoked);
        }

        private void finishUnderWay(Collection<TopicPartition> revoked) {
            java.util.Set<PartitionProgress> progress = new java.util.HashSet<>();
            for (TopicPartition tp : revoked) {
                PartitionProgress p = partitions.get(tp);
                if (p != null) {
                    queues.drop(p);
                    progress.add(p);
                }
            }
            if (progress.isEmpty()) {
                return;
            }
            Duration limit = finishLimit().compareTo(REVOKE_FINISH) < 0 ? finishLimit() : REVOKE_FINISH;
            if (!queues.awaitReported(progress, limit)) {
                LOG.info("deliveries of revoked partitions {} still under way after {}; their new owner delivers them again",
                        revoked, limit);
            }
            try {
                // Follow-ups' acks finish the offsets (the callbacks run before flush returns).
                producer.flush();
            } catch (RuntimeException e) {
                LOG.warn("could not flush the deliverer's producer on revocation", e);
            }
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> assigned) {
            for (TopicPartition tp : assigned) {
                PartitionProgress before = partitions.put(tp, new PartitionProgress());
                if (before != null) {
                    // Assigned again without a revocation in between: what was taken before is read again.
                    queues.drop(before);
                    before.abandon();
                }
            }
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> lost) {
            forget(lost);
        }

        private void forget(Collection<TopicPartition> gone) {
            for (TopicPartition tp : gone) {
                PartitionProgress p = partitions.remove(tp);
                if (p != null) {
                    queues.drop(p);
                    p.abandon();
                }
                Waiting w = waiting.remove(tp);
                if (w != null) {
                    w.claim().release();
                }
            }
            paused.removeAll(gone);
            full.removeAll(gone);
        }
    }

    /**
     * For tests of crash safety: stops the way {@code kill -9} would as far as Kafka and the next hops can tell.
     * Connections are dropped mid-conversation, nothing more is produced or committed; the consumer only leaves its
     * group (instead of timing out), so the next instance gets the partitions without waiting for the session
     * time-out.
     */
    void abandon() {
        abandoned = true;
        close();
    }

    @Override
    public void close() {
        try {
            worker.close(finishLimit().plus(Duration.ofSeconds(30)));
        } catch (RuntimeException e) {
            LOG.warn("error stopping the deliverer", e);
        } finally {
            if (queues != null) {
                queues.close();
            }
            if (smtp != null) {
                smtp.closeAll();
                DeliveryMetrics.PROCESS.closed(smtp);
            }
            if (pool != null) {
                pool.shutdownNow();
            }
            if (resender != null) {
                resender.shutdownNow();
            }
            // Normally given back when the consumer closed; this covers a consumer thread that did not stop in time.
            partitions.values().forEach(PartitionProgress::abandon);
            waiting.values().forEach(w -> w.claim().release());
            events.close();
            if (producer != null) {
                try {
                    producer.close(Duration.ofSeconds(5));
                } catch (RuntimeException e) {
                    LOG.warn("error closing the deliverer's producer", e);
                }
            }
            if (board != null) {
                board.close();
            }
        }
    }

    /**
     * Run by the worker once closing is signalled: a graceful stop lets the consumer thread finish transactions under
     * way ({@link #stopDelivering()}); {@link #abandon()} cuts connections first, as a killed process would.
     */
    private void wakeup() {
        if (abandoned) {
            if (queues != null) {
                queues.close();
            }
            if (smtp != null) {
                smtp.closeAll();
            }
        }
        RestartingWorker.wakeUp(consumer);
    }
}
