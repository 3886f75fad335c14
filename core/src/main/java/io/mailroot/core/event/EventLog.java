package io.mailroot.core.event;

import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.config.NodeId;
import io.mailroot.core.kafka.Topics;
import io.micrometer.core.instrument.FunctionCounter;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.config.NodeId;
import io.mailroot.core.kafka.Topics;
import io.micrometer.core.instrument.Metrics;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.Producer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a role writes what happened to a message: the {@code events} topic, through a producer the role already
 * has. The trail is for people and the queue view, not for the mail: {@link #emit} hands the event to a thread of
 * its own and returns at once (a producer can block for {@code max.block.ms} when its broker is gone), and an event
 * that cannot be written is counted ({@code mailroot_events_failed}) and logged at most once a minute, never thrown.
 *
 * <p>The router writes its events in its own transaction instead ({@link #sendIn}), so a routing is recorded
 * exactly once, as the routing itself is.
 */
public final class EventLog implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EventLog.class);
    /** Every event this process could not write, whatever role: one counter for the operator to alert on. */
    private static final AtomicLong FAILED = new AtomicLong();
    /** Events waiting for the sending thread; beyond this (a broker gone for a while) new ones are counted lost. */
    static final int BACKLOG = 10_000;
    private static final long WARN_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);
    /** How long {@link #close} lets the backlog drain before its producer closes. */
    private static final long CLOSE_WAIT_MILLIS = 2_000;

    static {
        FunctionCounter.builder("mailroot_events_failed", FAILED, AtomicLong::doubleValue)
                .description("Message events that could not be written to the events topic (the mail went on)")
                .register(Metrics.globalRegistry);
    }

    /** A log that writes nothing: for a role without a producer, and for tests of other things. */
    public static final EventLog NONE = new EventLog(() -> null, null, "", "");

    private final Supplier<? extends Producer<String, byte[]>> producer;
    private final String topic;
    private final String node;
    private final String role;
    private final Clock clock = Clock.systemUTC();
    private final BlockingQueue<MessageEvent> backlog = new ArrayBlockingQueue<>(BACKLOG);
    private final AtomicLong failures = new AtomicLong();
    /** Events emitted and not yet handed to the producer. */
    private final AtomicLong pending = new AtomicLong();
    private final AtomicLong lastWarning = new AtomicLong();
    private final AtomicLong unwarned = new AtomicLong();
    private volatile boolean warnedOnce;
    private volatile boolean closed;
    private Thread sender;

    /**
     * @param producer the role's producer as it is now (roles that renew theirs pass a getter); null means none
     *     at the moment, and the event is counted lost
     * @param topic the {@code events} topic ({@code Topics.events()}), or null to write nothing
     * @param node this process's node id ({@code NodeId.of})
     * @param role the role's name as the trail shows it: ingress, pickup, http, router, deliverer, drop, ndr
     */
    public EventLog(Supplier<? extends Producer<String, byte[]>> producer, String topic, String node, String role) {
        this.producer = producer;
        this.topic = topic;
        this.node = node;
        this.role = role;
    }

    public EventLog(Producer<String, byte[]> producer, String topic, String node, String role) {
        this(() -> producer, topic, node, role);
    }

    /** A role's log on the {@code events} topic of {@code topics}, as this node ({@link NodeId}). */
    public static EventLog of(Supplier<? extends Producer<String, byte[]>> producer, Topics topics,
                              MailrootConfig config, String role) {
        return new EventLog(producer, topics.events(), node(config), role);
    }

    public static EventLog of(Producer<String, byte[]> producer, Topics topics, MailrootConfig config, String role) {
        return of(() -> producer, topics, config, role);
    }

    /** The node id; a node that cannot keep one (dataDir not writable) still runs, its events name its fqdn. */
    static String node(MailrootConfig config) {
        try {
            return NodeId.of(config);
        } catch (UncheckedIOException e) {
            LOG.warn("events name this node {}: {}", config.fqdn(), e.getMessage());
            return config.fqdn();
        }
    }

    /** An event about message {@code messageId}, stamped with this node, role and the time now; fill it, then emit. */
    public EventDraft event(MessageEvent.Type type, String messageId) {
        return new EventDraft(this, type, messageId, clock.instant(), node, role);
    }

    /** Queues the event for writing and returns at once; never throws. */
    public void emit(MessageEvent event) {
        if (topic == null) {
            return;
        }
        pending.incrementAndGet();
        if (closed || !backlog.offer(event)) {
            pending.decrementAndGet();
            failed(event, closed ? "the role is stopping" : BACKLOG + " events are already waiting to be written");
            return;
        }
        startSender();
    }

    public void emit(List<MessageEvent> events) {
        events.forEach(this::emit);
    }

    /**
     * Sends the events on {@code transactional}, in the caller's open transaction, on the caller's thread: they
     * commit or abort with the records beside them. A send refused outright is counted, not thrown.
     */
    public void sendIn(Producer<String, byte[]> transactional, List<MessageEvent> events) {
        if (topic == null) {
            return;
        }
        for (MessageEvent e : events) {
            try {
                transactional.send(EventCodec.toRecord(topic, e));
            } catch (RuntimeException ex) {
                failed(e, ex.toString());
            }
        }
    }

    /** Events this log could not write (the process-wide count is the metric). */
    public long failures() {
        return failures.get();
    }

    public static long failedInProcess() {
        return FAILED.get();
    }

    private synchronized void startSender() {
        if (sender != null || closed) {
            return;
        }
        sender = new Thread(this::drain, "mailroot-events-" + role);
        sender.setDaemon(true);
        sender.start();
    }

    private void drain() {
        while (!closed || !backlog.isEmpty()) {
            MessageEvent e;
            try {
                e = backlog.poll(100, TimeUnit.MILLISECONDS);
            } catch (InterruptedException ie) {
                break;
            }
            if (e != null) {
                send(e);
                pending.decrementAndGet();
            }
        }
        for (MessageEvent left; (left = backlog.poll()) != null; ) {
            pending.decrementAndGet();
            failed(left, "the role stopped before it was written");
        }
    }

    private void send(MessageEvent e) {
        Producer<String, byte[]> p = producer.get();
        if (p == null) {
            failed(e, "the role has no producer at the moment");
            return;
        }
        try {
            p.send(EventCodec.toRecord(topic, e), (meta, error) -> {
                if (error != null) {
                    failed(e, error.toString());
                }
            });
        } catch (RuntimeException ex) {
            failed(e, ex.toString());
        }
    }

    private void failed(MessageEvent e, String why) {
        FAILED.incrementAndGet();
        failures.incrementAndGet();
        long now = System.nanoTime();
        long last = lastWarning.get();
        boolean due = !warnedOnce || now - last >= WARN_EVERY_NANOS;
        if (!due || !lastWarning.compareAndSet(last, now)) {
            unwarned.incrementAndGet();
            return;
        }
        warnedOnce = true;
        long more = unwarned.getAndSet(0);
        LOG.warn("{}: could not write the {} event of {} to {} (the mail is unaffected){}: {}", role, e.type(),
                e.messageId(), topic, more > 0 ? "; " + more + " more since the last warning" : "", why);
    }

    /**
     * Waits, at most {@code max}, until every event emitted so far is in the producer's hands: a role calls it
     * before it closes a producer that it replaces, so the producer's close sends them.
     */
    public void flush(Duration max) {
        long deadline = System.nanoTime() + max.toNanos();
        while (pending.get() > 0 && System.nanoTime() < deadline && sender != null && sender.isAlive()) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
    }

    /** Lets the backlog drain for a moment (call it before closing the producer); later events are counted lost. */
    @Override
    public void close() {
        Thread t;
        synchronized (this) {
            closed = true;
            t = sender;
        }
        if (t == null) {
            return;
        }
        try {
            t.join(CLOSE_WAIT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        t.interrupt();
    }
}
