package io.mailroot.deliverer;

import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.NextHop;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The deliverer's scheduler: one queue per next hop and shard (its outbound key), drained by at most the shard's
 * part of {@code maxPerHop} delivery threads that each hold one connection. A hop spread over k shards may be
 * delivered by k deliverers at once, so each shard's queue gets {@code ceil(maxPerHop / k)}
 * ({@link NextHop#connectionsPerShard}); a record from before sharding is one shard with the whole limit.
 * A hop that is slow or dead only ties up its own threads, never another hop's mail. The thread pool's size is the
 * global connection limit.
 */
final class HopQueues {

    private static final Logger LOG = LoggerFactory.getLogger(HopQueues.class);
    /** How long an idle connection waits for more mail to its hop before it is closed. */
    private static final Duration LINGER = Duration.ofSeconds(2);
    private static final long RECHECK_NANOS = Duration.ofMillis(50).toNanos();

    /** One message waiting for its next hop, and where to report when it is done. */
    record Job(MailRecord mail, NextHop hop, TopicPartition partition, PartitionProgress progress, long offset) {
    }

    /** A hop's waiting jobs, its delivery threads, and the condition only those threads wait on. */
    private static final class Queue {
        final ArrayDeque<Job> pending = new ArrayDeque<>();
        final Condition more;
        int drainers;

        Queue(Condition more) {
            this.more = more;
        }
    }

    private final ExecutorService pool;
    private final int maxPerHop;
    private final int messagesPerConnection;
    private final Function<NextHop, HopSender> senders;
    private final BiConsumer<Job, List<DeliveryResult>> done;
    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled when the last delivery thread of all hops has finished. */
    private final Condition idle = lock.newCondition();
    private final Map<String, Queue> queues = new HashMap<>();
    private final Set<HopSender> active = ConcurrentHashMap.newKeySet();
    /** Jobs handed to a delivery thread and not yet reported; guarded by {@link #lock}. */
    private final Set<Job> delivering = new HashSet<>();
    /** Signalled whenever a job in {@link #delivering} has been reported. */
    private final Condition reported = lock.newCondition();
    private int drainers;
    /** No more jobs are handed out; those being delivered finish and report. */
    private volatile boolean stopping;
    /** Connections are cut and results thrown away. */
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
        String key = job.hop().key();
        lock.lock();
        try {
            if (stopping) {
                return;
            }
            Queue q = queues.computeIfAbsent(key, k -> new Queue(lock.newCondition()));
            q.pending.add(job);
            q.more.signal();
            // Enough connections that each carries about a connection's worth of messages, within the hop's limit.
            int limit = job.hop().connectionsPerShard(maxPerHop);
            int wanted = Math.min(limit, (q.pending.size() + messagesPerConnection - 1) / messagesPerConnection);
            start = Math.max(0, Math.max(wanted, 1) - q.drainers);
            q.drainers += start;
            drainers += start;
        } finally {
            lock.unlock();
        }
        for (int i = 0; i < start; i++) {
            try {
                pool.execute(() -> drain(job.hop()));
            } catch (RejectedExecutionException e) {
                lock.lock();
                try {
                    release(key, start - i);
                } finally {
                    lock.unlock();
                }
                return;
            }
        }
    }

    /**
     * One delivery thread's life: a sender for the hop, then the hop's jobs one after the other. Whatever goes
     * wrong, the thread gives up its place (so the hop gets a new one when mail comes) and the job it held is
     * reported as deferred, to be tried again later, never left unfinished.
     */
    private void drain(NextHop hop) {
        String key = hop.key();
        HopSender sender = null;
        String broken = null;
        try {
            sender = senders.apply(hop);
            active.add(sender);
        } catch (RuntimeException e) {
            LOG.error("cannot deliver to {}: {}", key, e.toString(), e);
            broken = "internal error: " + e;
        }
        boolean released = false;
        Job job = null;
        try {
            while ((job = next(key)) != null) {
                Job current = job;
                try {
                    List<DeliveryResult> results;
                    if (sender == null) {
                        results = deferAll(job, broken);
                    } else {
                        try {
                            long started = System.nanoTime();
                            results = sender.deliver(job.mail());
                            DeliveryMetrics.PROCESS.attempt(job.hop(), job.mail().envelope(), results,
                                    System.nanoTime() - started);
                        } catch (RuntimeException e) {
                            LOG.error("{}: delivery to {} failed unexpectedly", job.mail().envelope().id(), key, e);
                            results = deferAll(job, "internal error: " + e);
                        }
                    }
                    if (closed) {
                        job = null;
                        return;
                    }
                    done.accept(job, results);
                } finally {
                    reported(current);
                }
            }
            released = true;
        } catch (RuntimeException e) {
            LOG.error("delivery thread for {} failed", key, e);
            if (job != null && !closed) {
                try {
                    done.accept(job, deferAll(job, "internal error: " + e));
                } catch (RuntimeException again) {
                    LOG.error("{}: could not defer after an internal error; it is delivered again after a restart",
                            job.mail().envelope().id(), again);
                }
            }
        } finally {
            if (!released) {
                lock.lock();
                try {
                    release(key, 1);
                } finally {
                    lock.unlock();
                }
            }
            if (sender != null) {
                active.remove(sender);
                sender.quit();
            }
        }
    }

    private static List<DeliveryResult> deferAll(Job job, String why) {
        return job.mail().envelope().recipients().stream()
                .map(r -> DeliveryResult.deferred(r, "4.3.0", why, null)).toList();
    }

    /** Gives up {@code n} delivery threads' places in the hop's queue; called with the lock held. */
    private void release(String key, int n) {
        Queue q = queues.get(key);
        if (q != null) {
            q.drainers -= n;
            if (q.drainers <= 0 && q.pending.isEmpty()) {
                queues.remove(key);
            }
        }
        drainers -= n;
        if (drainers <= 0) {
            idle.signalAll();
        }
    }

    /**
     * The hop's next job; when there is none, waits a moment for one (the connection stays open meanwhile, as
     * Postfix's connection cache does), then gives up its place.
     */
    private Job next(String key) {
        lock.lock();
        try {
            Queue q = queues.get(key);
            long deadline = System.nanoTime() + LINGER.toNanos();
            Job job = stopping || q == null ? null : q.pending.poll();
            if (job != null) {
                delivering.add(job);
            }
            while (job == null && !stopping && q != null && !othersWaiting()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                try {
                    // Woken by more mail for this hop; every 50 ms it looks whether another hop waits for a thread.
                    q.more.awaitNanos(Math.min(left, RECHECK_NANOS));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
                job = stopping ? null : q.pending.poll();
                if (job != null) {
                    delivering.add(job);
                }
            }
            if (job == null) {
                release(key, 1);
            }
            return job;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Whether another hop's delivery thread waits for a place in the pool. An idle connection lingers only while
     * no other hop needs the thread: with every thread lingering on a hop whose queue just emptied, the pool sat
     * idle for two seconds at a time beside queued mail (a third of the throughput to 48 domains on 4 threads).
     */
    private boolean othersWaiting() {
        return pool instanceof ThreadPoolExecutor t && !t.getQueue().isEmpty();
    }

    private void reported(Job job) {
        lock.lock();
        try {
            delivering.remove(job);
            reported.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until no job of {@code which} is being delivered any more (each has been reported), or the limit passes.
     * A revoked partition's transactions under way are let finish, so that their offsets can be committed before
     * the partition's new owner reads it: cut, the next hop may already have said 250 and the message would go twice.
     *
     * @return whether all of them were reported in time
     */
    boolean awaitReported(Set<PartitionProgress> which, Duration limit) {
        lock.lock();
        try {
            long left = limit.toNanos();
            while (delivering.stream().anyMatch(j -> which.contains(j.progress())) && left > 0) {
                left = reported.awaitNanos(left);
            }
            return delivering.stream().noneMatch(j -> which.contains(j.progress()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            lock.unlock();
        }
    }

    /** Forgets queued jobs of a partition this deliverer no longer owns; its new owner delivers them. */
    void drop(PartitionProgress revoked) {
        lock.lock();
        try {
            queues.values().forEach(q -> q.pending.removeIf(j -> j.progress() == revoked));
        } finally {
            lock.unlock();
        }
    }

    /**
     * For a graceful stop: hands out no more jobs (queued ones are left, their offsets stay uncommitted) and waits
     * up to {@code limit} for the messages being sent to finish and be reported. Returns whether all did.
     */
    boolean finish(Duration limit) {
        lock.lock();
        try {
            stopHandingOut();
            long left = limit.toNanos();
            while (drainers > 0 && left > 0) {
                left = idle.awaitNanos(left);
            }
            return drainers <= 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            lock.unlock();
        }
    }

    /** Leaves queued jobs unsent (their offsets stay uncommitted) and wakes idle drainers to leave. Holds the lock. */
    private void stopHandingOut() {
        stopping = true;
        queues.values().forEach(q -> {
            q.pending.clear();
            q.more.signalAll();
        });
    }

    /** Stops handing out work and drops every connection; queued jobs are abandoned (their offsets stay uncommitted). */
    void close() {
        closed = true;
        lock.lock();
        try {
            stopHandingOut();
        } finally {
            lock.unlock();
        }
        active.forEach(HopSender::close);
    }
}
