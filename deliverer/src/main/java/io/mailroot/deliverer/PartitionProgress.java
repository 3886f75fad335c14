package io.mailroot.deliverer;

import java.util.TreeMap;

/**
 * Which records of one partition are still being delivered, and the in-flight budget each holds. Records finish out
 * of order (a slow next hop must not hold up the others), so the offset safe to commit is the lowest one not yet
 * finished.
 */
final class PartitionProgress {

    private final TreeMap<Long, InFlightBudget.Claim> inFlight = new TreeMap<>();
    private long next = -1;
    private long bytes;
    private long committed = -1;
    private boolean abandoned;

    /** A record taken for delivery, holding {@code claim} (granted) until it is finished or abandoned. */
    synchronized void started(long offset, InFlightBudget.Claim claim) {
        if (abandoned) {
            claim.release();
            return;
        }
        InFlightBudget.Claim before = inFlight.put(offset, claim);
        if (before != null) {
            bytes -= before.bytes();
            before.release();
        }
        bytes += claim.bytes();
        next = Math.max(next, offset + 1);
    }

    synchronized void finished(long offset) {
        InFlightBudget.Claim claim = inFlight.remove(offset);
        if (claim != null) {
            bytes -= claim.bytes();
            claim.release();
        }
    }

    /**
     * The partition is no longer ours (revoked, lost, or its consumer closed): gives back the budget of every record
     * not finished, and never offers an offset to commit again. The new owner reads those records again.
     */
    synchronized void abandon() {
        abandoned = true;
        inFlight.values().forEach(InFlightBudget.Claim::release);
        inFlight.clear();
        bytes = 0;
    }

    /**
     * The offset to commit (the next record to read after a restart), or -1 when nothing new is safe to commit.
     *
     * @param position the consumer's position in the partition, or -1 if unknown: with nothing in flight every record
     *     before it is finished, and it is past the transaction markers that last + 1 would leave uncommitted
     */
    synchronized long commitOffset(long position) {
        if (abandoned) {
            return -1;
        }
        long offset = !inFlight.isEmpty() ? inFlight.firstKey() : position >= 0 ? position : next;
        return offset >= 0 && offset > committed ? offset : -1;
    }

    synchronized void committed(long offset) {
        committed = Math.max(committed, offset);
    }

    synchronized int records() {
        return inFlight.size();
    }

    synchronized long bytes() {
        return bytes;
    }
}
