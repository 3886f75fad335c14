package io.mailroot.launcher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.TopicCreator;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.NextHop;
import io.mailroot.core.message.Recipient;
import io.mailroot.testkit.Await;
import io.mailroot.testkit.DnsResponder;
import io.mailroot.testkit.FreePorts;
import io.mailroot.testkit.PeerScript;
import io.mailroot.testkit.SharedKafka;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 7's "memory stays inside the heap": every role but the broker in one child JVM with {@code -Xmx256m},
 * 20,000 queued messages of about 24 KB (far more than the heap) spread over all partitions of {@code outbound},
 * and a next hop that answers each message slowly. The deliverer must hold only its in-flight budget, pause its
 * partitions when the budget is full, and go on delivering (correctly) without an OutOfMemoryError.
 */
class DeliveryMemoryTest {

    private static final int MESSAGES = 20_000;
    private static final int PARTITIONS = 6;
    private static final int BODY_BYTES = 18 * 1024; // base64 makes about 24 KB of it
    private static final String HEAP = "256m";
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Pattern SUBJECT = Pattern.compile("(?m)^Subject: mem-(\\d+)\r?$");
    private static final Pattern GC_PAUSE = Pattern.compile("(\\d+)M->(\\d+)M\\((\\d+)M\\)");
    private static final String BUDGET_FULL = "in-flight budget full";

    @TempDir
    Path dir;

    private KillNineRelay child;
    private PeerScript peer;
    private DnsResponder dns;

