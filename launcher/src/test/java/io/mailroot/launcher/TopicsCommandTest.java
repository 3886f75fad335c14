package io.mailroot.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.KafkaSecurity;
import io.mailroot.core.kafka.TopicCreator;
import io.mailroot.core.kafka.Topics;
import io.mailroot.testkit.FreePorts;
import io.mailroot.testkit.SharedKafka;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mailroot topics}: the table and the JSON, against the shared broker and against a node's embedded one. */
class TopicsCommandTest {

    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    /** Main.run as the command line runs it, with what it prints to standard output and error captured. */
    private int main(String... args) {
        out.reset();
        err.reset();
        PrintStream stdout = System.out;
        PrintStream stderr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            return Main.run(args, Map.of());
        } finally {
            System.setOut(stdout);
            System.setErr(stderr);
        }
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void printsEachTopicPartitionAndGroupWithItsLag() throws Exception {
        String prefix = SharedKafka.uniquePrefix("topics-cmd");
        Topics topics = new Topics(prefix, 2);
        KafkaClients clients = new KafkaClients(SharedKafka.bootstrap(), prefix);
        TopicCreator.ensure(clients, topics, 1, (short) 1);
        try (KafkaProducer<String, byte[]> p = clients.producer("topics-cmd")) {
            for (int i = 0; i < 5; i++) {
                p.send(new ProducerRecord<>(topics.inbound(), 0, "m" + i, new byte[] {1})).get(30, TimeUnit.SECONDS);
            }
            p.send(new ProducerRecord<>(topics.retry(1), 0, "hop", new byte[] {1})).get(30, TimeUnit.SECONDS);
        }
        try (Admin admin = Admin.create(clients.adminConfig())) {
            admin.alterConsumerGroupOffsets(prefix + "router",
                    Map.of(new TopicPartition(topics.inbound(), 0), new OffsetAndMetadata(2))).all().get(30, TimeUnit.SECONDS);
        }
        Path config = dir.resolve("mailroot.yml");
        Files.writeString(config, """
                dataDir: %s
                kafka: { bootstrap: "%s", topicPrefix: "%s", partitions: 1 }
                delivery: { retryIntervals: [1m, 10m] }
                """.formatted(dir.resolve("data"), SharedKafka.bootstrap(), prefix));

        assertEquals(0, main("topics", "--config", config.toString()), err.toString(StandardCharsets.UTF_8));
        List<String> lines = out().lines().toList();
        assertEquals(List.of("TOPIC", "PARTITION", "GROUP", "END", "COMMITTED", "LAG", "LAG_S", "WAITING", "OVERDUE"),
                List.of(lines.get(0).trim().split("\\s+")), out());
        assertTrue(lines.stream().anyMatch(l -> l.trim().split("\\s+").length == 9
                && List.of(l.trim().split("\\s+")).subList(0, 6).equals(List.of(topics.inbound(), "0", prefix + "router",
                "5", "2", "3"))), "a row of inbound: end 5, committed 2, lag 3\n" + out());
        // A record without an envelope is due at once, as the retry role reads it: overdue, and nobody reads retry.1.
        assertTrue(lines.stream().anyMatch(l -> List.of(l.trim().split("\\s+")).equals(List.of(topics.retry(1), "0",
                "-", "1", "0", "-", l.trim().split("\\s+")[6], "1", "1"))), "retry.1: waiting 1, overdue 1\n" + out());

        assertEquals(0, main("topics", "--json", "--config", config.toString()));
        JsonNode doc = new ObjectMapper().readTree(out());
        JsonNode inbound = null;
        for (JsonNode p : doc.get("partitions")) {
            if (p.get("topic").asText().equals(topics.inbound())) {
                inbound = p;
            }
        }
        assertEquals(prefix + "router", inbound.get("group").asText(), out());
        assertEquals(3, inbound.get("lagRecords").asLong());
        assertTrue(inbound.get("lagSeconds").asDouble() >= 0);
        assertTrue(inbound.get("waiting") == null, "waiting is for retry levels only");

        assertEquals(2, main("topics", "--frobnicate", "--config", config.toString()));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("usage: mailroot topics"));
    }

    @Test
    void reachesTheEmbeddedBrokerOfARunningNodeWithTheSecretInItsDataDir() throws Exception {
        int port = brokerPorts();
        Path config = dir.resolve("mailroot.yml");
        Files.writeString(config, """
                dataDir: %s
                kafka: { bootstrap: embedded, embeddedPort: %d, topicPrefix: "emb." }
                """.formatted(dir.resolve("data"), port));
        try (MailrootNode node = new MailrootNode(Main.load(config, Map.of()), List.of(), null)) {
            node.start();
            // As from another process: this JVM no longer knows the broker's credentials, only the file does.
            KafkaSecurity.unregisterInProcess("127.0.0.1:" + port);
            assertEquals(0, main("topics", "--config", config.toString()), err.toString(StandardCharsets.UTF_8));
            assertTrue(out().lines().anyMatch(l -> l.startsWith("emb.outbound ")), out());

            Path elsewhere = dir.resolve("other.yml");
            Files.writeString(elsewhere, """
                    dataDir: %s
                    kafka: { bootstrap: embedded, embeddedPort: %d, topicPrefix: "emb." }
                    """.formatted(dir.resolve("no-data"), port));
            assertEquals(1, main("topics", "--config", elsewhere.toString()));
            assertTrue(err.toString(StandardCharsets.UTF_8).contains("cannot read the embedded broker's secret"),
                    err.toString(StandardCharsets.UTF_8));
        }
    }

    /** A client port whose next port (the controller's) is free too. */
    private static int brokerPorts() {
        for (int i = 0; i < 100; i++) {
            int port = FreePorts.next();
            if (FreePorts.next() == port + 1) {
                return port;
            }
        }
        throw new IllegalStateException("no two free ports in a row");
    }
}
