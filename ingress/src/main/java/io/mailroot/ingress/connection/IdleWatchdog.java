package io.mailroot.ingress.connection;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One thread that watches every client connection of the ingress role and closes those that have been idle past
 * their virtual server's connection time-out, with {@code 421 4.4.2}. The reply is written on a separate thread:
 * a client that stops reading could block the write, and must not stop the watch over everyone else; such a
 * client's socket is closed under the blocked write a few seconds later.
 */
public final class IdleWatchdog implements AutoCloseable {

    private static final long WRITE_GRACE_NANOS = Duration.ofSeconds(5).toNanos();

    private final Set<TrackedSocket> sockets = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService ticker;
    private final ExecutorService closers;

    /** @param tick how often connections are checked; an idle one is closed at most this late */
    public IdleWatchdog(Duration tick) {
        AtomicInteger n = new AtomicInteger();
        ticker = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "mailroot-idle-watchdog"));
        closers = Executors.newCachedThreadPool(r -> daemon(r, "mailroot-idle-close-" + n.incrementAndGet()));
        ticker.scheduleWithFixedDelay(io.mailroot.core.role.FatalErrors.process().everyRun("idle watchdog", this::check), tick.toMillis(), tick.toMillis(), TimeUnit.MILLISECONDS);
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** A new connection whose idle limit is {@code idleLimit}; watched until it is closed. */
    public TrackedSocket newSocket(Duration idleLimit) {
        TrackedSocket s = new TrackedSocket(idleLimit.toNanos());
        sockets.add(s);
        return s;
    }

    /** How many connections are watched (for tests and monitoring). */
    public int watched() {
        return sockets.size();
    }

    private void check() {
        long now = System.nanoTime();
        for (TrackedSocket s : sockets) {
            if (s.isClosed()) {
                sockets.remove(s);
            } else if (s.expired()) {
                if (now - s.expiredAt() > WRITE_GRACE_NANOS) {
                    s.closeQuietly();
                }
            } else if (s.idle(now)) {
                try {
                    closers.execute(s::expire);
                } catch (RuntimeException e) {
                    s.closeQuietly();
                }
            }
        }
    }

    @Override
    public void close() {
        ticker.shutdownNow();
        closers.shutdownNow();
        sockets.clear();
    }
}
