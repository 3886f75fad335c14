package io.mailroot.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mailroot.testkit.Await;
import io.mailroot.testkit.SmtpTestClient;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The compose file's {@code monitoring} profile: Prometheus (docker/prometheus) finds every node of the cluster by
 * DNS and scrapes its admin listener, every target is up, and Mailroot's counters move in Prometheus when mail
 * flows; and the operator's commands work inside the cluster (queue, delete, trail, topics). Runs where {@code docker info} works and the images mailroot:latest and mailroot-prometheus:latest exist;
 * with {@code CI=true} a missing engine or image fails it.
 */
@Timeout(value = 8, unit = TimeUnit.MINUTES)
class MonitoringProfileTest {

    private static final String PROJECT = "mailroot-mon";
    private static final URI PROMETHEUS = URI.create("http://127.0.0.1:9090");
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void prometheusScrapesEveryNodeAndSeesMailFlow() throws Exception {
        String unavailable = ComposeCluster.unavailable("mailroot:latest");
        if (unavailable == null) {
            unavailable = ComposeCluster.unavailable("mailroot-prometheus:latest");
        }
        if (unavailable != null) {
            if ("true".equals(System.getenv("CI"))) {
                fail("CI=true, so MonitoringProfileTest must run, but there is " + unavailable);
            }
            Assumptions.abort("MonitoringProfileTest skipped: " + unavailable);
        }
        Path root = Path.of("").toAbsolutePath().getParent();
        assertTrue(Files.exists(root.resolve("docker-compose.yml")), "no docker-compose.yml in " + root);
        ComposeCluster cluster = new ComposeCluster(root, PROJECT, List.of("docker-compose.yml"), Map.of());
        cluster.compose(Duration.ofMinutes(3), "down", "-v", "--remove-orphans");
        try {
            ComposeCluster.Result up = cluster.compose(Duration.ofMinutes(5), "--profile", "monitoring", "up", "-d");
            assertTrue(up.ok(), "docker-compose up failed:\n" + up.output());
            List<String> nodes = cluster.containers().stream().filter(c -> !c.contains("prometheus")).toList();
            awaitHealthy(cluster, nodes);

            // Every Mailroot container is one target, found by its service's DNS name, and answers.
            String[] seen = {""};
            Await.until("Prometheus scraping all " + nodes.size() + " nodes", Duration.ofMinutes(2),
                    every(Duration.ofSeconds(1), () -> {
                        JsonNode targets = get("/api/v1/targets?state=active").path("data").path("activeTargets");
                        List<String> health = new ArrayList<>();
                        targets.forEach(t -> health.add(t.path("labels").path("instance").asText() + "="
                                + t.path("health").asText()));
                        seen[0] = health.toString();
                        return health.size() == nodes.size() && health.stream().allMatch(h -> h.endsWith("=up"));
                    }));
            JsonNode roles = get("/api/v1/query?query=" + encode("count by (role) (up{job=\"mailroot\"})"));
            TreeSet<String> found = new TreeSet<>();
            roles.path("data").path("result").forEach(r -> found.add(r.path("metric").path("role").asText()));
            assertEquals(new TreeSet<>(List.of("deliverer", "drop", "ingress", "ndr", "queue", "retry", "router")),
                    found, "roles Prometheus labelled; targets: " + seen[0]);

            double acceptedBefore = sum("mailroot_ingress_messages_accepted_total");
            double droppedBefore = sum("mailroot_drop_messages_total");
            int messages = 5;
            for (int port : List.of(2525, 2526)) {
                try (SmtpTestClient smtp = new SmtpTestClient("127.0.0.1", port)) {
                    SmtpTestClient.expect(smtp.greeting(), "220");
                    SmtpTestClient.expect(smtp.command("EHLO monitor.test"), "250");
                    for (int i = 0; i < messages; i++) {
                        SmtpTestClient.expect(smtp.send("watcher@monitor.test", List.of("postmaster@localhost"),
                                "Subject: watched " + port + "/" + i + "\r\n\r\nbody\r\n"), "250");
                    }
                }
            }
            Await.until("Prometheus seeing " + 2 * messages + " more accepted and written to Drop",
                    Duration.ofMinutes(2), every(Duration.ofSeconds(1), () ->
                            sum("mailroot_ingress_messages_accepted_total") >= acceptedBefore + 2 * messages
                                    && sum("mailroot_drop_messages_total") >= droppedBefore + 2 * messages));

            operateTheQueue(cluster);
        } finally {
            cluster.compose(Duration.ofMinutes(3), "--profile", "monitoring", "down", "-v", "--remove-orphans");
        }
    }

