package io.mailroot.deliverer;

import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.NextHop;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The deliverer's scheduler: one queue per next hop, drained by at most {@code maxPerHop} delivery threads that
 * each hold one connection. A hop that is slow or dead only ties up its own threads, never another hop's mail.
 * The thread pool's size is the global connection limit.
 */
final class HopQueues {

    private static final Logger LOG = LoggerFactory.getLogger(HopQueues.class);
    /** How long an idle connection waits for more mail to its hop before it is closed. */
    private static final Duration LINGER = Duration.ofSeconds(2);

    /** One message waiting for its next hop, and where to report when it is done. */
    record Job(MailRecord mail, NextHop hop, PartitionProgress progress, long offset, int size) {
    }

    private static final class Queue {
        final ArrayDeque<Job> pending = new ArrayDeque<>();
        int drainers;
    }

    private final ExecutorService pool;
    private final int maxPerHop;
    private final int messagesPerConnection;
    private final Function<NextHop, HopSender> senders;
    private final BiConsumer<Job, List<DeliveryResult>> done;
    private final Map<String, Queue> queues = new HashMap<>();
    private final Set<HopSender> active = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    HopQueues(ExecutorService pool, int maxPerHop, int messagesPerConnection, Function<NextHop, HopSender> senders,
              BiConsumer<Job, List<DeliveryResult>> done) {
        this.pool = pool;
        this.maxPerHop = Math.max(1, maxPerHop);
        this.messagesPerConnection = Math.max(1, messagesPerConnection);
        this.senders = senders;
        this.done = done;
    }

    void submit(Job job) {
        int start;
        synchronized (this) {
            if (closed) {
                return;
            }
            Queue q = queues.computeIfAbsent(job.hop().key(), k -> new Queue());
            q.pending.add(job);
            notifyAll();
            // Enough connections that each carries about a connection's worth of messages, within the hop's limit.
            int wanted = Math.min(maxPerHop, (q.pending.size() + messagesPerConnection - 1) / messagesPerConnection);
            start = Math.max(0, Math.max(wanted, 1) - q.drainers);
            q.drainers += start;
        }
        for (int i = 0; i < start; i++) {
            try {
                pool.execute(() -> drain(job.hop()));
            } catch (RejectedExecutionException e) {
                synchronized (this) {
                    queues.get(job.hop().key()).drainers--;
                }
                return;
            }
        }
    }

    private void drain(NextHop hop) {
        HopSender sender = senders.apply(hop);
        active.add(sender);
        try {
            while (true) {
                Job job = next(hop.key());
                if (job == null) {
                    return;
                }
                List<DeliveryResult> results;
                try {
                    results = sender.deliver(job.mail());
                } catch (RuntimeException e) {
                    LOG.error("{}: delivery to {} failed unexpectedly", job.mail().envelope().id(), hop.key(), e);
                    results = job.mail().envelope().recipients().stream()
                            .map(r -> DeliveryResult.deferred(r, "4.3.0", "internal error: " + e, null)).toList();
                }
                if (closed) {
                    return;
                }
                done.accept(job, results);
            }
        } finally {
            active.remove(sender);
            sender.quit();
        }
    }

    /**
     * The hop's next job; when there is none, waits a moment for one (the connection stays open meanwhile, as
     * Postfix's connection cache does), then gives up its place.
     */
    private synchronized Job next(String key) {
        Queue q = queues.get(key);
        long deadline = System.nanoTime() + LINGER.toNanos();
        Job job = closed ? null : q.pending.poll();
        while (job == null && !closed) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            try {
                TimeUnit.NANOSECONDS.timedWait(this, left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            job = closed ? null : q.pending.poll();
        }
        if (job == null) {
            q.drainers--;
            if (q.drainers == 0 && q.pending.isEmpty()) {
                queues.remove(key);
            }
        }
        return job;
    }

    /** Forgets queued jobs of a partition this deliverer no longer owns; its new owner delivers them. */
    synchronized void drop(PartitionProgress revoked) {
        queues.values().forEach(q -> q.pending.removeIf(j -> j.progress() == revoked));
    }

    /** Stops handing out work and drops every connection; queued jobs are abandoned (their offsets stay uncommitted). */
    void close() {
        synchronized (this) {
            closed = true;
            queues.values().forEach(q -> q.pending.clear());
            notifyAll();
        }
        active.forEach(HopSender::close);
    }
}
