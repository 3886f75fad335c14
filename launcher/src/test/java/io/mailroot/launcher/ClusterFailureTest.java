package io.mailroot.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.mailroot.testkit.Await;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The cluster of the top-level docker-compose.yml keeps every message it said 250 to while its nodes are killed
 * (SIGKILL, then started again) one at a time under a steady load: an ingress, a router, a deliverer, the ndr
 * service and a broker, and a broker is paused for 30 s. Remote mail goes through one smart host (the testkit's
 * CountingSink, docker/failure-test.yml), local mail to Drop. Afterwards: nothing lost, at most 0.1 % delivered
 * twice, no record the router wrote twice, no consumer group behind (TopicAudit). The counts and recovery times go
 * to launcher/target/cluster-failure.md.
 *
 * <p>Runs where {@code docker info} works and the image mailroot:latest exists (build it from the top-level
 * Dockerfile first), else it is skipped; with {@code CI=true} a missing engine or image fails it. Load knobs:
 * {@code -Dft.messages} (20000), {@code -Dft.sessions} (24), {@code -Dft.rate} (messages/s, 110).
 */
@Timeout(value = 14, unit = TimeUnit.MINUTES)
class ClusterFailureTest {

    private static final String IMAGE = "mailroot:latest";
    private static final String PROJECT = "mailroot-ft";
    private static final int MESSAGES = Integer.getInteger("ft.messages", 20_000);
    private static final int SESSIONS = Integer.getInteger("ft.sessions", 24);
    private static final int PER_SESSION = 10;
    private static final int RATE = Integer.getInteger("ft.rate", 110);
    private static final List<Integer> PORTS = List.of(2525, 2526);
    private static final Duration PAUSE = Duration.ofSeconds(30);
    private static final Pattern AUDIT = Pattern.compile("^AUDIT (router-duplicates|total-lag|total-waiting) (\\d+)",
            Pattern.MULTILINE);

    /** One node to kill (or pause) and how to tell it is back. */
    private record Fault(String what, String service, boolean pause, Integer smtpPort) {
    }

    /** Seconds from the fault (from the unpause, for a pause) until each sign of recovery. */
    private record Recovery(String what, String container, double healthy, Double smtp, double longestStall) {
    }

    /** The delivered count at a moment, for telling when delivery stalled. */
    private record Sample(long nanos, int delivered) {
    }

    private final List<Sample> samples = Collections.synchronizedList(new ArrayList<>());

