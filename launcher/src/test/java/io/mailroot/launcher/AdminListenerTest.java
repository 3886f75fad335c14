package io.mailroot.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.config.ConfigLoader;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.role.Role;
import io.mailroot.testkit.Await;
import io.mailroot.testkit.FreePorts;
import io.mailroot.testkit.ScriptedSmtpServer;
import io.mailroot.testkit.SharedKafka;
import io.mailroot.testkit.SmtpTestClient;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin listener of a real node on the shared broker: mail through SMTP to a scripted smart host, then what
 * /metrics says about it, and /health/ready as roles and Kafka come and go.
 */
class AdminListenerTest {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    Path dir;

    private MailrootNode node;
    private ScriptedSmtpServer smartHost;

    @AfterEach
    void stop() {
        if (node != null) {
            node.close();
        }
        if (smartHost != null) {
            smartHost.close();
        }
    }

    private MailrootConfig config(String prefix, int smtpPort, int adminPort, String smartHostPort) {
        return ConfigLoader.parse("""
                fqdn: relay.test
                dataDir: %s
                mailroot: %s
                localDomains: [local.test]
                kafka: { topicPrefix: "%s", partitions: 2 }
                pickup: { enabled: false }
                admin: { port: %d }
                virtualServers:
                  - port: %d
                    tls: { enabled: false }
                    maxMessageSizeKb: 4
                    relay: { allow: [127.0.0.1] }
                delivery:
                  retryIntervals: [1s]
                  smartHost: "[127.0.0.1]:%s"
                """.formatted(dir.resolve("data"), dir.resolve("mailroot"), prefix, adminPort, smtpPort,
                smartHostPort), dir);
    }

    private static HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The value of one sample line of the scrape ({@code name{labels} value}), or -1 when it is not there. */
    private static double sample(String scrape, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(scrape);
        return m.find() ? Double.parseDouble(m.group(1)) : -1;
    }

