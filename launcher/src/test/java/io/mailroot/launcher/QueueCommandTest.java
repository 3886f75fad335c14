package io.mailroot.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mailroot.core.event.EventCodec;
import io.mailroot.core.event.MessageEvent;
import io.mailroot.core.event.MessageEvent.Type;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.TopicCreator;
import io.mailroot.core.kafka.Topics;
import io.mailroot.queue.QueueFilter;
import io.mailroot.queue.QueueReader;
import io.mailroot.queue.QueueViewRole;
import io.mailroot.testkit.Await;
import io.mailroot.testkit.SharedKafka;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code mailroot queue} against a queue view on the shared broker, fed with events as the roles write them, at
 * known arrival times. Each command's output also goes to {@code target/queue-command-output.txt}.
 */
class QueueCommandTest {

    private static final Instant NOW = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
    private static Topics topics;
    private static KafkaClients clients;
    private static QueueViewRole role;
    private static final StringBuilder transcript = new StringBuilder();

    private static MessageEvent event(Type type, String id, Instant at, String sender, long size, String hop,
                                      String reply, int attempt, Instant due, String... rcpts) {
        return new MessageEvent(id, type, at, "node-a", "test", sender, List.of(rcpts), size, null, hop, null, reply,
                attempt, due, null, null);
    }

    @BeforeAll
    static void queueSomeMail() throws Exception {
        String prefix = SharedKafka.uniquePrefix("queue-cmd");
        topics = new Topics(prefix, 2);
        clients = new KafkaClients(SharedKafka.bootstrap(), prefix);
        TopicCreator.ensure(clients, topics, 3, (short) 1);
        Instant a = NOW.minus(Duration.ofMinutes(2));
        Instant b = NOW.minus(Duration.ofMinutes(30));
        Instant c = NOW.minus(Duration.ofDays(2));
        List<MessageEvent> events = List.of(
                event(Type.RECEIVED, "MA.0001", a, "alice@example.org", 2300, null, null, 0, null, "bob@example.net", "carol@example.com"),
                event(Type.ROUTED, "MA.0001", a, null, 0, "example.net", null, 0, null, "bob@example.net"),
                event(Type.ROUTED, "MA.0001", a, null, 0, "example.com", null, 0, null, "carol@example.com"),
                event(Type.DEFERRED, "MA.0001", a.plusSeconds(5), null, 0, "example.net", "451 4.7.1 greylisted, try again later",
                        1, NOW.plus(Duration.ofMinutes(5)), "bob@example.net"),
                event(Type.RECEIVED, "MB.0002", b, "", 5100, null, null, 0, null, "dave@example.com"),
                event(Type.ROUTED, "MB.0002", b, null, 0, "example.com", null, 0, null, "dave@example.com"),
                event(Type.HELD, "MB.0002", b.plusSeconds(60), null, 0, null, null, 0, null),
                event(Type.RECEIVED, "MC.0003", c, "billing@example.org", 48000, null, null, 0, null, "erin@example.net"),
                event(Type.ROUTED, "MC.0003", c, null, 0, "example.net", null, 0, null, "erin@example.net"),
                event(Type.DEFERRED, "MC.0003", NOW.minus(Duration.ofHours(1)), null, 0, "example.net", "421 4.3.2 too busy",
                        9, NOW.plus(Duration.ofHours(1)), "erin@example.net"),
                event(Type.RECEIVED, "MD.0004", a, "alice@example.org", 900, null, null, 0, null, "frank@example.net"),
                event(Type.ROUTED, "MD.0004", a, null, 0, "example.net", null, 0, null, "frank@example.net"),
                event(Type.DELIVERED, "MD.0004", a.plusSeconds(1), null, 0, "example.net", "250 2.0.0 ok", 1, null, "frank@example.net"));
        try (KafkaProducer<String, byte[]> producer = clients.producer("test-events")) {
            for (MessageEvent e : events) {
                producer.send(EventCodec.toRecord(topics.events(), e)).get(10, TimeUnit.SECONDS);
            }
        }
        role = new QueueViewRole(clients, topics, "cmd-test");
        role.start();
        QueueReader reader = new QueueReader(clients, topics, Duration.ofSeconds(30));
        Await.until("three messages in the queue view", Duration.ofSeconds(60), () -> {
            try {
                return reader.read(QueueFilter.ALL).size() == 3 && reader.read(QueueFilter.ALL).stream()
                        .anyMatch(m -> m.id().equals("MC.0003") && m.recipients().get(0).attempts() == 9);
            } catch (Exception e) {
                return false;
            }
        });
    }

    @AfterAll
    static void stop() throws Exception {
        role.close();
        Path file = Path.of("target", "queue-command-output.txt");
        Files.createDirectories(file.getParent());
        Files.writeString(file, transcript);
    }

