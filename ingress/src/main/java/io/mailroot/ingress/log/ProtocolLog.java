package io.mailroot.ingress.log;

import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.role.FatalErrors;
import io.mailroot.ingress.connection.ProtocolTrail;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Metrics;
import java.net.Socket;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One virtual server's protocol log (IIS's SMTP log). Sessions never wait for it: each entry is offered to a bounded
 * queue, and when the queue is full the entry is dropped and counted ({@link #droppedEntries()}, the
 * {@value #DROPPED_METER} counter, and a warning at most once a minute). One writer thread drains the queue in
 * batches into the {@link LogSink} (files or a database); a sink that fails or stalls costs log entries, never SMTP
 * time.
 */
public final class ProtocolLog implements AutoCloseable {

    public static final String DROPPED_METER = "mailroot_log_entries_dropped";
    public static final String WRITTEN_METER = "mailroot_log_entries_written";

    private static final Logger LOG = LoggerFactory.getLogger(ProtocolLog.class);
    private static final int MAX_BATCH = 1000;
    private static final long WARN_EVERY_NANOS = Duration.ofMinutes(1).toNanos();
    /** How long close waits for the writer to write what is queued; a stalled sink is left behind after that. */
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);

    private final String serverName;
    private final String service;
    private final String computer;
    private final Clock clock;
    private final BlockingQueue<LogEntry> queue;
    private final LogSink sink;
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong lastDropWarning = new AtomicLong(System.nanoTime() - WARN_EVERY_NANOS);
    private final AtomicLong lastFailureWarning = new AtomicLong(System.nanoTime() - WARN_EVERY_NANOS);
    private final Thread writer;
    private final List<Meter> meters = new ArrayList<>();
    private volatile boolean open = true;

    /**
     * @param serverName the virtual server's name, the {@code server} tag of the meters
     * @param service the virtual server as IIS named it ({@code SMTPSVC1})
     * @param computer this node's name in the entries
     * @param clock stamps entries; its zone is the local time of the IIS and NCSA formats and of local file naming
     * @param capacity entries that may wait for the writer
     */
    public ProtocolLog(String serverName, String service, String computer, Clock clock, int capacity, LogSink sink) {
        this.serverName = serverName;
        this.service = service;
        this.computer = computer;
        this.clock = clock;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.sink = sink;
        meters.add(FunctionCounter.builder(DROPPED_METER, dropped, AtomicLong::get)
                .description("Protocol log entries dropped because the log writer fell behind or failed")
                .tag("server", serverName).register(Metrics.globalRegistry));
        meters.add(FunctionCounter.builder(WRITTEN_METER, written, AtomicLong::get)
                .description("Protocol log entries written")
                .tag("server", serverName).register(Metrics.globalRegistry));
        writer = new Thread(this::drain, "mailroot-protocol-log-" + service);
        writer.setDaemon(true);
        writer.setUncaughtExceptionHandler(FatalErrors.process().uncaughtHandler());
        writer.start();
    }

    /**
     * The log a virtual server's configuration asks for: files of its format, or the database.
     *
     * @param index the virtual server's place in the configuration, which names it {@code SMTPSVC<index+1>}
     */
    public static ProtocolLog of(MailrootConfig.VirtualServer vs, int index, String computer, Clock clock) {
        MailrootConfig.Logging l = vs.logging();
        LogSink sink = l.format().equals("database")
                ? DatabaseSink.of(l)
                : new LogFileSink(l.directory(), LogFileFormat.of(l.format(), l.fields(), clock.getZone()),
                        LogFileNames.of(l, clock.getZone()));
        return new ProtocolLog(vs.name(), "SMTPSVC" + (index + 1), computer, clock, l.bufferEntries(), sink);
    }

    /** The log of one accepted connection. */
    public ProtocolTrail trail(Socket connection) {
        return new SessionTrail(this, connection.getInetAddress().getHostAddress(),
                connection.getLocalAddress().getHostAddress(), connection.getLocalPort());
    }

    /** Queues an entry for the writer, or drops it if the queue is full; never waits. */
    void offer(LogEntry entry) {
        if (open && queue.offer(entry)) {
            return;
        }
        long n = dropped.incrementAndGet();
        warnAtMostOnceAMinute(lastDropWarning, "{}: {} protocol log entries dropped so far: the log writer is behind",
                n);
    }

    Instant now() {
        return clock.instant();
    }

    String service() {
        return service;
    }

    String computer() {
        return computer;
    }

    /** Entries dropped since start: the queue was full, or the sink failed to write them. */
    public long droppedEntries() {
        return dropped.get();
    }

    /** Entries the sink took since start. */
    public long writtenEntries() {
        return written.get();
    }

    private void drain() {
        List<LogEntry> batch = new ArrayList<>(MAX_BATCH);
        try {
            while (open || !queue.isEmpty()) {
                LogEntry first;
                try {
                    first = queue.poll(200, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    break;
                }
                if (first == null) {
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, MAX_BATCH - 1);
                try {
                    sink.write(batch);
                    written.addAndGet(batch.size());
                } catch (Exception e) {
                    long n = dropped.addAndGet(batch.size());
                    warnAtMostOnceAMinute(lastFailureWarning, "{}: the protocol log could not be written ({} entries "
                            + "dropped so far): " + e, n);
                }
                batch.clear();
            }
        } finally {
            sink.close();
        }
    }

    private void warnAtMostOnceAMinute(AtomicLong last, String message, long count) {
        long now = System.nanoTime();
        long before = last.get();
        if (now - before >= WARN_EVERY_NANOS && last.compareAndSet(before, now)) {
            LOG.warn(message, serverName, count);
        }
    }

    /** Writes what is queued (waiting a few seconds at most for a stalled sink) and stops the writer. */
    @Override
    public void close() {
        open = false;
        try {
            writer.join(CLOSE_WAIT.toMillis());
            if (writer.isAlive()) {
                writer.interrupt();
                LOG.warn("{}: the protocol log writer did not finish within {} s; {} entries left unwritten",
                        serverName, CLOSE_WAIT.toSeconds(), queue.size());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        meters.forEach(Metrics.globalRegistry::remove);
    }
}
