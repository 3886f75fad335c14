package io.mailroot.deliverer;

import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bytes of mail the deliverers of one process may hold at once: read from {@code outbound} and not yet finished
 * (delivered, or its follow-ups acknowledged). Shared by every partition of every deliverer in the process, so a
 * backlog larger than the heap is read only as fast as it is delivered.
 *
 * <p>A claim that does not fit waits, and while any claim waits no later one is granted, so a large record is never
 * starved by a stream of small ones. Waiting claims are granted in order once what is held has fallen to half the
 * limit (so a paused partition resumes with room for a whole fetch, not one record at a time) and the claim fits; or
 * as soon as nothing at all is held: a record larger than the whole budget goes through alone, and nothing deadlocks
 * as long as every claim is released.
 */
final class InFlightBudget {

    private static final Logger LOG = LoggerFactory.getLogger(InFlightBudget.class);
    /** The share of the heap the deliverers may hold when {@code delivery.maxInFlightMb} is not set. */
    static final int HEAP_PERCENT = 25;
    /** One budget per limit: a process has one configuration, so one budget; tests with other limits get theirs. */
    private static final Map<Long, InFlightBudget> PROCESS = new ConcurrentHashMap<>();

    private final long limit;
    private final ArrayDeque<Claim> waiting = new ArrayDeque<>();
    private long held;
    private long waits;

    InFlightBudget(long limit) {
        if (limit <= 0) {
            throw new IllegalArgumentException("an in-flight budget needs a positive limit, not " + limit);
        }
        this.limit = limit;
    }

    /** The process's budget: {@code maxInFlightMb} megabytes, or a quarter of the heap when that is null. */
    static InFlightBudget forProcess(Integer maxInFlightMb) {
        long heap = Runtime.getRuntime().maxMemory();
        long limit = maxInFlightMb != null ? maxInFlightMb * 1024L * 1024 : heap / 100 * HEAP_PERCENT;
        return PROCESS.computeIfAbsent(limit, l -> {
            LOG.info("deliverer in-flight budget: {} MB ({}; the heap is {} MB)", "%.1f".formatted(l / 1048576.0),
                    maxInFlightMb != null ? "delivery.maxInFlightMb" : HEAP_PERCENT + "% of the heap", heap >> 20);
            return new InFlightBudget(l);
        });
    }

    /** Asks for {@code bytes}; the claim is granted now, or waits (see {@link Claim#granted()}) until released. */
    synchronized Claim claim(long bytes) {
        Claim c = new Claim(Math.max(0, bytes));
        if (waiting.isEmpty() && fits(c.bytes)) {
            grant(c);
        } else {
            c.state = State.WAITING;
            waiting.add(c);
            waits++;
        }
        return c;
    }

    private boolean fits(long bytes) {
        return held == 0 || held + bytes <= limit;
    }

    private void grant(Claim c) {
        c.state = State.HELD;
        held += c.bytes;
    }

    /** Grants waiting claims in order, once what is held is down to half the limit (or nothing is held). */
    private void grantWaiting() {
        while (!waiting.isEmpty() && (held == 0 || held <= limit / 2 && fits(waiting.peek().bytes))) {
            grant(waiting.poll());
        }
    }

    long limit() {
        return limit;
    }

    synchronized long held() {
        return held;
    }

    synchronized int waiting() {
        return waiting.size();
    }

    /** How many claims have had to wait since the budget was made: the times back-pressure was applied. */
    synchronized long waits() {
        return waits;
    }

    private enum State { WAITING, HELD, RELEASED }

    /** Some bytes asked of the budget: granted (held) or waiting, until released. */
    final class Claim {
        private final long bytes;
        private State state;

        private Claim(long bytes) {
            this.bytes = bytes;
        }

        long bytes() {
            return bytes;
        }

        /** Whether the bytes are held for this claim (now, or since a release made room). */
        boolean granted() {
            synchronized (InFlightBudget.this) {
                return state == State.HELD;
            }
        }

        /** Gives the bytes back, or gives up waiting; a second call does nothing. */
        void release() {
            synchronized (InFlightBudget.this) {
                if (state == State.HELD) {
                    held -= bytes;
                } else if (state == State.WAITING) {
                    waiting.remove(this);
                }
                state = State.RELEASED;
                grantWaiting();
            }
        }
    }
}
