package io.mailroot.ingress.auth;

import java.net.InetAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Failed AUTH attempts per client address, to slow password guessing: each failure is answered a little later
 * than the one before, and after {@code maxFailures} the address may not try again for {@code lockout}.
 *
 * <p>An attempt counts as a failure from the moment it is {@linkplain #admit admitted}, before its password hash
 * is checked, until the check says otherwise: so parallel connections from one address cannot all slip past
 * {@code maxFailures} while their hashes run. At most {@code maxFailures} attempts of an address are checked at
 * once; the others hear 454 (a temporary failure, not a lockout).
 *
 * <p>The map is bounded (the oldest entries go first) and an entry is forgotten {@code lockout} after its last
 * failure, so a flood of addresses costs memory only up to the bound.
 */
public final class AuthFailures {

    /** Whether an attempt may have its password checked. */
    public enum Admission {
        ADMITTED,
        /** maxFailures reached: refused until the lockout ends */
        LOCKED_OUT,
        /** failures and attempts under way reach maxFailures: refused for now, nothing counted */
        TOO_MANY_AT_ONCE
    }

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
        int checking;
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

    /**
     * Asks to check a password: when admitted, the attempt counts as a failure until {@link #succeeded},
     * {@link #failed} or {@link #notChecked} resolves it, and one of them must follow.
     */
    public synchronized Admission admit(InetAddress address) {
        long now = System.nanoTime();
        Entry e = current(address, now);
        if (e == null) {
            e = new Entry();
            entries.put(address, e);
        }
        if (e.lockedUntil != 0) {
            return Admission.LOCKED_OUT;
        }
        if (e.failures + e.checking >= maxFailures) {
            return Admission.TOO_MANY_AT_ONCE;
        }
        e.checking++;
        return Admission.ADMITTED;
    }

    /** Resolves an admitted attempt as a failure; returns how long to wait before answering it. */
    public synchronized Duration failed(InetAddress address) {
        long now = System.nanoTime();
        Entry e = entries.get(address);
        if (e == null) {
            // Pushed out of the bounded map, or cleared by a success meanwhile: the failure still counts.
            e = new Entry();
            entries.put(address, e);
        } else if (e.checking > 0) {
            e.checking--;
        }
        e.failures++;
        e.lastFailure = now;
        if (e.failures >= maxFailures) {
            e.lockedUntil = now + lockoutNanos;
        }
        Duration delay = step.multipliedBy(e.failures - 1L);
        return delay.compareTo(maxDelay) > 0 ? maxDelay : delay;
    }

    /** Resolves an admitted attempt as a success: the address's failures are forgiven. */
    public synchronized void succeeded(InetAddress address) {
        entries.remove(address);
    }

    /** Resolves an admitted attempt whose password was never checked (no hash slot came free). */
    public synchronized void notChecked(InetAddress address) {
        Entry e = entries.get(address);
        if (e != null && e.checking > 0) {
            e.checking--;
        }
    }

    /** The entry if it still counts: it expires {@code lockout} after its last failure or at the lockout's end. */
    private Entry current(InetAddress address, long now) {
        Entry e = entries.get(address);
        if (e == null) {
            return null;
        }
        if (e.checking > 0) {
            return e;
        }
        boolean expired = e.lockedUntil != 0 ? now - e.lockedUntil >= 0
                : e.failures == 0 || now - e.lastFailure >= lockoutNanos;
        if (expired) {
            entries.remove(address);
            return null;
        }
        return e;
    }
}
