package io.mailroot.core.role;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.errors.WakeupException;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class RestartingWorkerTest {

    private static final Logger LOG = LoggerFactory.getLogger(RestartingWorkerTest.class);
    private static final Duration FIRST = Duration.ofMillis(50);
    private static final Duration LAST = Duration.ofMillis(400);
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(10);
    private static final FatalErrors NO_HALT = new FatalErrors((status, why) -> {
        throw new AssertionError("unexpected halt: " + why);
    });

    /** A session that blocks until woken, as a consumer in poll does, then throws what poll would throw. */
    private static final class BlockingSession {
        final CountDownLatch started = new CountDownLatch(1);
        final CountDownLatch woken = new CountDownLatch(1);
        final AtomicInteger runs = new AtomicInteger();

        void run() throws InterruptedException {
            runs.incrementAndGet();
            started.countDown();
            woken.await();
            throw new WakeupException();
        }
    }

    @Test
    void startsASessionOnANamedThreadAndStartsOnce() throws Exception {
        BlockingSession session = new BlockingSession();
        String[] thread = new String[1];
        RestartingWorker worker = new RestartingWorker("test-role", () -> {
            thread[0] = Thread.currentThread().getName();
            session.run();
        }, session.woken::countDown, LOG, FIRST, LAST, NO_HALT);
        assertTrue(worker.running());
        worker.start();
        assertTrue(session.started.await(10, TimeUnit.SECONDS));
        assertEquals("test-role", thread[0]);
        assertThrows(IllegalStateException.class, worker::start);
        assertTrue(worker.close(CLOSE_WAIT));
        assertFalse(worker.running());
    }

    @Test
    void restartsAfterFailuresWithADoublingBackOffThatProgressResets() throws Exception {
        List<Long> starts = new CopyOnWriteArrayList<>();
        CountDownLatch enough = new CountDownLatch(9);
        RestartingWorker[] worker = new RestartingWorker[1];
        worker[0] = new RestartingWorker("failing", () -> {
            starts.add(System.nanoTime());
            enough.countDown();
            if (starts.size() == 6) {
                worker[0].progressed();
            }
            throw new IllegalStateException("injected failure " + starts.size());
        }, () -> { }, LOG, FIRST, LAST, NO_HALT);
        worker[0].start();
        assertTrue(enough.await(10, TimeUnit.SECONDS));
        assertTrue(worker[0].close(CLOSE_WAIT));

        // Pauses before runs 2..9: 50, 100, 200, 400, 400 (the cap), then progress in run 6 resets them: 50, 100, 200.
        long[] expected = {50, 100, 200, 400, 400, 50, 100, 200};
        for (int i = 0; i < expected.length; i++) {
            long gap = TimeUnit.NANOSECONDS.toMillis(starts.get(i + 1) - starts.get(i));
            assertTrue(gap >= expected[i] - 5, "pause before run " + (i + 2) + " was " + gap + " ms");
        }
        long capped = TimeUnit.NANOSECONDS.toMillis(starts.get(5) - starts.get(4));
        assertTrue(capped < 750, "the back-off stops doubling at its cap, was " + capped + " ms");
        long afterReset = TimeUnit.NANOSECONDS.toMillis(starts.get(6) - starts.get(5));
        assertTrue(afterReset < 350, "the back-off starts over after progress, was " + afterReset + " ms");
    }

    @Test
    void closeDuringTheBackOffReturnsPromptly() throws Exception {
        CountDownLatch failed = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        RestartingWorker worker = new RestartingWorker("slow-restart", () -> {
            runs.incrementAndGet();
            failed.countDown();
            throw new IllegalStateException("injected failure");
        }, () -> { }, LOG, Duration.ofSeconds(60), Duration.ofSeconds(60), NO_HALT);
        worker.start();
        assertTrue(failed.await(10, TimeUnit.SECONDS));
        Thread.sleep(100);

        long began = System.nanoTime();
        assertTrue(worker.close(CLOSE_WAIT));
        long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began);
        assertTrue(took < 2000, "close took " + took + " ms");
        assertEquals(1, runs.get());
    }

    @Test
    void closeWakesABlockedSessionWhichEndsWithoutARestart() throws Exception {
        BlockingSession session = new BlockingSession();
        RestartingWorker worker = new RestartingWorker("blocked", session::run, session.woken::countDown, LOG,
                FIRST, LAST, NO_HALT);
        worker.start();
        assertTrue(session.started.await(10, TimeUnit.SECONDS));

        assertTrue(worker.close(CLOSE_WAIT));
        assertEquals(1, session.runs.get());
    }

    @Test
    void pauseEndsEarlyOnCloseAndCloseWithoutStartReturns() {
        RestartingWorker worker = new RestartingWorker("never-started", () -> { }, () -> { }, LOG, FIRST, LAST, NO_HALT);
        assertTrue(worker.pause(Duration.ofMillis(1)));
        assertTrue(worker.close(CLOSE_WAIT));
        long began = System.nanoTime();
        assertFalse(worker.pause(Duration.ofSeconds(60)));
        assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began) < 1000);
    }

    @Test
    void anInterruptedSessionEndsTheWorker() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        CountDownLatch ended = new CountDownLatch(1);
        RestartingWorker worker = new RestartingWorker("interrupted", () -> {
            runs.incrementAndGet();
            ended.countDown();
            throw new InterruptedException("injected");
        }, () -> { }, LOG, FIRST, LAST, NO_HALT);
        worker.start();
        assertTrue(ended.await(10, TimeUnit.SECONDS));
        assertTrue(worker.close(CLOSE_WAIT));
        assertEquals(1, runs.get());
    }

    @Test
    void anErrorInASessionHaltsTheProcessInsteadOfEndingTheRoleSilently() throws Exception {
        for (Error error : List.of(new StackOverflowError("injected"), new OutOfMemoryError("injected"))) {
            List<String> halts = new CopyOnWriteArrayList<>();
            CountDownLatch halted = new CountDownLatch(1);
            AtomicInteger runs = new AtomicInteger();
            FatalErrors recorder = new FatalErrors((status, why) -> {
                halts.add(status + " " + why);
                halted.countDown();
            });
            RestartingWorker worker = new RestartingWorker("doomed-role", () -> {
                runs.incrementAndGet();
                throw error;
            }, () -> { }, LOG, FIRST, LAST, recorder);
            worker.start();
            assertTrue(halted.await(10, TimeUnit.SECONDS), "no halt after " + error);
            assertTrue(worker.close(CLOSE_WAIT));
            assertEquals(1, halts.size());
            assertTrue(halts.get(0).startsWith(FatalErrors.EXIT_STATUS + " "), halts.get(0));
            assertTrue(FatalErrors.EXIT_STATUS != 0);
            assertTrue(halts.get(0).contains("doomed-role") && halts.get(0).contains(error.getClass().getName()),
                    halts.get(0));
            assertEquals(1, runs.get(), "an Error is not restarted in place");
        }
    }

    @Test
    void aRuntimeExceptionStillRestartsWithoutHalting() throws Exception {
        CountDownLatch restarted = new CountDownLatch(2);
        RestartingWorker worker = new RestartingWorker("restarting", () -> {
            restarted.countDown();
            throw new IllegalStateException("injected");
        }, () -> { }, LOG, FIRST, LAST, NO_HALT);
        worker.start();
        assertTrue(restarted.await(10, TimeUnit.SECONDS));
        assertTrue(worker.close(CLOSE_WAIT));
    }

    @Test
    void aScheduledTaskSurvivesARuntimeExceptionAndHaltsOnAnError() {
        List<Integer> halts = new CopyOnWriteArrayList<>();
        FatalErrors recorder = new FatalErrors((status, why) -> halts.add(status));
        AtomicInteger runs = new AtomicInteger();
        Runnable task = recorder.everyRun("watchdog", () -> {
            if (runs.incrementAndGet() == 1) {
                throw new IllegalStateException("injected");
            }
            throw new StackOverflowError("injected");
        });
        task.run();
        assertEquals(List.of(), halts, "a RuntimeException does not halt, nor escape to cancel the task");
        task.run();
        assertEquals(List.of(FatalErrors.EXIT_STATUS), halts);

        Thread.UncaughtExceptionHandler handler = recorder.uncaughtHandler();
        handler.uncaughtException(new Thread("pickup"), new IllegalStateException("injected"));
        assertEquals(1, halts.size());
        handler.uncaughtException(new Thread("pickup"), new OutOfMemoryError("injected"));
        assertEquals(2, halts.size());
    }

    @Test
    void notReadyWhileRestartingAfterAFailureAndOnceStopped() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        CountDownLatch second = new CountDownLatch(1);
        CountDownLatch woken = new CountDownLatch(1);
        // a long back-off, so the worker is seen waiting between the failed session and the next
        RestartingWorker worker = new RestartingWorker("flaky", () -> {
            if (runs.incrementAndGet() == 1) {
                throw new IllegalStateException("broker gone");
            }
            second.countDown();
            woken.await();
            throw new WakeupException();
        }, woken::countDown, LOG, Duration.ofSeconds(2), Duration.ofSeconds(2), NO_HALT);
        assertEquals("flaky not started", worker.notReady().orElseThrow());
        worker.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (worker.notReady().isEmpty() && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertTrue(worker.notReady().orElseThrow().startsWith("flaky restarting after a failure: "
                + "java.lang.IllegalStateException: broker gone"), worker.notReady().toString());
        assertTrue(second.await(10, TimeUnit.SECONDS));
        assertTrue(worker.notReady().isEmpty(), worker.notReady().toString());
        assertTrue(worker.close(CLOSE_WAIT));
        assertEquals("flaky stopped", worker.notReady().orElseThrow());
    }
}
