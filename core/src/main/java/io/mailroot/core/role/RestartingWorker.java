package io.mailroot.core.role;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;

/**
 * The thread a consumer role runs its sessions on. A session makes its Kafka clients and works until it is closed or
 * something it did not expect goes wrong; this then waits (1 s at first, doubling up to 30 s while the failures go on,
 * back to 1 s once a session has {@link #progressed() made progress}) and starts a new session with new clients. So a
 * role never stops working silently while its node keeps answering, yet a broken cluster is not hammered.
 *
 * <p>Why one class: the router, ndr-service, drop writer, deliverer and retry roles each had their own copy of this
 * loop and of its stop protocol, and the copies had begun to drift. The role owns one of these and keeps only its
 * session and its own clean-up.
 *
 * <p>{@link #close(Duration)} signals closing (ending any {@link #pause(Duration)} at once), runs the role's wake-up
 * (which wakes its consumer out of {@code poll}, so the session ends with a {@link WakeupException} that is not an
 * error), then waits a bounded time for the thread.
 *
 * <p>An {@link Error} out of a session is not restarted in place: it {@linkplain FatalErrors halts the process}, so
 * the supervisor restarts the whole node rather than the node going on without this role.
 */
public final class RestartingWorker {

    /** One run of a role with its own Kafka clients; returns or throws to end. */
    @FunctionalInterface
    public interface Session {
        void run() throws InterruptedException;
    }

    private static final Duration FIRST_DELAY = Duration.ofSeconds(1);
    private static final Duration LAST_DELAY = Duration.ofSeconds(30);

    private final String name;
    private final Session session;
    private final Runnable wakeup;
    private final Logger log;
    private final Duration firstDelay;
    private final Duration lastDelay;
    private final FatalErrors fatal;
    private final CountDownLatch closing = new CountDownLatch(1);
    private volatile boolean progressed;
    /** The last session's failure while the worker waits to start the next one; null while a session runs. */
    private volatile RuntimeException restarting;
    private Thread thread;

    /**
     * @param name the thread's name, and the role's name in the log
     * @param wakeup run by {@link #close(Duration)} after closing is signalled, typically {@link #wakeUp} of the role's consumer
     * @param log the role's logger, so restarts are logged under the role
     */
    public RestartingWorker(String name, Session session, Runnable wakeup, Logger log) {
        this(name, session, wakeup, log, FIRST_DELAY, LAST_DELAY, FatalErrors.process());
    }

    /** With other back-off bounds (tests use milliseconds) and what an Error does. */
    RestartingWorker(String name, Session session, Runnable wakeup, Logger log, Duration firstDelay,
                     Duration lastDelay, FatalErrors fatal) {
        this.name = name;
        this.session = session;
        this.wakeup = wakeup;
        this.log = log;
        this.firstDelay = firstDelay;
        this.lastDelay = lastDelay;
        this.fatal = fatal;
    }

    /** The usual wake-up: wakes {@code consumer} out of {@code poll}, when the role has one at the moment. */
    public static void wakeUp(Consumer<?, ?> consumer) {
        if (consumer != null) {
            consumer.wakeup();
        }
    }

    /** Starts the thread; a worker starts once. */
    public synchronized void start() {
        if (thread != null) {
            throw new IllegalStateException(name + " already started");
        }
        thread = new Thread(this::run, name);
        thread.start();
    }

    /**
     * Signals closing, runs the wake-up and waits at most {@code wait} for the thread to end.
     *
     * @return whether the thread has ended (or was never started)
     */
    public boolean close(Duration wait) {
        closing.countDown();
        wakeup.run();
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t == null) {
            return true;
        }
        try {
            t.join(wait.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return !t.isAlive();
    }

    /** False once closing was signalled (or the thread was interrupted). */
    public boolean running() {
        return closing.getCount() > 0;
    }

    /**
     * Why the role is not working now: not started, stopped (closed, or its thread ended), or waiting to start again
     * after a failure; empty while a session runs.
     */
    public Optional<String> notReady() {
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t == null) {
            return Optional.of(name + " not started");
        }
        if (!running() || !t.isAlive()) {
            return Optional.of(name + " stopped");
        }
        RuntimeException failure = restarting;
        return failure == null ? Optional.empty()
                : Optional.of(name + " restarting after a failure: " + failure);
    }

    /** Tells the worker the session got something done, so the next failure starts the back-off over. */
    public void progressed() {
        progressed = true;
    }

    /**
     * Waits {@code d}, or less when closing is signalled; sessions use it for their own short pauses.
     *
     * @return false when closing
     */
    public boolean pause(Duration d) {
        try {
            return !closing.await(d.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            interrupted();
            return false;
        }
    }

    /**
     * For a session that caught {@link InterruptedException}: keeps the thread's interrupt status and stops the
     * worker, since an interrupt asks the thread to end.
     */
    public void interrupted() {
        Thread.currentThread().interrupt();
        closing.countDown();
    }

    private void run() {
        Duration delay = firstDelay;
        while (running()) {
            RuntimeException failure = null;
            restarting = null;
            try {
                session.run();
            } catch (WakeupException e) {
                if (!running()) {
                    break;
                }
                failure = e;
            } catch (InterruptedException e) {
                interrupted();
                break;
            } catch (RuntimeException e) {
                failure = e;
            } catch (Error e) {
                fatal.halt(name, e);
                break;
            }
            if (progressed) {
                // The last failure is behind us: a new one starts the back-off over.
                progressed = false;
                delay = firstDelay;
            }
            if (failure instanceof WakeupException) {
                log.error("{} consumer woken up unexpectedly; starting again in {}", name, delay, failure);
            } else if (failure != null) {
                log.error("{} failed; starting again with new Kafka clients in {}", name, delay, failure);
            }
            restarting = failure;
            if (!running() || !pause(delay)) {
                break;
            }
            delay = delay.multipliedBy(2).compareTo(lastDelay) > 0 ? lastDelay : delay.multipliedBy(2);
        }
    }
}