    @Test
    void keepsEveryAcceptedMessageThroughKillsAndAPause() throws Exception {
        String unavailable = ComposeCluster.unavailable(IMAGE);
        if (unavailable != null) {
            if ("true".equals(System.getenv("CI"))) {
                fail("CI=true, so ClusterFailureTest must run, but there is " + unavailable);
            }
            Assumptions.abort("ClusterFailureTest skipped: " + unavailable);
        }
        long testStart = System.nanoTime();
        Path root = Path.of("").toAbsolutePath().getParent();
        assertTrue(Files.exists(root.resolve("docker-compose.yml")), "no docker-compose.yml in " + root);
        assertTrue(Files.exists(root.resolve("testkit/target/classes/io/mailroot/testkit/CountingSink.class")),
                "testkit is not built (testkit/target/classes)");
        Path target = root.resolve("launcher/target");
        Path sinkDir = target.resolve("ft-sink");
        Files.createDirectories(sinkDir);
        Files.deleteIfExists(sinkDir.resolve("delivered.txt"));
        ComposeCluster cluster = new ComposeCluster(root, PROJECT,
                List.of("docker-compose.yml", "docker/failure-test.yml"),
                Map.of("MAILROOT_SMART_HOST", "sink:2525", "FT_SINK_DIR", sinkDir.toString()));
        cluster.compose(Duration.ofMinutes(3), "down", "-v", "--remove-orphans");
        SmtpLoad load = null;
        Thread poller = null;
        try {
            ComposeCluster.Result up = cluster.compose(Duration.ofMinutes(5), "up", "-d");
            assertTrue(up.ok(), "docker-compose up failed:\n" + up.output());
            List<String> containers = cluster.containers();
            awaitHealthy(cluster, containers, Duration.ofMinutes(4));
            double startup = seconds(testStart);

            Path drop = Path.of(cluster.volumeMountpoint(PROJECT + "_mailroot"), "Drop");
            assertTrue(Files.isReadable(drop.getParent()), "cannot read the Drop folder at " + drop
                    + " (the test reads the volume on the Docker host, as root)");
            Deliveries deliveries = new Deliveries(sinkDir.resolve("delivered.txt"), drop);
            poller = new Thread(() -> poll(deliveries), "ft-poller");
            poller.setDaemon(true);
            poller.start();

            load = new SmtpLoad("ft" + Long.toString(System.currentTimeMillis(), 36), PORTS, SESSIONS, PER_SESSION,
                    MESSAGES, RATE, "someone@remote.test", "postmaster@localhost");
            long loadStart = System.nanoTime();
            load.start();
            SmtpLoad running = load;
            Await.until("1000 messages accepted before the first fault", Duration.ofMinutes(2),
                    () -> running.acceptedCount() >= 1000);

            List<Fault> faults = List.of(
                    new Fault("kill ingress", "ingress1", false, 2525),
                    new Fault("kill router", "router", false, null),
                    new Fault("kill deliverer", "deliverer", false, null),
                    new Fault("kill ndr", "ndr", false, null),
                    new Fault("kill broker", "broker2", false, null),
                    new Fault("pause broker 30 s", "broker3", true, null));
            List<Recovery> recoveries = new ArrayList<>();
            int sentBeforeFaults = load.sent();
            for (Fault f : faults) {
                recoveries.add(inject(cluster, containers, f));
                int before = deliveries.deliveries();
                awaitHealthy(cluster, containers, Duration.ofMinutes(2));
                Await.until("delivery going on after " + f.what(), Duration.ofMinutes(2),
                        every(Duration.ofMillis(250), () -> deliveries.deliveries() >= before + 100 || running.done()));
            }
            Await.until(MESSAGES + " messages accepted", Duration.ofMinutes(6), running::done);
            double loadSeconds = seconds(loadStart);

            long drainStart = System.nanoTime();
            List<String> missing = new ArrayList<>();
            try {
                Await.until("every accepted message delivered", Duration.ofMinutes(5), every(Duration.ofSeconds(1), () -> {
                    deliveries.refresh();
                    Map<String, Integer> counts = deliveries.counts();
                    return running.accepted().stream().allMatch(counts::containsKey);
                }));
            } catch (AssertionError e) {
                Map<String, Integer> counts = deliveries.counts();
                running.accepted().stream().filter(id -> !counts.containsKey(id)).sorted().forEach(missing::add);
            }
            double drain = seconds(drainStart);

            Map<String, Long> audit = audit(cluster);
            Map<String, Integer> counts = deliveries.counts();
            int accepted = running.acceptedCount();
            long lost = running.accepted().stream().filter(id -> !counts.containsKey(id)).count();
            long duplicates = running.accepted().stream().mapToLong(id -> Math.max(0, counts.getOrDefault(id, 0) - 1)).sum();
            long duplicatesBeforeFaults = running.accepted().stream()
                    .filter(id -> Integer.parseInt(id.substring(id.lastIndexOf('-') + 1)) <= sentBeforeFaults)
                    .mapToLong(id -> Math.max(0, counts.getOrDefault(id, 0) - 1)).sum();
            long unacknowledgedArrived = counts.keySet().stream().filter(id -> !running.accepted().contains(id)).count();
            double total = seconds(testStart);

            String report = report(running, accepted, lost, duplicates, duplicatesBeforeFaults, sentBeforeFaults, unacknowledgedArrived, deliveries, audit,
                    recoveries, startup, loadSeconds, drain, total, missing);
            Files.writeString(target.resolve("cluster-failure.md"), report);
            System.out.println(report);

            assertEquals(MESSAGES, accepted, "accepted");
            assertEquals(0, lost, "accepted messages lost, e.g. " + missing.stream().limit(20).toList());
            assertTrue(duplicates <= accepted / 1000, duplicates + " duplicate deliveries, more than 0.1 % of " + accepted);
            assertEquals(0L, audit.get("router-duplicates"), "records the router wrote twice (TopicAudit)");
            assertEquals(0L, audit.get("total-lag"), "consumer-group lag at the end (TopicAudit)");
        } catch (Throwable t) {
            ComposeCluster.Result logs = cluster.compose(Duration.ofMinutes(2), "logs", "--no-color", "--timestamps");
            Files.writeString(target.resolve("cluster-failure-logs.txt"), logs.output());
            throw t;
        } finally {
            if (load != null) {
                load.stop();
            }
            if (poller != null) {
                poller.interrupt();
            }
            cluster.compose(Duration.ofMinutes(3), "down", "-v", "--remove-orphans");
        }
    }

