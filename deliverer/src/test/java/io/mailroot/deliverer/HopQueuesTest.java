package io.mailroot.deliverer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.NextHop;
import io.mailroot.core.message.Recipient;
import io.mailroot.deliverer.DeliveryResult.Verdict;
import io.mailroot.testkit.Await;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The scheduler's bookkeeping when things go wrong, and which results still belong to this deliverer. */
class HopQueuesTest {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final TopicPartition TP = new TopicPartition("outbound", 0);

    private final ExecutorService pool = Executors.newCachedThreadPool();
    private final PartitionProgress progress = new PartitionProgress();
    private final List<Map.Entry<HopQueues.Job, List<DeliveryResult>>> done = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        pool.shutdownNow();
    }

    private static HopQueues.Job job(String id, PartitionProgress progress, long offset) {
        return job(id, NextHop.direct("remote.test"), progress, offset);
    }

    private static HopQueues.Job job(String id, NextHop hop, PartitionProgress progress, long offset) {
        Envelope env = Envelope.received(id, "alice@sender.test", List.of(Recipient.of("bob@remote.test")),
                Instant.now());
        return new HopQueues.Job(new MailRecord(env, "hi\r\n".getBytes(StandardCharsets.US_ASCII)),
                hop, TP, progress, offset);
    }

    private HopQueues queues(Function<NextHop, HopSender> senders, BiConsumer<HopQueues.Job, List<DeliveryResult>> d) {
        return new HopQueues(pool, 2, 20, senders, d);
    }

    private static HopSender broken(NextHop hop) {
        throw new IllegalStateException("injected: no sender");
    }

    @Test
    void aSenderThatCannotBeMadeDefersTheJobAndTheHopStillGetsThreadsLater() {
        HopQueues q = queues(HopQueuesTest::broken, (j, r) -> done.add(Map.entry(j, r)));

        q.submit(job("M1", progress, 0));
        Await.until("the first job was deferred", WAIT, () -> done.size() == 1);
        q.submit(job("M2", progress, 1));
        Await.until("the next job got a thread of its own", WAIT, () -> done.size() == 2);

        assertEquals(List.of("M1", "M2"), done.stream().map(e -> e.getKey().mail().envelope().id()).toList());
        assertTrue(done.stream().flatMap(e -> e.getValue().stream()).allMatch(r -> r.verdict() == Verdict.DEFERRED));
        q.close();
    }

    @Test
    void whenReportingFailsTheJobIsDeferredAndTheHopKeepsGoing() {
        AtomicInteger calls = new AtomicInteger();
        HopQueues q = queues(HopQueuesTest::broken, (j, r) -> {
            if (calls.incrementAndGet() == 1) {
                throw new IllegalStateException("injected: reporting failed");
            }
            done.add(Map.entry(j, r));
        });

        q.submit(job("M1", progress, 0));
        Await.until("the job was reported once more, as deferred", WAIT, () -> done.size() == 1);
        assertEquals("M1", done.get(0).getKey().mail().envelope().id());
        assertEquals(Verdict.DEFERRED, done.get(0).getValue().get(0).verdict());
        q.submit(job("M2", progress, 1));
        Await.until("the hop still delivers", WAIT, () -> done.size() == 2);
        q.close();
    }

    @Test
    void resultsCountOnlyWhileThePartitionIsStillOwnedUnderTheSameAssignment() {
        Map<TopicPartition, PartitionProgress> partitions = new HashMap<>();
        partitions.put(TP, progress);
        HopQueues.Job job = job("M1", progress, 0);
        assertTrue(DelivererRole.current(partitions, job));

        partitions.remove(TP);
        assertFalse(DelivererRole.current(partitions, job), "revoked");

        partitions.put(TP, new PartitionProgress());
        assertFalse(DelivererRole.current(partitions, job), "revoked and assigned again: the record is read again");
    }

    @Test
    void aGracefulFinishWaitsForTheJobUnderWay() {
        HopQueues q = queues(HopQueuesTest::broken, (j, r) -> done.add(Map.entry(j, r)));
        q.submit(job("M1", progress, 0));
        Await.until("the job was reported", WAIT, () -> done.size() == 1);

        assertTrue(q.finish(WAIT), "no thread left once the hop is idle");
        q.submit(job("M2", progress, 1));
        assertTrue(q.finish(WAIT));
        assertEquals(1, done.size(), "nothing is started after finish");
    }

    /**
     * How many delivery threads (so connections) a hop's queue starts for a backlog: each thread makes its sender
     * first, so counting the senders made while they are held counts the threads.
     */
    private int threadsFor(NextHop hop, int limit) throws Exception {
        java.util.concurrent.CountDownLatch hold = new java.util.concurrent.CountDownLatch(1);
        AtomicInteger senders = new AtomicInteger();
        HopQueues q = new HopQueues(pool, limit, 1, h -> {
            senders.incrementAndGet();
            try {
                hold.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("injected: no sender");
        }, (j, r) -> done.add(Map.entry(j, r)));
        int jobs = 20;
        for (int i = 0; i < jobs; i++) {
            q.submit(job("M" + i, hop, progress, i));
        }
        hold.countDown();
        Await.until("every job was reported", WAIT, () -> done.size() == jobs);
        // Every thread started has made its sender before it can leave, so once none is left the count is complete.
        assertTrue(q.finish(WAIT));
        q.close();
        done.clear();
        return senders.get();
    }

    @Test
    void eachShardOfAHopGetsItsPartOfTheConnectionLimit() throws Exception {
        assertEquals(6, threadsFor(NextHop.direct("remote.test"), 6), "one shard: the whole limit");
        assertEquals(2, threadsFor(new NextHop(null, "smart.test", null, 1, 3), 6), "ceil(6 / 3)");
        assertEquals(3, threadsFor(new NextHop(null, "smart.test", null, 0, 4), 10), "ceil(10 / 4)");
        assertEquals(1, threadsFor(new NextHop(null, "smart.test", null, 5, 6), 2), "at least one");
    }
}
