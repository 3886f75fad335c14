package io.mailroot.deliverer;

import java.util.TreeMap;

/**
 * Which records of one partition are still being delivered. Records finish out of order (a slow next hop must not
 * hold up the others), so the offset safe to commit is the lowest one not yet finished.
 */
final class PartitionProgress {

    private final TreeMap<Long, Integer> inFlight = new TreeMap<>();
    private long next = -1;
    private long bytes;
    private long committed = -1;

    synchronized void started(long offset, int size) {
        inFlight.put(offset, size);
        bytes += size;
        next = Math.max(next, offset + 1);
    }

    synchronized void finished(long offset) {
        Integer size = inFlight.remove(offset);
        if (size != null) {
            bytes -= size;
        }
    }

    /** The offset to commit (the next record to read after a restart), or -1 when nothing new is safe to commit. */
    synchronized long commitOffset() {
        if (next < 0) {
            return -1;
        }
        long offset = inFlight.isEmpty() ? next : inFlight.firstKey();
        return offset > committed ? offset : -1;
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
