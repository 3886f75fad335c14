package io.mailroot.deliverer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class InFlightBudgetTest {

    @Test
    void claimsAreGrantedWhileTheyFitAndReleasedOnce() {
        InFlightBudget budget = new InFlightBudget(100);
        InFlightBudget.Claim a = budget.claim(60);
        InFlightBudget.Claim b = budget.claim(40);
        assertTrue(a.granted() && b.granted());
        assertEquals(100, budget.held());

        a.release();
        a.release();
        assertEquals(40, budget.held(), "a second release gives nothing back twice");
        assertFalse(a.granted());
        b.release();
        assertEquals(0, budget.held());
        assertEquals(0, budget.waits());
    }

    @Test
    void aClaimThatDoesNotFitWaitsAndLaterOnesQueueBehindIt() {
        InFlightBudget budget = new InFlightBudget(100);
        InFlightBudget.Claim a = budget.claim(60);
        InFlightBudget.Claim b = budget.claim(30);
        InFlightBudget.Claim big = budget.claim(40);
        InFlightBudget.Claim small = budget.claim(10);
        assertFalse(big.granted(), "90 held and 40 more would pass the limit");
        assertFalse(small.granted(), "it would fit, but a claim asked before it waits: no overtaking");
        assertEquals(2, budget.waiting());
        assertEquals(2, budget.waits());

        b.release();
        assertFalse(big.granted(), "60 held is not yet down to half of the limit");
        a.release();
        assertTrue(big.granted() && small.granted(), "nothing held: the waiters go in order while they fit");
        assertEquals(50, budget.held());
        assertEquals(0, budget.waiting());
    }

    @Test
    void waitersResumeOnlyOnceHalfTheBudgetIsFree() {
        InFlightBudget budget = new InFlightBudget(100);
        InFlightBudget.Claim[] tens = new InFlightBudget.Claim[10];
        for (int i = 0; i < tens.length; i++) {
            tens[i] = budget.claim(10);
        }
        InFlightBudget.Claim next = budget.claim(10);
        assertFalse(next.granted());
        for (int i = 0; i < 4; i++) {
            tens[i].release();
            assertFalse(next.granted(), "held " + budget.held() + ": a partition resumed now would pause again at once");
        }
        tens[4].release();
        assertTrue(next.granted(), "down to half");
        assertEquals(60, budget.held());
    }

    @Test
    void aRecordLargerThanTheBudgetGoesThroughAlone() {
        InFlightBudget budget = new InFlightBudget(100);
        InFlightBudget.Claim small = budget.claim(10);
        InFlightBudget.Claim huge = budget.claim(250);
        InFlightBudget.Claim after = budget.claim(10);
        assertFalse(huge.granted(), "something is held: the oversized record waits for it");
        assertFalse(after.granted());

        small.release();
        assertTrue(huge.granted(), "nothing else held: it goes, alone");
        assertFalse(after.granted(), "and nothing goes beside it");
        assertEquals(250, budget.held());

        huge.release();
        assertTrue(after.granted());
        assertEquals(10, budget.held());

        after.release();
        InFlightBudget.Claim alone = budget.claim(1000);
        assertTrue(alone.granted(), "an empty budget grants even an oversized claim at once");
    }

    @Test
    void aWaiterThatGivesUpLetsTheNextOneIn() {
        InFlightBudget budget = new InFlightBudget(100);
        InFlightBudget.Claim full = budget.claim(100);
        InFlightBudget.Claim gone = budget.claim(500);
        InFlightBudget.Claim waiting = budget.claim(10);
        gone.release();
        assertFalse(gone.granted());
        assertEquals(1, budget.waiting(), "the released waiter left the queue");
        full.release();
        assertTrue(waiting.granted());
        assertEquals(10, budget.held(), "the waiter that gave up holds nothing");
    }

    @Test
    void aPartitionGivesItsBytesBackWhenFinishedOrAbandonedAndThenCommitsNothing() {
        InFlightBudget budget = new InFlightBudget(1000);
        PartitionProgress p = new PartitionProgress();
        p.started(5, budget.claim(100));
        p.started(6, budget.claim(200));
        p.started(7, budget.claim(300));
        assertEquals(600, budget.held());
        p.finished(5);
        assertEquals(500, budget.held());
        assertEquals(6, p.commitOffset(-1));

        p.abandon();
        assertEquals(0, budget.held(), "a revoked partition's records hold nothing");
        assertEquals(-1, p.commitOffset(-1), "its unfinished records must be read again by the new owner");
        p.finished(6);
        p.started(8, budget.claim(50));
        assertEquals(0, budget.held(), "a late result or record changes nothing");
    }

    @Test
    void oneBudgetPerProcessForALimit() {
        assertSame(InFlightBudget.forProcess(3), InFlightBudget.forProcess(3));
        assertEquals(3L << 20, InFlightBudget.forProcess(3).limit());
        assertEquals(Runtime.getRuntime().maxMemory() / 100 * InFlightBudget.HEAP_PERCENT,
                InFlightBudget.forProcess(null).limit());
        assertThrows(IllegalArgumentException.class, () -> new InFlightBudget(0));
    }
}