    private record Result(int code, String out, String err) {
    }

    private static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = QueueCommand.run(List.of(args), clients, topics, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), CLOCK);
        Result r = new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        transcript.append("$ mailroot queue ").append(String.join(" ", args)).append('\n').append(r.out()).append(r.err()).append('\n');
        return r;
    }

    @Test
    void jsonIsOneObjectPerMessageWithPostqueuesFields() throws Exception {
        Result r = run("--json");
        assertEquals(0, r.code(), r.err());
        List<JsonNode> lines = new ArrayList<>();
        for (String line : r.out().split("\n")) {
            lines.add(new ObjectMapper().readTree(line));
        }
        // Oldest first.
        assertEquals(List.of("MC.0003", "MB.0002", "MA.0001"), lines.stream().map(j -> j.get("queue_id").asText()).toList());
        JsonNode c = lines.get(0);
        assertEquals("deferred", c.get("queue_name").asText());
        assertEquals(NOW.minus(Duration.ofDays(2)).getEpochSecond(), c.get("arrival_time").asLong());
        assertEquals(48000, c.get("message_size").asLong());
        assertEquals("billing@example.org", c.get("sender").asText());
        assertEquals(9, c.get("attempts").asInt());
        assertEquals(NOW.plus(Duration.ofHours(1)).getEpochSecond(), c.get("next_due").asLong());
        JsonNode erin = c.get("recipients").get(0);
        assertEquals("erin@example.net", erin.get("address").asText());
        assertEquals("421 4.3.2 too busy", erin.get("delay_reason").asText());
        assertEquals("example.net", erin.get("next_hop").asText());
        assertEquals("hold", lines.get(1).get("queue_name").asText());
        assertEquals("", lines.get(1).get("sender").asText());
        assertEquals("active", lines.get(2).get("queue_name").asText());
        assertEquals(2, lines.get(2).get("recipients").size());
    }

    @Test
    void filtersNarrowTheListing() {
        assertEquals(1, run("--json", "--state", "hold").out().lines().count());
        Result net = run("--domain", "example.net");
        assertTrue(net.out().contains("MA.0001") && net.out().contains("MC.0003") && !net.out().contains("MB.0002"), net.out());
        Result old = run("--older-than", "10m", "--json");
        assertEquals(2, old.out().lines().count(), old.out());
        Result sender = run("--sender", "<>", "--json");
        assertTrue(sender.out().contains("MB.0002") && sender.out().lines().count() == 1, sender.out());
        assertEquals(2, run("--older-than", "ten").code());
        assertEquals(2, run("--state", "incoming").code());
    }

    @Test
    void textShowsEachRecipientsHopStateAndLastReply() {
        Result r = run();
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("bob@example.net  via example.net  deferred  attempts 1  next "), r.out());
        assertTrue(r.out().contains("(451 4.7.1 greylisted, try again later)"), r.out());
        assertTrue(r.out().contains("dave@example.com  via example.com  hold  attempts 0"), r.out());
        assertTrue(r.out().contains("-- 55 Kbytes in 3 messages."), r.out());
    }

    @Test
    void summaryHasALinePerNextHop() {
        Result r = run("summary");
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.get(0).startsWith("NEXT HOP"), r.out());
        // MA's deferral is newer than MC's: its reply is the hop's last error.
        assertTrue(lines.get(1).matches("example\\.com\\s+2\\s+2\\s+30m\\s+-"), r.out());
        assertTrue(lines.get(2).matches("example\\.net\\s+2\\s+2\\s+2d\\s+451 4\\.7\\.1 greylisted, try again later"), r.out());
    }

    @Test
    void shapeCountsMessagesByDomainAndAge() {
        Result r = run("shape");
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.get(0).trim().startsWith("T"), r.out());
        // 2 minutes old in the first column, 30 minutes in the fourth (20 to 40), 2 days in the last.
        assertEquals(List.of("TOTAL", "3", "1", "0", "0", "1", "0", "0", "0", "0", "0", "1"), List.of(lines.get(1).trim().split("\\s+")));
        assertEquals(List.of("example.com", "2", "1", "0", "0", "1", "0", "0", "0", "0", "0", "0"), List.of(lines.get(2).trim().split("\\s+")));
        assertEquals(List.of("example.net", "2", "1", "0", "0", "0", "0", "0", "0", "0", "0", "1"), List.of(lines.get(3).trim().split("\\s+")));
        Result bySender = run("shape", "--by", "sender");
        assertTrue(bySender.out().lines().anyMatch(l -> l.trim().startsWith("MAILER-DAEMON")), bySender.out());
    }

    @Test
    void anUnknownSubcommandIsAUsageError() {
        Result r = run("purge");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("unknown queue command 'purge'"), r.err());
    }
}