    /**
     * The operator's commands inside the cluster, as an operator runs them ({@code docker-compose exec retry
     * mailroot ...}): a message to a remote domain (no DNS beyond the compose network, so it cannot leave) is in
     * the queue view, is deleted, leaves the queue, and its trail on every node says so; the topics command answers.
     */
    private static void operateTheQueue(ComposeCluster cluster) throws IOException {
        String reply;
        try (SmtpTestClient smtp = new SmtpTestClient("127.0.0.1", 2525)) {
            SmtpTestClient.expect(smtp.greeting(), "220");
            SmtpTestClient.expect(smtp.command("EHLO monitor.test"), "250");
            reply = smtp.send("watcher@monitor.test", List.of("someone@remote.test"),
                    "Subject: stays queued\r\n\r\nbody\r\n");
        }
        SmtpTestClient.expect(reply, "250");
        String id = reply.substring(reply.lastIndexOf(' ') + 1).strip();
        String[] last = {""};
        Await.until(id + " in the queue view", Duration.ofMinutes(1), every(Duration.ofSeconds(2), () -> {
            last[0] = mailroot(cluster, "queue", "--json").output();
            return last[0].contains("\"queue_id\":\"" + id + "\"") && last[0].contains("someone@remote.test");
        }));
        ComposeCluster.Result delete = mailroot(cluster, "queue", "delete", id);
        assertTrue(delete.ok() && delete.output().contains("delete message " + id), delete.output());
        Await.until(id + " gone from the queue view after delete", Duration.ofMinutes(2),
                every(Duration.ofSeconds(2), () -> {
                    last[0] = mailroot(cluster, "queue", "--json").output();
                    return !last[0].contains(id) && mailroot(cluster, "trail", id).output().contains("DELETED");
                }));
        String trail = mailroot(cluster, "trail", id).output();
        for (String type : List.of("RECEIVED", "ROUTED", "DELETED")) {
            assertTrue(trail.contains(type), "trail of " + id + " lacks " + type + ":\n" + trail);
        }
        ComposeCluster.Result topics = mailroot(cluster, "topics");
        assertTrue(topics.ok() && topics.output().contains("mailroot.outbound"), topics.output());
    }

    private static ComposeCluster.Result mailroot(ComposeCluster cluster, String... args) {
        List<String> cmd = new ArrayList<>(List.of("exec", "-T", "retry", "mailroot"));
        cmd.addAll(List.of(args));
        return cluster.compose(Duration.ofMinutes(1), cmd.toArray(String[]::new));
    }

    private double sum(String metric) {
        JsonNode r = get("/api/v1/query?query=" + encode("sum(" + metric + ")")).path("data").path("result");
        return r.isEmpty() ? 0 : Double.parseDouble(r.get(0).path("value").get(1).asText());
    }

    private JsonNode get(String pathAndQuery) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(PROMETHEUS.resolve(pathAndQuery))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? JSON.readTree(r.body()) : JSON.createObjectNode();
        } catch (IOException e) {
            return JSON.createObjectNode();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted");
        }
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static void awaitHealthy(ComposeCluster cluster, List<String> containers) {
        String[] last = {""};
        try {
            Await.until("every container healthy", Duration.ofMinutes(4), every(Duration.ofMillis(500), () -> {
                List<String> not = cluster.notHealthy(containers);
                last[0] = not.toString();
                return not.isEmpty();
            }));
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; not healthy: " + last[0], e);
        }
    }

    /** Asks the condition at most once per period (each ask is an HTTP request or a docker command). */
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
}