    @AfterEach
    void stop() throws IOException {
        if (child != null) {
            child.close();
            Path kept = Path.of("target", "delivery-memory");
            Files.createDirectories(kept);
            for (String name : List.of("relay.log", "gc.log")) {
                if (Files.exists(dir.resolve(name))) {
                    Files.copy(dir.resolve(name), kept.resolve(name), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        if (peer != null) {
            peer.close();
        }
        if (dns != null) {
            dns.close();
        }
    }

    @Test
    void aSlowNextHopAndAQueueLargerThanTheHeapStayInsideTheHeap() throws Exception {
        String bootstrap = SharedKafka.bootstrap();
        String prefix = SharedKafka.uniquePrefix("memory");
        Topics topics = new Topics(prefix, 4);
        TopicCreator.ensure(bootstrap, topics, PARTITIONS, (short) 1);

        // Slow: each message waits before its 250, over few connections, so the backlog can only be held, not sent.
        peer = new PeerScript();
        peer.on(PeerScript.Command.END_OF_DATA, PeerScript.Reply.after(Duration.ofMillis(25), "250 2.0.0 queued"));
        dns = new DnsResponder().mx("slow.test", 10, "mx.slow.test").a("mx.slow.test", "127.0.0.1");
        int smtpPort = FreePorts.next();
        Path config = dir.resolve("mailroot.yml");
        Files.writeString(config, """
                fqdn: relay.test
                dataDir: %s
                localDomains: [local.test]
                kafka: { bootstrap: "%s", topicPrefix: "%s", partitions: %d, replicationFactor: 1,
                         security: { protocol: SASL_PLAINTEXT },
                         sasl: { mechanism: PLAIN, username: mailroot, password: "%s" } }
                dns: { servers: ["%s"], timeout: 2s }
                virtualServers:
                  - port: %d
                    tls: { enabled: false }
                delivery:
                  outboundPort: %d
                  maxConnectionsPerDomain: 8
                  outboundTimeout: 30s
                """.formatted(dir.resolve("data"), bootstrap, prefix, PARTITIONS, brokerSecret(), dns.address(), smtpPort,
                peer.port()), StandardCharsets.UTF_8);
        Path log = dir.resolve("relay.log");
        Path gcLog = dir.resolve("gc.log");
        child = new KillNineRelay(config, log, smtpPort,
                List.of("-Xmx" + HEAP, "-XX:+ExitOnOutOfMemoryError", "-Xlog:gc:file=" + gcLog),
                List.of("run", "ingress", "router", "deliverer", "retry", "drop", "ndr"));
        long t0 = System.nanoTime();
        child.start();
        long started = System.nanoTime();
        LogWatch watch = new LogWatch(log);
        long idleHeap = liveHeapMb(gcLog);

        long queuedBytes = queue(new KafkaClients(bootstrap, prefix), topics.outbound());
        long queued = System.nanoTime();
        watch.check(child);
        // Twice full: the first fill is delivered down to half, the partitions resume, and the budget fills again.
        Await.until("the deliverer pausing twice on its in-flight budget", Duration.ofSeconds(90), () -> {
            watch.check(child);
            return watch.budgetFull >= 2;
        });
        long full = System.nanoTime();
        long loadedHeap = liveHeapMb(gcLog);
        watch.check(child);

        List<PeerScript.Transaction> accepted = peer.accepted();
        for (PeerScript.Transaction t : accepted) {
            Matcher m = SUBJECT.matcher(new String(t.data(), StandardCharsets.ISO_8859_1));
            assertTrue(m.find(), "a delivered message without its subject");
            int i = Integer.parseInt(m.group(1));
            assertEquals("sender@client.test", t.sender());
            assertEquals(List.of("user" + i + "@slow.test"), t.recipients());
            assertArrayEquals(message(i), t.data(), "message " + i + " arrived changed");
        }
        long distinct = accepted.stream().map(t -> t.recipients().get(0)).distinct().count();
        Heap heap = Heap.of(gcLog);
        System.out.printf("DeliveryMemory: child up in %d ms; queued %d messages (%d MB) in %d ms; budget full twice"
                        + " %d ms later, %d delivered (%d distinct) by then%n"
                        + "  -Xmx%s: live heap (after a full GC) %d MB idle, %d MB with the budget full; %d"
                        + " collections, heap after a young GC at most %d MB, before at most %d MB%n  %s%n",
                ms(started - t0), MESSAGES, queuedBytes >> 20, ms(queued - started), ms(full - queued),
                accepted.size(), distinct, HEAP, idleHeap, loadedHeap, heap.collections, heap.maxAfter,
                heap.maxBefore, watch.budgetLine);
        assertTrue(accepted.size() > 1000, "the slow hop got " + accepted.size());
        assertEquals(accepted.size(), distinct, "a message was delivered twice");
        // What is held is the budget (a quarter of the heap) over what the process needs anyway.
        assertTrue(loadedHeap - idleHeap <= 256 / 4 + 32, "live heap " + idleHeap + " MB idle, " + loadedHeap
                + " MB with the budget full");
    }

    /** The child's live heap: a full collection asked for with jcmd, as its GC log reports it. */
    private long liveHeapMb(Path gcLog) throws Exception {
        long before = Heap.of(gcLog).fullCollections;
        Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                String.valueOf(child.current().pid()), "GC.run").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        assertTrue(jcmd.waitFor(30, java.util.concurrent.TimeUnit.SECONDS) && jcmd.exitValue() == 0,
                "jcmd GC.run failed");
        return Await.value("a full collection in the GC log", Duration.ofSeconds(10), () -> {
            try {
                Heap h = Heap.of(gcLog);
                return h.fullCollections > before ? h.lastFull : null;
            } catch (IOException e) {
                return null;
            }
        });
    }

    /** Writes the backlog straight to outbound, spread over every partition, as routed remote mail. */
    private static long queue(KafkaClients clients, String outbound) {
        long bytes = 0;
        Instant now = Instant.now();
        NextHop hop = NextHop.direct("slow.test");
        try (KafkaProducer<String, byte[]> producer = clients.producer("memory-test")) {
            for (int i = 0; i < MESSAGES; i++) {
                Envelope env = Envelope.received("mem-" + i, "sender@client.test",
                        List.of(Recipient.of("user" + i + "@slow.test")), now).withNextHop(hop);
                RecordHeaders headers = new RecordHeaders();
                headers.add(new RecordHeader(EnvelopeCodec.HEADER, EnvelopeCodec.encode(env)));
                byte[] value = message(i);
                bytes += value.length;
                producer.send(new ProducerRecord<>(outbound, i % PARTITIONS, hop.key(), value, headers));
            }
            producer.flush();
        }
        return bytes;
    }

    /** Message {@code i}: headers and a base64 body of random bytes (as an attachment would be), made again to check. */
    static byte[] message(int i) {
        byte[] raw = new byte[BODY_BYTES];
        new SplittableRandom(i).nextBytes(raw);
        String body = Base64.getMimeEncoder().encodeToString(raw);
        return ("From: <sender@client.test>\r\nTo: <user" + i + "@slow.test>\r\nSubject: mem-" + i
                + "\r\nMessage-ID: <mem-" + i + "@client.test>\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n" + body
                + "\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    private static long ms(long nanos) {
        return nanos / 1_000_000;
    }

    /** Reads the child's log as it grows: fails at once on an OutOfMemoryError or a dead child. */
    private static final class LogWatch {
        private final Path log;
        private long position;
        private final StringBuilder partial = new StringBuilder();
        int budgetFull;
        String budgetLine = "";

        LogWatch(Path log) {
            this.log = log;
        }

        void check(KillNineRelay child) {
            try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "r")) {
                if (f.length() > position) {
                    byte[] more = new byte[(int) (f.length() - position)];
                    f.seek(position);
                    f.readFully(more);
                    position += more.length;
                    partial.append(new String(more, StandardCharsets.UTF_8));
                }
            } catch (IOException e) {
                throw new AssertionError("cannot read the child's log " + log, e);
            }
            int end;
            while ((end = partial.indexOf("\n")) >= 0) {
                String line = partial.substring(0, end);
                partial.delete(0, end + 1);
                if (line.contains("OutOfMemoryError")) {
                    throw new AssertionError("the child ran out of memory: " + line + "\n" + child.logTail());
                }
                if (line.contains(BUDGET_FULL)) {
                    budgetFull++;
                    budgetLine = line;
                }
            }
            if (!child.current().isAlive()) {
                throw new AssertionError("the child JVM exited with " + child.current().exitValue() + ":\n"
                        + child.logTail());
            }
        }
    }

    /** What the child's GC log says of its heap (G1 and Serial both write "before->after(capacity)"). */
    private record Heap(int collections, long maxBefore, long maxAfter, int fullCollections, long lastFull) {
        static Heap of(Path gcLog) throws IOException {
            int n = 0;
            int fulls = 0;
            long maxBefore = 0;
            long maxAfter = 0;
            long lastFull = 0;
            for (String line : Files.readAllLines(gcLog, StandardCharsets.UTF_8)) {
                Matcher m = GC_PAUSE.matcher(line);
                if (!m.find()) {
                    continue;
                }
                long after = Long.parseLong(m.group(2));
                if (line.contains("Pause Full")) {
                    fulls++;
                    lastFull = after;
                } else if (line.contains("Pause Young")) {
                    n++;
                    maxBefore = Math.max(maxBefore, Long.parseLong(m.group(1)));
                    maxAfter = Math.max(maxAfter, after);
                }
            }
            return new Heap(n, maxBefore, maxAfter, fulls, lastFull);
        }
    }

    /** The child JVM is an outside client of the test broker: it needs the broker's credentials in its config. */
    private static String brokerSecret() throws java.io.IOException {
        return java.nio.file.Files.readString(SharedKafka.secretFile()).trim();
    }
}
