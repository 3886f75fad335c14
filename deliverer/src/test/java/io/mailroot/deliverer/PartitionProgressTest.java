package io.mailroot.deliverer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** What a deliverer commits for a partition, given the consumer's position past a transaction marker. */
class PartitionProgressTest {

    private final InFlightBudget budget = new InFlightBudget(1000);

    @Test
    void withNothingInFlightThePositionPastTheMarkerIsCommitted() {
        PartitionProgress p = new PartitionProgress();
        p.started(0, budget.claim(10));
        p.started(1, budget.claim(10));
        p.finished(0);
        assertEquals(1, p.commitOffset(3), "never past a record not yet finished, whatever the position");
        p.finished(1);
        assertEquals(3, p.commitOffset(3), "records 0 and 1 and the marker at 2 are done");
        p.committed(3);
        assertEquals(-1, p.commitOffset(3), "committed once");
        assertEquals(2, new PartitionProgressWith(0, 1).commitOffset(-1), "without a position, last + 1 as before");
    }

    @Test
    void anIdlePartitionCommitsItsPositionOnceAndAnAbandonedOneNever() {
        PartitionProgress idle = new PartitionProgress();
        assertEquals(7, idle.commitOffset(7), "assigned after a marker left uncommitted: committed past it");
        assertEquals(-1, idle.commitOffset(-1), "no position yet, nothing taken: nothing to commit");
        idle.abandon();
        assertEquals(-1, idle.commitOffset(9));
    }

    /** A partition whose records from {@code first} to {@code last} were delivered. */
    private final class PartitionProgressWith {
        private final PartitionProgress p = new PartitionProgress();

        PartitionProgressWith(long first, long last) {
            for (long o = first; o <= last; o++) {
                p.started(o, budget.claim(1));
                p.finished(o);
            }
        }

        long commitOffset(long position) {
            return p.commitOffset(position);
        }
    }
}