    /** Kills (or pauses) one container of the service and measures how long until it is back. */
    private Recovery inject(ComposeCluster cluster, List<String> containers, Fault f) {
        String container = containers.stream().filter(c -> c.startsWith(PROJECT + "_" + f.service() + "_"))
                .findFirst().orElseThrow(() -> new AssertionError("no container of " + f.service() + " in " + containers));
        String startedBefore = cluster.startedAt(container);
        long faultStart = System.nanoTime();
        long from;
        if (f.pause()) {
            cluster.dockerOrFail("pause", container);
            sleep(PAUSE); // the fault itself: the broker stays frozen this long
            cluster.dockerOrFail("unpause", container);
            from = System.nanoTime();
            // A paused container's health check times out; wait until Docker has seen it fail or pass again.
        } else {
            cluster.dockerOrFail("kill", "-s", "KILL", container);
            // restart: unless-stopped may already be starting it again; either way it must end up running.
            cluster.docker("start", container);
            from = faultStart;
        }
        Double[] smtp = {null};
        Await.until(container + " healthy again after " + f.what(), Duration.ofMinutes(3), every(Duration.ofMillis(200), () -> {
            if (f.smtpPort() != null && smtp[0] == null && greets(f.smtpPort())) {
                smtp[0] = seconds(from);
            }
            boolean restarted = f.pause() || !cluster.startedAt(container).equals(startedBefore);
            return restarted && cluster.health(container).equals("healthy") && (f.smtpPort() == null || smtp[0] != null);
        }));
        double healthy = seconds(from);
        long windowEnd = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        Await.until("samples past the recovery", Duration.ofSeconds(30), every(Duration.ofMillis(250), () -> System.nanoTime() > windowEnd));
        return new Recovery(f.what(), container, healthy, smtp[0], longestStall(faultStart, windowEnd));
    }

    /** The longest stretch in [from, to] over which the delivered count did not grow. */
    private double longestStall(long from, long to) {
        List<Sample> window;
        synchronized (samples) {
            window = samples.stream().filter(s -> s.nanos() >= from && s.nanos() <= to).toList();
        }
        long longest = 0;
        long since = from;
        int last = window.isEmpty() ? 0 : window.get(0).delivered();
        for (Sample s : window) {
            if (s.delivered() > last) {
                longest = Math.max(longest, s.nanos() - since);
                since = s.nanos();
                last = s.delivered();
            }
        }
        longest = Math.max(longest, to - since);
        return longest / 1e9;
    }

