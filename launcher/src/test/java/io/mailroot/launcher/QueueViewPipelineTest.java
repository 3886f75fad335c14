package io.mailroot.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mailroot.core.config.ConfigLoader;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.Topics;
import io.mailroot.testkit.Await;
import io.mailroot.testkit.FreePorts;
import io.mailroot.testkit.ScriptedSmtpServer;
import io.mailroot.testkit.SharedKafka;
import io.mailroot.testkit.SmtpTestClient;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every role on one node, writing real events: the queue view shows what waits and only that. It needs the roles
 * to write events (branch h/events); on h/queue alone no event is written and it fails at "only the deferred
 * message in the queue".
 */
class QueueViewPipelineTest {

    @TempDir
    Path dir;

    @Test
    void aDeferredMessageIsListedAndDeliveredOnesAreNot() throws Exception {
        int port = FreePorts.next();
        String prefix = SharedKafka.uniquePrefix("queue-e2e");
        try (ScriptedSmtpServer smartHost = new ScriptedSmtpServer()
                .rejectRecipients(r -> r.startsWith("busy@"), "451 4.2.1 Mailbox busy")) {
            String yaml = """
                    fqdn: relay.test
                    dataDir: %s
                    localDomains: [local.test]
                    kafka: { topicPrefix: "%s", partitions: 2 }
                    pickup: { enabled: false }
                    virtualServers:
                      - port: %d
                        tls: { enabled: false }
                        relay: { allow: [127.0.0.0/8] }
                    delivery:
                      retryIntervals: [10m]
                      smartHost: "[127.0.0.1]:%d"
                    """.formatted(dir.resolve("data"), prefix, port, smartHost.port());
            try (MailrootNode node = new MailrootNode(ConfigLoader.parse(yaml, dir), RoleName.all(), SharedKafka.bootstrap())) {
                node.start();
                try (SmtpTestClient c = new SmtpTestClient("127.0.0.1", port)) {
                    c.command("EHLO client.test");
                    for (String to : List.of("busy@far.test", "ok@far.test", "bob@local.test")) {
                        String reply = c.send("alice@client.test", List.of(to), "Subject: to " + to + "\r\n\r\nHi\r\n");
                        assertTrue(reply.startsWith("250"), reply);
                    }
                }
                Await.until("ok@far.test delivered", Duration.ofSeconds(60), () -> smartHost.received().size() == 1);
                Await.until("bob@local.test in Drop", Duration.ofSeconds(60), () -> dropFiles(dir) == 1);
                KafkaClients clients = new KafkaClients(SharedKafka.bootstrap(), prefix);
                Topics topics = new Topics(prefix, 1);
                String json = Await.value("only the deferred message in the queue", Duration.ofSeconds(60), () -> {
                    String out = run(clients, topics, "--json");
                    return out.lines().count() == 1 && out.contains("\"deferred\"") ? out : null;
                });
                JsonNode m = new ObjectMapper().readTree(json);
                assertEquals("alice@client.test", m.get("sender").asText());
                JsonNode r = m.get("recipients").get(0);
                assertEquals("busy@far.test", r.get("address").asText());
                assertTrue(r.get("delay_reason").asText().contains("451 4.2.1 Mailbox busy"), json);
                assertTrue(r.get("next_hop").asText().contains(":" + smartHost.port() + "]"), json);
                assertEquals(1, m.get("attempts").asInt(), json);
                System.out.println(run(clients, topics));
                System.out.println(run(clients, topics, "summary"));
            }
        }
    }

    private static long dropFiles(Path dir) {
        try (var files = Files.list(dir.resolve("data").resolve("mailroot").resolve("Drop"))) {
            return files.filter(p -> p.toString().endsWith(".eml")).count();
        } catch (Exception e) {
            return 0;
        }
    }

    private static String run(KafkaClients clients, Topics topics, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        QueueCommand.run(List.of(args), clients, topics, new PrintStream(out, true, StandardCharsets.UTF_8),
                System.err, Clock.systemUTC());
        return out.toString(StandardCharsets.UTF_8);
    }
}
