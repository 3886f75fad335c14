package io.mailroot.launcher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.event.EventCodec;
import io.mailroot.core.event.MessageEvent;
import io.mailroot.core.folder.Badmail;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.TopicCreator;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import io.mailroot.testkit.Await;
import io.mailroot.testkit.SharedKafka;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mailroot badmail ...} against a temporary Badmail folder; resubmit against the shared broker. */
class BadmailCommandTest {

    /** A reason as the ndr-service writes it for a failure of null-sender mail. */
    private static final String NDR_REASON = """
            Not returned to the sender: the message came from the null sender <>, so it is itself a report or a bounce, and answering it could start a mail loop.

            Message id: M1.AB
            Envelope id: (none)
            Sender: <>
            Received: 2026-12-03T10:00:00Z
            Recipients:
              <bob@example.net> action=failed status=5.1.1 diagnostic=smtp; 550 5.1.1 no such user remote-mta=mx.example.net
            """;
    private static final byte[] MESSAGE = ("Received: from client.example by relay.test; Thu, 3 Dec 2026 10:00:00 +0000\r\n"
            + "From: <>\r\nTo: bob@example.net\r\nSubject: Delivery Status Notification\r\n\r\nbody\r\n")
            .getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path dir;
    private Badmail badmail;
    private Topics topics;
    private KafkaClients clients;
    private final StringBuilder transcript = new StringBuilder();

    @BeforeEach
    void setUp() throws Exception {
        badmail = new Badmail(dir.resolve("Badmail"));
        badmail.write("M1.AB-dsn-0-4", MESSAGE, NDR_REASON);
        badmail.write("malformed-inbound-0-7", "Subject: ?\r\n\r\n".getBytes(StandardCharsets.US_ASCII),
                "Malformed record on inbound-0-7: its envelope cannot be read, so nobody can be told about it.\n\nError: x\n");
        String prefix = SharedKafka.uniquePrefix("badmail-cmd");
        topics = new Topics(prefix, 2);
        clients = new KafkaClients(SharedKafka.bootstrap(), prefix);
    }

    private record Result(int code, String out, String err) {
    }

    private Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = BadmailCommand.run(List.of(args), badmail, () -> clients, topics, "test-node",
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                Clock.systemUTC());
        Result r = new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        transcript.append("$ mailroot badmail ").append(String.join(" ", args)).append('\n').append(r.out()).append(r.err()).append('\n');
        return r;
    }

    private void keepTranscript(String name) throws Exception {
        Path file = Path.of("target", name);
        Files.createDirectories(file.getParent());
        Files.writeString(file, transcript);
    }

    @Test
    void listShowAndDelete() throws Exception {
        Result list = run("list");
        assertEquals(0, list.code(), list.err());
        assertTrue(list.out().lines().anyMatch(l -> l.startsWith("M1.AB-dsn-0-4 ") && l.contains(" " + MESSAGE.length + "  ")
                && l.contains("  Not returned to the sender: the message came from the null sender <>") && l.endsWith("...")), list.out());
        assertTrue(list.out().contains("malformed-inbound-0-7"), list.out());
        assertTrue(list.out().contains("-- 2 messages"), list.out());

        Result show = run("show", "M1.AB-dsn-0-4");
        assertEquals(0, show.code(), show.err());
        assertTrue(show.out().contains("Sender: <>"), show.out());
        assertTrue(show.out().contains("Subject: Delivery Status Notification"), show.out());
        assertFalse(show.out().contains("body"), "headers only: " + show.out());

        assertEquals(1, run("show", "../Badmail/M1.AB-dsn-0-4").code(), "a path is not a name");
        Result delete = run("delete", "malformed-inbound-0-7");
        assertEquals(0, delete.code(), delete.err());
        assertFalse(Files.exists(badmail.dir().resolve("malformed-inbound-0-7.bad")));
        assertFalse(Files.exists(badmail.dir().resolve("malformed-inbound-0-7.bdr")));
        assertEquals(1, badmail.list().size());
        assertEquals(1, run("delete", "malformed-inbound-0-7").code());
        assertEquals(2, run("frobnicate").code());
        keepTranscript("badmail-command-output.txt");
    }

    @Test
    void resubmitPutsTheMessageBackOnInboundWithTheEnvelopeFromItsReason() throws Exception {
        TopicCreator.ensure(clients, topics, 3, (short) 1);
        Result r = run("resubmit", "M1.AB-dsn-0-4");
        assertEquals(0, r.code(), r.err());
        assertFalse(Files.exists(badmail.dir().resolve("M1.AB-dsn-0-4.bad")));
        assertFalse(Files.exists(badmail.dir().resolve("M1.AB-dsn-0-4.bdr")));

        // Without recipients in its reason, resubmit needs --to (and --from): the files stay until then.
        Result refused = run("resubmit", "malformed-inbound-0-7");
        assertEquals(1, refused.code());
        assertTrue(refused.err().contains("--to"), refused.err());
        assertTrue(Files.exists(badmail.dir().resolve("malformed-inbound-0-7.bad")));
        Result given = run("resubmit", "malformed-inbound-0-7", "--to", "postmaster@relay.test,abuse@relay.test",
                "--from", "<admin@relay.test>");
        assertEquals(0, given.code(), given.err());

        List<MailRecord> inbound = readAll(topics.inbound(), 2).stream().map(EnvelopeCodec::fromRecord).toList();
        MailRecord first = inbound.stream().filter(m -> m.envelope().nullSender()).findFirst().orElseThrow();
        assertArrayEquals(MESSAGE, first.message());
        assertEquals(List.of("bob@example.net"), first.envelope().recipients().stream().map(x -> x.address()).toList());
        assertTrue(r.out().contains("as " + first.envelope().id()), r.out());
        MailRecord second = inbound.stream().filter(m -> !m.envelope().nullSender()).findFirst().orElseThrow();
        assertEquals("admin@relay.test", second.envelope().sender());
        assertEquals(List.of("postmaster@relay.test", "abuse@relay.test"),
                second.envelope().recipients().stream().map(x -> x.address()).toList());

        List<MessageEvent> events = readAll(topics.events(), 2).stream().map(c -> EventCodec.decode(c.value())).toList();
        assertTrue(events.stream().allMatch(e -> e.type() == MessageEvent.Type.RECEIVED && e.role().equals("operator")), events.toString());
        assertTrue(events.stream().anyMatch(e -> e.messageId().equals(first.envelope().id())
                && "M1.AB-dsn-0-4".equals(e.relatedId())), events.toString());
        keepTranscript("badmail-resubmit-output.txt");
    }

    private List<ConsumerRecord<String, byte[]>> readAll(String topic, int n) {
        List<ConsumerRecord<String, byte[]>> seen = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> c = clients.consumer("test-reader-" + topic, "test-reader")) {
            List<TopicPartition> parts = c.partitionsFor(topic).stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            Await.until(n + " records on " + topic, Duration.ofSeconds(30), () -> {
                c.poll(Duration.ofMillis(100)).forEach(seen::add);
                return seen.size() >= n;
            });
        }
        return seen;
    }
}
