package io.mailroot.ingress.auth;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Bounds how many password hashes run at once in the process. Each check costs a PBKDF2 of 600,000 rounds (a
 * few hundred milliseconds of one core): unbounded, a few dozen connections sending bad passwords would pin every
 * core and starve the rest of the relay. A check waits a short while for a slot; one that gets none is answered
 * with a temporary failure, so a client retries later instead of piling up.
 */
public final class HashSlots {

    /** How long a check waits for a slot: a few hashes' time, then 454. */
    static final Duration WAIT = Duration.ofSeconds(5);

    /** Thrown when no slot came free within the wait. */
    public static final class Busy extends Exception {
        Busy() {
            super("no password hash slot free", null, false, false);
        }
    }

    private final Semaphore permits;
    private final int size;
    private final long waitNanos;

    HashSlots(int size, Duration wait) {
        this.permits = new Semaphore(size, true);
        this.size = size;
        this.waitNanos = wait.toNanos();
    }

    /** One slot per core, at least two. */
    public static HashSlots forThisMachine() {
        return new HashSlots(Math.max(2, Runtime.getRuntime().availableProcessors()), WAIT);
    }

    int size() {
        return size;
    }

    /** Runs the check in a slot. */
    public <T> T run(Supplier<T> check) throws Busy {
        boolean got;
        try {
            got = permits.tryAcquire(waitNanos, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            got = false;
        }
        if (!got) {
            throw new Busy();
        }
        try {
            return check.get();
        } finally {
            permits.release();
        }
    }
}
