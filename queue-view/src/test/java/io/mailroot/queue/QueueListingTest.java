package io.mailroot.queue;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mailroot.queue.QueuedMessage.QueuedRecipient;
import io.mailroot.queue.QueuedMessage.State;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class QueueListingTest {

    private static final Instant NOW = Instant.parse("2026-12-03T12:00:00Z");

    private static QueuedMessage message(String id, String sender, Duration age, QueuedRecipient... rcpts) {
        return new QueuedMessage(id, sender, 2048, NOW.minus(age), List.of(rcpts), NOW);
    }

    private static QueuedRecipient deferred(String address, String hop, String reply, int attempts) {
        return new QueuedRecipient(address, hop, State.DEFERRED, reply, attempts, NOW.plusSeconds(300));
    }

    private static QueuedRecipient active(String address, String hop) {
        return new QueuedRecipient(address, hop, State.ACTIVE, null, 0, null);
    }

    private static String print(Consumer<PrintStream> f) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        f.accept(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void jsonHasPostqueuesFieldsAndMailroots() throws Exception {
        QueuedMessage m = message("M1.AB", "a@example.org", Duration.ofMinutes(7),
                deferred("b@example.net", "example.net", "451 4.7.1 greylisted", 2), active("c@example.com", "example.com"));
        String out = print(o -> QueueListing.json(List.of(m, message("M2.CD", "", Duration.ZERO,
                new QueuedRecipient("d@example.net", "example.net", State.HOLD, null, 0, null))), o));
        String[] lines = out.split("\n");
        assertEquals(2, lines.length, out);
        JsonNode j = new ObjectMapper().readTree(lines[0]);
        assertEquals("active", j.get("queue_name").asText());
        assertEquals("M1.AB", j.get("queue_id").asText());
        assertEquals(NOW.minusSeconds(420).getEpochSecond(), j.get("arrival_time").asLong());
        assertEquals(2048, j.get("message_size").asLong());
        assertEquals("a@example.org", j.get("sender").asText());
        assertEquals(2, j.get("attempts").asInt());
        assertEquals(NOW.plusSeconds(300).getEpochSecond(), j.get("next_due").asLong());
        JsonNode b = j.get("recipients").get(0);
        assertEquals("b@example.net", b.get("address").asText());
        assertEquals("451 4.7.1 greylisted", b.get("delay_reason").asText());
        assertEquals("example.net", b.get("next_hop").asText());
        assertEquals("deferred", b.get("state").asText());
        assertFalse(j.get("recipients").get(1).has("delay_reason"));
        JsonNode held = new ObjectMapper().readTree(lines[1]);
        assertEquals("hold", held.get("queue_name").asText());
        assertEquals("", held.get("sender").asText());
    }

    @Test
    void textListsEachRecipientWithHopStateAndLastReply() {
        String out = print(o -> QueueListing.text(List.of(message("M1.AB", "a@example.org", Duration.ofMinutes(7),
                deferred("b@example.net", "example.net", "451 4.7.1 greylisted", 2))), o));
        assertTrue(out.contains("M1.AB"), out);
        assertTrue(out.contains("2026-12-03 11:53:00Z"), out);
        assertTrue(out.contains("b@example.net  via example.net  deferred  attempts 2  next 2026-12-03 12:05:00Z"), out);
        assertTrue(out.contains("(451 4.7.1 greylisted)"), out);
        assertTrue(out.contains("-- 2 Kbytes in 1 message."), out);
        assertEquals("Mail queue is empty\n", print(o -> QueueListing.text(List.of(), o)));
    }

    @Test
    void summaryCountsMessagesAndRecipientsPerNextHop() {
        List<QueuedMessage> q = List.of(
                message("M1", "a@example.org", Duration.ofMinutes(90),
                        deferred("b@example.net", "example.net", "451 busy", 1), deferred("c@example.net", "example.net", "451 busy", 1)),
                message("M2", "a@example.org", Duration.ofMinutes(5), active("d@example.net", "example.net"),
                        active("e@example.com", "[smart.example:25]#1")),
                message("M3", "a@example.org", Duration.ofMinutes(1), active("f@example.org", null)));
        List<QueueSummary.HopLine> lines = QueueSummary.lines(q);
        assertEquals(new QueueSummary.HopLine("example.net", 2, 3, NOW.minus(Duration.ofMinutes(90)), "451 busy"), lines.get(0));
        assertEquals(new QueueSummary.HopLine("(not routed)", 1, 1, NOW.minusSeconds(60), null), lines.get(1));
        assertEquals(new QueueSummary.HopLine("[smart.example:25]#1", 1, 1, NOW.minusSeconds(300), null), lines.get(2));
        String out = print(o -> QueueSummary.print(q, NOW, o));
        assertTrue(out.lines().anyMatch(l -> l.matches("example\\.net\\s+2\\s+3\\s+1h30m\\s+451 busy")), out);
    }

    @Test
    void shapePutsMessagesInTheBucketsOfTheirAge() {
        assertEquals(0, QueueShape.bucket(Duration.ofSeconds(299)));
        assertEquals(1, QueueShape.bucket(Duration.ofMinutes(5)));
        assertEquals(8, QueueShape.bucket(Duration.ofMinutes(1279)));
        assertEquals(9, QueueShape.bucket(Duration.ofMinutes(1280)));
        List<QueuedMessage> q = List.of(
                message("M1", "a@example.org", Duration.ofMinutes(2), active("b@example.net", "example.net")),
                message("M2", "a@example.org", Duration.ofMinutes(30), active("b@example.net", "example.net"),
                        active("c@example.com", "example.com")),
                message("M3", "", Duration.ofDays(2), active("d@example.com", "example.com")));
        List<QueueShape.Row> rows = QueueShape.rows(q, QueueShape.By.RECIPIENT, NOW);
        assertEquals(List.of("TOTAL", "example.com", "example.net"), rows.stream().map(QueueShape.Row::name).toList());
        assertArrayEquals(new int[] {1, 0, 0, 1, 0, 0, 0, 0, 0, 1}, rows.get(0).buckets());
        assertEquals(3, rows.get(0).total());
        assertArrayEquals(new int[] {0, 0, 0, 1, 0, 0, 0, 0, 0, 1}, rows.get(1).buckets());
        assertArrayEquals(new int[] {1, 0, 0, 1, 0, 0, 0, 0, 0, 0}, rows.get(2).buckets());
        List<QueueShape.Row> bySender = QueueShape.rows(q, QueueShape.By.SENDER, NOW);
        assertEquals(List.of("TOTAL", "example.org", "MAILER-DAEMON"), bySender.stream().map(QueueShape.Row::name).toList());
        String out = print(o -> QueueShape.print(q, QueueShape.By.RECIPIENT, NOW, o));
        assertTrue(out.lines().findFirst().orElseThrow().matches("\\s+T\\s+5\\s+10\\s+20\\s+40\\s+80\\s+160\\s+320\\s+640\\s+1280\\s+1280\\+"), out);
        assertTrue(out.contains("TOTAL     3     1     0     0     1"), out);
    }

    @Test
    void filtersByDomainSenderAgeAndState() {
        QueuedMessage old = message("M1", "alice@example.org", Duration.ofHours(2), deferred("b@Example.NET", "example.net", "451", 1));
        QueuedMessage young = message("M2", "", Duration.ofMinutes(1), active("c@example.com", "example.com"));
        List<QueuedMessage> q = List.of(old, young);
        assertEquals(List.of(old), q.stream().filter(new QueueFilter("example.net", null, null, null).at(NOW)).toList());
        assertEquals(List.of(old), q.stream().filter(new QueueFilter(null, "ALICE", null, null).at(NOW)).toList());
        assertEquals(List.of(), q.stream().filter(new QueueFilter(null, "<alice@example>", null, null).at(NOW)).toList());
        assertEquals(List.of(young), q.stream().filter(new QueueFilter(null, "<>", null, null).at(NOW)).toList());
        assertEquals(List.of(old), q.stream().filter(new QueueFilter(null, null, Duration.ofMinutes(30), null).at(NOW)).toList());
        assertEquals(List.of(young), q.stream().filter(new QueueFilter(null, null, null, State.ACTIVE).at(NOW)).toList());
    }
}
