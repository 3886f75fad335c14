package io.mailroot.ingress.auth;

import java.net.InetAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Failed AUTH attempts per client address, to slow password guessing: each failure is answered a little later
 * than the one before, and after {@code maxFailures} the address may not try again for {@code lockout}. The map
 * is bounded (the oldest entries go first) and an entry is forgotten {@code lockout} after its last failure, so a
 * flood of addresses costs memory only up to the bound.
 */
public final class AuthFailures {

    private static final int MAX_ENTRIES = 10_000;

    private final int maxFailures;
    private final long lockoutNanos;
    private final Duration step;
    private final Duration maxDelay;
    private final Map<InetAddress, Entry> entries = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<InetAddress, Entry> eldest) {
            return size() > MAX_ENTRIES;
        }
    };

    private static final class Entry {
        int failures;
        long lastFailure;
        long lockedUntil;
    }

    /**
     * @param step the delay added per earlier failure before a 535 is sent
     * @param maxDelay the longest delay
     */
    public AuthFailures(int maxFailures, Duration lockout, Duration step, Duration maxDelay) {
        this.maxFailures = maxFailures;
        this.lockoutNanos = lockout.toNanos();
        this.step = step;
        this.maxDelay = maxDelay;
    }

    public AuthFailures(int maxFailures, Duration lockout) {
        this(maxFailures, lockout, Duration.ofMillis(500), Duration.ofSeconds(5));
    }

    /** Whether the address is refused for now. */
    public synchronized boolean lockedOut(InetAddress address) {
        Entry e = current(address, System.nanoTime());
        return e != null && e.lockedUntil != 0;
    }

    /** Counts a failure; returns how long to wait before answering it. */
    public synchronized Duration failed(InetAddress address) {
        long now = System.nanoTime();
        Entry e = current(address, now);
        if (e == null) {
            e = new Entry();
            entries.put(address, e);
        }
        e.failures++;
        e.lastFailure = now;
        if (e.failures >= maxFailures) {
            e.lockedUntil = now + lockoutNanos;
        }
        Duration delay = step.multipliedBy(e.failures - 1L);
        return delay.compareTo(maxDelay) > 0 ? maxDelay : delay;
    }

    public synchronized void succeeded(InetAddress address) {
        entries.remove(address);
    }

    /** The entry if it still counts: it expires {@code lockout} after its last failure or at the lockout's end. */
    private Entry current(InetAddress address, long now) {
        Entry e = entries.get(address);
        if (e == null) {
            return null;
        }
        boolean expired = e.lockedUntil != 0 ? now - e.lockedUntil >= 0 : now - e.lastFailure >= lockoutNanos;
        if (expired) {
            entries.remove(address);
            return null;
        }
        return e;
    }
}