    private void poll(Deliveries deliveries) {
        while (!Thread.currentThread().isInterrupted()) {
            samples.add(new Sample(System.nanoTime(), deliveries.refresh()));
            try {
                Thread.sleep(250); // sampling period of the delivered count
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static void awaitHealthy(ComposeCluster cluster, List<String> containers, Duration timeout) {
        String[] last = {""};
        try {
            Await.until("every container healthy", timeout, every(Duration.ofMillis(500), () -> {
                List<String> not = cluster.notHealthy(containers);
                last[0] = not.toString();
                return not.isEmpty();
            }));
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; not healthy: " + last[0], e);
        }
    }

    /** TopicAudit's summary, run until no consumer group is behind or two minutes passed. */
    private static Map<String, Long> audit(ComposeCluster cluster) {
        Map<String, Long> result = new java.util.HashMap<>();
        StringBuilder lines = new StringBuilder();
        try {
            Await.until("TopicAudit reporting no lag", Duration.ofMinutes(2), () -> {
                ComposeCluster.Result r = cluster.compose(Duration.ofMinutes(2), "run", "--rm", "-T", "audit");
                result.clear();
                lines.setLength(0);
                r.output().lines().filter(l -> l.startsWith("AUDIT ")).forEach(l -> lines.append(l).append('\n'));
                Matcher m = AUDIT.matcher(r.output());
                while (m.find()) {
                    result.put(m.group(1), Long.parseLong(m.group(2)));
                }
                return result.getOrDefault("total-lag", -1L) == 0;
            });
        } catch (AssertionError e) {
            // reported below with the last audit's lines
        }
        System.out.println(lines);
        result.putIfAbsent("router-duplicates", -1L);
        result.putIfAbsent("total-lag", -1L);
        result.putIfAbsent("total-waiting", -1L);
        lastAudit = lines.toString();
        return result;
    }

    private static String lastAudit = "";

    /** Asks {@code condition} at most once a {@code period}: each check here runs docker or reads thousands of files. */
    private static BooleanSupplier every(Duration period, BooleanSupplier condition) {
        long[] next = {0};
        return () -> {
            long now = System.nanoTime();
            if (now < next[0]) {
                return false;
            }
            next[0] = now + period.toNanos();
            return condition.getAsBoolean();
        };
    }

    private static boolean greets(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            s.setSoTimeout(2000);
            String line = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
            s.getOutputStream().write("QUIT\r\n".getBytes(StandardCharsets.US_ASCII));
            return line != null && line.startsWith("220");
        } catch (IOException e) {
            return false;
        }
    }

    private static String report(SmtpLoad load, int accepted, long lost, long duplicates, long duplicatesBeforeFaults,
                                 int sentBeforeFaults, long unacknowledgedArrived,
                                 Deliveries d, Map<String, Long> audit, List<Recovery> recoveries, double startup,
                                 double loadSeconds, double drain, double total, List<String> missing) {
        StringBuilder b = new StringBuilder();
        b.append("# Cluster failure test (").append(Instant.now()).append(")\n\n")
                .append("docker-compose.yml + docker/failure-test.yml, ").append(SESSIONS).append(" SMTP sessions of ")
                .append(PER_SESSION).append(" messages over ports ").append(PORTS).append(", paced to ").append(RATE)
                .append(" msg/s; half to the smart host (CountingSink), half to postmaster@localhost (Drop).\n\n")
                .append("| count | value |\n|---|---|\n")
                .append("| messages sent (DATA started) | ").append(load.sent()).append(" |\n")
                .append("| accepted (250 after DATA) | ").append(accepted).append(" |\n")
                .append("| not accepted (session failed or refused) | ").append(load.notAccepted()).append(" |\n")
                .append("| failed sessions / connections | ").append(load.failedSessions()).append(" / ")
                .append(load.connections()).append(" |\n")
                .append("| delivered to the sink / to Drop | ").append(d.remoteDeliveries()).append(" / ")
                .append(d.localDeliveries()).append(" |\n")
                .append("| lost (accepted, never delivered) | ").append(lost).append(" |\n")
                .append("| duplicate deliveries of accepted messages | ").append(duplicates).append(String.format(" (%.3f %%)",
                        accepted == 0 ? 0.0 : 100.0 * duplicates / accepted)).append(" |\n")
                .append("| of them among the first ").append(sentBeforeFaults).append(" sent, before any fault | ")
                .append(duplicatesBeforeFaults).append(" |\n")
                .append("| not accepted but delivered | ").append(unacknowledgedArrived).append(" |\n")
                .append("| deliveries without an X-Test-Id (reports) | ").append(d.withoutId()).append(" |\n")
                .append("| records the router wrote twice (TopicAudit) | ").append(audit.get("router-duplicates")).append(" |\n")
                .append("| consumer-group lag at the end / retry records waiting | ").append(audit.get("total-lag"))
                .append(" / ").append(audit.get("total-waiting")).append(" |\n\n")
                .append("| fault | container | healthy again | SMTP 220 again | longest delivery stall |\n|---|---|---|---|---|\n");
        for (Recovery r : recoveries) {
            b.append("| ").append(r.what()).append(" | ").append(r.container()).append(" | ")
                    .append(String.format("%.1f s", r.healthy())).append(" | ")
                    .append(r.smtp() == null ? "-" : String.format("%.1f s", r.smtp())).append(" | ")
                    .append(String.format("%.1f s", r.longestStall())).append(" |\n");
        }
        b.append("\nRecovery is timed from the SIGKILL (for the pause: from the unpause) until Docker reports the "
                        + "container healthy (its health check runs every 5 s) and, for the ingress, until its port "
                        + "answers 220. The stall is the longest time the delivered count (sink + Drop) did not grow "
                        + "between the fault and 5 s after recovery, while the other nodes kept working.\n\n")
                .append(String.format("Times: cluster up and healthy %.0f s, load %.0f s (%.0f msg/s accepted), "
                        + "last deliveries %.0f s after the load, whole test %.0f s.%n", startup, loadSeconds,
                        accepted / loadSeconds, drain, total));
        if (!missing.isEmpty()) {
            b.append("\nLost ids (first 50): ").append(missing.stream().limit(50).toList()).append('\n');
        }
        b.append("\nTopicAudit:\n\n```\n").append(lastAudit).append("```\n");
        return b.toString();
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted");
        }
    }

    private static double seconds(long sinceNanos) {
        return (System.nanoTime() - sinceNanos) / 1e9;
    }
}
