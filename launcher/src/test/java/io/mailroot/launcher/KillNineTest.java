package io.mailroot.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.testkit.Await;
import io.mailroot.testkit.DnsResponder;
import io.mailroot.testkit.FreePorts;
import io.mailroot.testkit.ScriptedSmtpServer;
import io.mailroot.testkit.SmtpTestClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 2's promise "kill -9 loses nothing that was acknowledged", tested on the real command: {@code mailroot
 * start} runs as a separate JVM with its own embedded broker, is killed with SIGKILL while mail is moving through
 * it, and is started again on the same data folder. Every message that got 250 must then arrive (at least once).
 */
class KillNineTest {

    private static final Duration DELIVERY_WAIT = Duration.ofSeconds(90);
    private static final Pattern SUBJECT = Pattern.compile("(?m)^Subject: (killnine-\\S+)\r?$");

    @TempDir
    Path dir;

    private KillNineRelay relay;
    private DnsResponder dns;
    private ScriptedSmtpServer mx;
    private int smtpPort;
    private final String run = UUID.randomUUID().toString().substring(0, 8);

    @BeforeEach
    void ports() {
        smtpPort = FreePorts.next();
    }

    @AfterEach
    void stop() throws IOException {
        if (relay != null) {
            relay.close();
            // The child's log outlives the temporary folder, for a failure to be read afterwards.
            Path kept = Path.of("target", "killnine");
            Files.createDirectories(kept);
            Path log = dir.resolve("relay.log");
            if (Files.exists(log)) {
                Files.copy(log, kept.resolve("relay-" + run + ".log"), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        if (mx != null) {
            mx.close();
        }
        if (dns != null) {
            dns.close();
        }
    }

    private void writeConfig(String dnsServer, int outboundPort) throws IOException {
        int brokerPort = KillNineRelay.freeBrokerPortPair(smtpPort);
        String yaml = """
                fqdn: relay.test
                dataDir: %s
                localDomains: [local.test]
                kafka: { bootstrap: embedded, embeddedPort: %d }
                dns: { servers: ["%s"], timeout: 2s }
                virtualServers:
                  - port: %d
                    tls: { enabled: false }
                    relay: { allow: [127.0.0.0/8] }
                delivery:
                  retryIntervals: [2s]
                  outboundPort: %d
                  outboundTimeout: 20s
                """.formatted(dir.resolve("data"), brokerPort, dnsServer, smtpPort, outboundPort);
        Path file = dir.resolve("mailroot.yml");
        Files.writeString(file, yaml, StandardCharsets.UTF_8);
        relay = new KillNineRelay(file, dir.resolve("relay.log"), smtpPort);
    }

    private static String message(String to, String subject) {
        return "From: <alice@client.test>\r\nTo: <" + to + ">\r\nSubject: " + subject + "\r\nMessage-ID: <" + subject
                + "@client.test>\r\n\r\nmessage " + subject + "\r\n";
    }

    private Path dropDir() {
        return dir.resolve("data").resolve("mailroot").resolve("Drop");
    }

    private final Map<Path, String> subjectsByFile = new ConcurrentHashMap<>();

    /** The subject of every finished .eml in Drop (a file is renamed into place whole, so it is read once). */
    private List<String> dropSubjects() {
        try (Stream<Path> files = Files.list(dropDir())) {
            files.filter(p -> p.getFileName().toString().endsWith(".eml") && !p.getFileName().toString().startsWith("."))
                    .forEach(p -> subjectsByFile.computeIfAbsent(p, KillNineTest::subjectOf));
        } catch (IOException e) {
            return List.of();
        }
        return subjectsByFile.values().stream().filter(s -> !s.isEmpty()).toList();
    }

    private static String subjectOf(Path file) {
        try {
            Matcher m = SUBJECT.matcher(Files.readString(file, StandardCharsets.ISO_8859_1));
            return m.find() ? m.group(1) : "";
        } catch (IOException e) {
            return "";
        }
    }

    /**
     * One kill covers both promises (each restart after kill -9 costs the consumer-group session time-out, so one
     * restart keeps the test short): local mail in flight between ingress, inbound, router, local and the Drop
     * writer, and remote mail cycling through retry.1 against a next hop that answers 451.
     */
    @Test
    void acknowledgedMailSurvivesKillNine() throws Exception {
        mx = new ScriptedSmtpServer("127.0.0.1", 0);
        String[] busy = new String[10_000];
        Arrays.fill(busy, "451 4.3.0 try again later");
        mx.dataReplies(busy);
        dns = new DnsResponder().mx("retry.test", 10, "mx.retry.test").a("mx.retry.test", "127.0.0.1");
        writeConfig(dns.address(), mx.port());
        long t0 = System.nanoTime();
        relay.start();
        long started = System.nanoTime();

        // The pipeline is flowing end to end before the burst: a first local message reaches Drop.
        String warmUp = "killnine-" + run + "-warmup";
        try (SmtpTestClient client = new SmtpTestClient("127.0.0.1", smtpPort)) {
            SmtpTestClient.expect(client.command("EHLO client.test"), "250");
            SmtpTestClient.expect(client.send("alice@client.test", List.of("first@local.test"),
                    message("first@local.test", warmUp)), "250");
            client.command("QUIT");
        }
        Await.until("the first local message in Drop", DELIVERY_WAIT, () -> dropSubjects().contains(warmUp));
        long flowing = System.nanoTime();

        // Remote mail in retry: every message refused at least twice, so each has been through retry.1 and back.
        int m = 10;
        Set<String> remoteAcknowledged = new TreeSet<>();
        try (SmtpTestClient client = new SmtpTestClient("127.0.0.1", smtpPort)) {
            SmtpTestClient.expect(client.command("EHLO client.test"), "250");
            for (int i = 0; i < m; i++) {
                String subject = "killnine-" + run + "-remote-" + i;
                String to = "user" + i + "@retry.test";
                SmtpTestClient.expect(client.send("alice@client.test", List.of(to), message(to, subject)), "250");
                remoteAcknowledged.add(subject);
            }
            client.command("QUIT");
        }
        Await.until("two refused attempts per remote message", DELIVERY_WAIT, () -> mx.dataAttempts() >= 2 * m);

        // The burst: N local messages over a few connections; SIGKILL right after the killAt-th 250, while the
        // other connections are mid-transaction and the burst is between topics.
        int n = 200;
        int connections = 4;
        int killAt = n * 3 / 4;
        Set<String> acknowledged = ConcurrentHashMap.newKeySet();
        Set<String> unanswered = ConcurrentHashMap.newKeySet();
        AtomicInteger acks = new AtomicInteger();
        CountDownLatch killed = new CountDownLatch(1);
        int[] dropAtKill = new int[1];
        int[] attemptsAtKill = new int[1];
        long[] killedAt = new long[1];
        List<Thread> senders = new ArrayList<>();
        List<String> errors = Collections.synchronizedList(new ArrayList<>());
        long burst = System.nanoTime();
        for (int c = 0; c < connections; c++) {
            int conn = c;
            Thread t = new Thread(() -> {
                try (SmtpTestClient client = new SmtpTestClient("127.0.0.1", smtpPort)) {
                    SmtpTestClient.expect(client.command("EHLO client.test"), "250");
                    for (int i = conn; i < n; i += connections) {
                        String subject = "killnine-" + run + "-" + i;
                        String to = "user" + (i % 7) + "@local.test";
                        String reply;
                        try {
                            reply = client.send("alice@client.test", List.of(to), message(to, subject));
                        } catch (IOException e) {
                            // The relay died under this transaction: no 250, so the client still owns the message.
                            unanswered.add(subject);
                            return;
                        }
                        if (reply.startsWith("250")) {
                            acknowledged.add(subject);
                            if (acks.incrementAndGet() == killAt) {
                                relay.killNine();
                                killedAt[0] = System.nanoTime();
                                attemptsAtKill[0] = mx.dataAttempts();
                                dropAtKill[0] = (int) dropSubjects().stream().filter(acknowledged::contains).count();
                                killed.countDown();
                            }
                        } else {
                            errors.add(subject + ": " + reply);
                        }
                    }
                } catch (IOException e) {
                    if (killed.getCount() > 0) {
                        errors.add("connection " + conn + ": " + e);
                    }
                }
            }, "killnine-sender-" + c);
            senders.add(t);
            t.start();
        }
        for (Thread t : senders) {
            t.join(60_000);
        }
        assertTrue(errors.isEmpty(), "unexpected replies before the kill: " + errors + "\n" + relay.logTail());
        assertEquals(0, killed.getCount(), "the relay was killed after " + killAt + " acknowledgements");
        int acked = acknowledged.size();

        long restartBegan = System.nanoTime();
        relay.start();
        long restarted = System.nanoTime();
        mx.dataReplies(); // from now on the next hop accepts
        Set<String> localExpected = new TreeSet<>(acknowledged);
        localExpected.add(warmUp);
        long[] localDone = new long[1];
        long[] remoteDone = new long[1];
        try {
            Await.until("every acknowledged message delivered after kill -9 and restart", DELIVERY_WAIT, () -> {
                if (localDone[0] == 0 && dropSubjects().containsAll(localExpected)) {
                    localDone[0] = System.nanoTime();
                }
                if (remoteDone[0] == 0 && receivedSubjects().containsAll(remoteAcknowledged)) {
                    remoteDone[0] = System.nanoTime();
                }
                return localDone[0] != 0 && remoteDone[0] != 0;
            });
        } catch (AssertionError e) {
            Set<String> localMissing = new TreeSet<>(localExpected);
            localMissing.removeAll(dropSubjects());
            Set<String> remoteMissing = new TreeSet<>(remoteAcknowledged);
            remoteMissing.removeAll(receivedSubjects());
            throw new AssertionError(e.getMessage() + "\n" + localMissing.size() + " of " + localExpected.size()
                    + " acknowledged local messages missing from Drop: " + localMissing + "\n" + remoteMissing.size()
                    + " of " + m + " remote messages not delivered: " + remoteMissing + "\nrelay log:\n"
                    + relay.logTail(), e);
        }

        List<String> subjects = dropSubjects();
        Map<String, Long> counts = subjects.stream().collect(Collectors.groupingBy(s -> s, Collectors.counting()));
        long unackedDelivered = unanswered.stream().filter(counts::containsKey).count();
        Map<String, Long> localDuplicates = duplicates(subjects);
        List<String> got = receivedSubjects();
        Map<String, Long> remoteDuplicates = duplicates(got);
        System.out.printf("KillNine: first start %d ms (SMTP answering), pipeline flowing after %d ms more%n"
                        + "  local: %d acknowledged in %d ms, %d of them already in Drop at the kill (%d in flight); "
                        + "%d transactions cut off by the kill (%d of them delivered anyway)%n"
                        + "  remote: %d in retry, %d refused attempts before the kill%n"
                        + "  restart %d ms (SMTP answering); all local in Drop %d ms and all remote delivered %d ms "
                        + "after that%n"
                        + "  Drop: %d files, duplicated: %s; next hop: %d deliveries, duplicated: %s%n",
                ms(started - t0), ms(flowing - started), acked, ms(killedAt[0] - burst), dropAtKill[0],
                acked - dropAtKill[0], unanswered.size(), unackedDelivered, m, attemptsAtKill[0],
                ms(restarted - restartBegan), ms(localDone[0] - restarted), ms(remoteDone[0] - restarted),
                subjects.size(), localDuplicates, got.size(), remoteDuplicates);

        Set<String> missing = new TreeSet<>(localExpected);
        missing.removeAll(subjects);
        assertTrue(missing.isEmpty(), "acknowledged local mail lost: " + missing);
        Set<String> remoteMissing = new TreeSet<>(remoteAcknowledged);
        remoteMissing.removeAll(got);
        assertTrue(remoteMissing.isEmpty(), "acknowledged remote mail lost: " + remoteMissing);
        List<String> strangers = subjects.stream()
                .filter(s -> !localExpected.contains(s) && !unanswered.contains(s)).toList();
        assertTrue(strangers.isEmpty(), "Drop holds messages this test never sent: " + strangers);
        assertTrue(got.stream().allMatch(remoteAcknowledged::contains), "the next hop got messages never sent: " + got);
    }

    private static Map<String, Long> duplicates(List<String> subjects) {
        return subjects.stream().collect(Collectors.groupingBy(s -> s, TreeMap::new, Collectors.counting()))
                .entrySet().stream().filter(e -> e.getValue() > 1)
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue, (a, b) -> a, TreeMap::new));
    }

    private List<String> receivedSubjects() {
        return mx.received().stream().map(r -> {
            Matcher matcher = SUBJECT.matcher(new String(r.data(), StandardCharsets.ISO_8859_1));
            return matcher.find() ? matcher.group(1) : "";
        }).toList();
    }

    private static long ms(long nanos) {
        return nanos / 1_000_000;
    }
}