    private boolean inDrop(String recipient) {
        try (Stream<Path> files = Files.list(dir.resolve("mailroot").resolve("Drop"))) {
            return files.anyMatch(f -> {
                try {
                    return Files.readString(f).contains("X-Receiver: " + recipient);
                } catch (IOException e) {
                    return false;
                }
            });
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void metricsCountTheMailAndHealthSaysReady() throws Exception {
        smartHost = new ScriptedSmtpServer().rejectRecipients(r -> r.startsWith("nobody@"), "550 5.1.1 no such user");
        int smtp = FreePorts.next();
        int admin = FreePorts.next();
        node = new MailrootNode(config(SharedKafka.uniquePrefix("admin"), smtp, admin, String.valueOf(smartHost.port())),
                RoleName.all(), SharedKafka.bootstrap());
        node.start();

        HttpResponse<String> live = get(admin, "/health/live");
        assertEquals(200, live.statusCode(), live.body());
        HttpResponse<String> ready = Await.value("/health/ready 200", WAIT, () -> {
            try {
                HttpResponse<String> r = get(admin, "/health/ready");
                return r.statusCode() == 200 ? r : null;
            } catch (IOException | InterruptedException e) {
                return null;
            }
        });
        assertTrue(ready.body().contains("\"ready\":true"), ready.body());
        assertEquals(404, get(admin, "/nothing-here").statusCode());

        try (SmtpTestClient c = new SmtpTestClient("127.0.0.1", smtp)) {
            c.command("EHLO client.test");
            SmtpTestClient.expect(c.send("alice@local.test", List.of("bob@far.test", "carol@local.test"),
                    "Subject: metrics\r\n\r\nHello\r\n"), "250");
            SmtpTestClient.expect(c.send("alice@local.test", List.of("nobody@far.test"),
                    "Subject: bounce\r\n\r\nHello\r\n"), "250");
            String big = "Subject: big\r\n\r\n" + ("x".repeat(70) + "\r\n").repeat(100);
            SmtpTestClient.expect(c.send("alice@local.test", List.of("bob@far.test"), big), "552");
        }
        Await.until("bob's message at the smart host", WAIT, () -> smartHost.received().size() == 1);
        Await.until("carol's message in Drop", WAIT, () -> inDrop("carol@local.test"));
        Await.until("the report for nobody@far.test in alice's Drop", WAIT, () -> inDrop("alice@local.test"));

        String hop = "[[127.0.0.1]:" + smartHost.port() + "]";
        AtomicReference<String> last = new AtomicReference<>("");
        String scrape = Await.value("the counters caught up", WAIT, () -> {
            try {
                String s = get(admin, "/metrics").body();
                last.set(s);
                return sample(s, "mailroot_ndr_reports_total{action=\"failed\"}") >= 1
                        && sample(s, "mailroot_drop_messages_total") >= 2 ? s : null;
            } catch (IOException | InterruptedException e) {
                return null;
            }
        });
        System.out.println("---- /metrics (mailroot_ lines) ----");
        scrape.lines().filter(l -> l.contains("mailroot_")).forEach(System.out::println);
        System.out.println("---- end ----");

        // ingress: the two accepted (the report from ndr-service does not pass through SMTP), the oversized refused
        assertEquals(2.0, sample(scrape, "mailroot_ingress_messages_accepted_total{source=\"smtp\"}"), scrape);
        assertEquals(1.0, sample(scrape, "mailroot_ingress_refused_total{code=\"5.3.4\",stage=\"data\"}"), scrape);
        assertTrue(sample(scrape, "mailroot_ingress_connections") >= 0, scrape);
        // router: two from SMTP and the report, which goes to alice's Drop
        assertTrue(sample(scrape, "mailroot_router_messages_total") >= 3, scrape);
        assertTrue(sample(scrape, "mailroot_router_records_total{destination=\"remote\"}") >= 2, scrape);
        assertTrue(sample(scrape, "mailroot_router_records_total{destination=\"local\"}") >= 2, scrape);
        // deliverer: per hop and outcome, and both histograms with their buckets
        assertEquals(1.0, sample(scrape, "mailroot_deliverer_recipients_total{hop=\"" + hop + "\",outcome=\"delivered\"}"), scrape);
        assertEquals(1.0, sample(scrape, "mailroot_deliverer_recipients_total{hop=\"" + hop + "\",outcome=\"failed\"}"), scrape);
        assertTrue(sample(scrape, "mailroot_deliverer_attempt_duration_seconds_count") >= 2, scrape);
        assertEquals(1.0, sample(scrape, "mailroot_deliverer_delivery_latency_seconds_count"), scrape);
        assertEquals(1.0, sample(scrape, "mailroot_deliverer_delivery_latency_seconds_bucket{le=\"+Inf\"}"), scrape);
        assertTrue(scrape.contains("mailroot_deliverer_attempt_duration_seconds_bucket{le=\"0.05\"}"), scrape);
        assertTrue(sample(scrape, "mailroot_deliverer_connections") >= 0, scrape);
        // drop writer, ndr, Badmail
        assertTrue(sample(scrape, "mailroot_drop_messages_total") >= 2, scrape);
        assertEquals(1.0, sample(scrape, "mailroot_ndr_reports_total{action=\"failed\"}"), scrape);
        assertEquals(0.0, sample(scrape, "mailroot_badmail_files"), scrape);
        assertEquals(0.0, sample(scrape, "mailroot_badmail_bytes"), scrape);
        // the JVM's own
        for (String jvm : List.of("jvm_memory_used_bytes{", "jvm_threads_live_threads ", "jvm_gc_",
                "process_uptime_seconds ", "system_cpu_count ")) {
            assertTrue(scrape.contains(jvm), jvm + " in " + scrape);
        }
        assertTrue(get(admin, "/metrics").headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
    }

    @Test
    void aStoppedRoleMakesTheNodeUnready() throws Exception {
        int admin = FreePorts.next();
        node = new MailrootNode(config(SharedKafka.uniquePrefix("admin-stop"), FreePorts.next(), admin, "2"),
                List.of(RoleName.ROUTER, RoleName.DROP), SharedKafka.bootstrap());
        node.start();
        Await.until("ready", WAIT, () -> status(admin) == 200);
        Role router = node.roles().stream().filter(r -> r.name().equals("router")).findFirst().orElseThrow();
        router.close();
        HttpResponse<String> r = get(admin, "/health/ready");
        assertEquals(503, r.statusCode(), r.body());
        assertTrue(r.body().contains("router stopped"), r.body());
        assertFalse(r.body().contains("drop-writer"), r.body());
        assertEquals(200, get(admin, "/health/live").statusCode());
    }

    @Test
    void anUnreachableBrokerMakesTheNodeUnready() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        int admin = FreePorts.next();
        node = new MailrootNode(config(SharedKafka.uniquePrefix("admin-nokafka"), FreePorts.next(), admin, "2"),
                List.of(RoleName.ROUTER), "127.0.0.1:" + closed);
        Thread starting = new Thread(() -> {
            try {
                node.start();
            } catch (Exception e) {
                // expected: no broker to create topics on
            }
        }, "starting");
        starting.setDaemon(true);
        starting.start();
        HttpResponse<String> r = Await.value("a 503 naming Kafka", WAIT, () -> {
            try {
                HttpResponse<String> x = get(admin, "/health/ready");
                return x.statusCode() == 503 && x.body().contains("Kafka at 127.0.0.1:" + closed) ? x : null;
            } catch (IOException | InterruptedException e) {
                return null;
            }
        });
        assertTrue(r.body().contains("node starting or stopping (0 of 1 roles running)"), r.body());
        assertEquals(200, get(admin, "/health/live").statusCode());
        starting.join(WAIT.toMillis());
        assertFalse(starting.isAlive(), "start gave up on the missing broker");
    }

    private static int status(int port) {
        try {
            return get(port, "/health/ready").statusCode();
        } catch (IOException | InterruptedException e) {
            return -1;
        }
    }
}
