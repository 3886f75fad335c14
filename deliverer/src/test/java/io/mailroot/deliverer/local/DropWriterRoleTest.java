package io.mailroot.deliverer.local;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.config.ConfigLoader;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.TopicCreator;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.Outcome;
import io.mailroot.core.message.Recipient;
import io.mailroot.testkit.Await;
import io.mailroot.testkit.SharedKafka;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DropWriterRoleTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private String bootstrap;
    private String prefix;
    private Topics topics;
    private KafkaClients clients;

    private MailrootConfig setUp(String name) throws Exception {
        bootstrap = SharedKafka.bootstrap();
        prefix = SharedKafka.uniquePrefix(name);
        topics = new Topics(prefix, 2);
        clients = new KafkaClients(bootstrap, prefix);
        TopicCreator.ensure(bootstrap, topics, 3, (short) 1);
        return ConfigLoader.parse("fqdn: relay.test\nlocalDomains: [local.test]\nmailroot: ./mr\n", dir);
    }

    private static MailRecord mail(String id, String sender, String body, String... rcpts) {
        byte[] bytes = ("Message-ID: <" + id + "@test>\r\nSubject: \u00e9t\u00e9\r\n\r\n" + body + "\r\n")
                .getBytes(StandardCharsets.UTF_8);
        return new MailRecord(Envelope.received(id, sender, List.of(rcpts).stream().map(Recipient::of).toList(),
                Instant.now()), bytes);
    }

    private void publish(List<ProducerRecord<String, byte[]>> records) throws Exception {
        try (KafkaProducer<String, byte[]> p = clients.producer("test-router")) {
            List<Future<?>> acks = new ArrayList<>();
            for (ProducerRecord<String, byte[]> r : records) {
                acks.add(p.send(r));
            }
            for (Future<?> ack : acks) {
                ack.get(30, TimeUnit.SECONDS);
            }
        }
    }

    private ProducerRecord<String, byte[]> toLocal(MailRecord m) {
        return EnvelopeCodec.toRecord(topics.local(), "local.test", m);
    }

    private static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(a);
        out.writeBytes(b);
        return out.toByteArray();
    }

    /** The drop group has committed up to the end of the local topic. */
    private boolean committedToTheEnd() {
        try (Admin admin = Admin.create(SharedKafka.adminConfig())) {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(prefix + "drop")
                    .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
            int n = admin.describeTopics(List.of(topics.local())).allTopicNames().get(10, TimeUnit.SECONDS)
                    .get(topics.local()).partitions().size();
            List<TopicPartition> partitions = java.util.stream.IntStream.range(0, n)
                    .mapToObj(p -> new TopicPartition(topics.local(), p)).toList();
            var ends = admin.listOffsets(partitions.stream().collect(Collectors.toMap(tp -> tp, tp -> OffsetSpec.latest())))
                    .all().get(10, TimeUnit.SECONDS);
            return partitions.stream().allMatch(tp -> {
                long end = ends.get(tp).offset();
                OffsetAndMetadata c = committed.get(tp);
                return end == 0 || (c != null && c.offset() == end);
            });
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void writesOneFileWithTheEnvelopeBlockAndTheMessageByteForByte() throws Exception {
        MailrootConfig config = setUp("drop");
        MailRecord normal = mail("DROP1", "alice@a.test", "hello", "bob@local.test", "carol@local.test");
        MailRecord bounce = mail("DROP2", "", "a report", "postmaster@local.test");
        try (DropWriterRole writer = new DropWriterRole(config, clients, topics)) {
            writer.start();
            publish(List.of(new ProducerRecord<>(topics.local(), 0, "junk", new byte[] {1}, new RecordHeaders()),
                    toLocal(normal), toLocal(bounce)));

            Path file = config.dropDir().resolve("DROP1.eml");
            Path report = config.dropDir().resolve("DROP2.eml");
            Await.until("both files in Drop", WAIT, () -> Files.exists(file) && Files.exists(report));

            byte[] header = "X-Sender: alice@a.test\r\nX-Receiver: bob@local.test\r\nX-Receiver: carol@local.test\r\n"
                    .getBytes(StandardCharsets.US_ASCII);
            assertArrayEquals(concat(header, normal.message()), read(file));
            assertArrayEquals(concat("X-Sender: <>\r\nX-Receiver: postmaster@local.test\r\n"
                    .getBytes(StandardCharsets.US_ASCII), bounce.message()), read(report));

            // Private to the service whatever the umask: a Drop file holds someone's mail.
            assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
            assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(config.dropDir())));
            DropFile parsed = DropFile.parse(file);
            assertEquals("alice@a.test", parsed.sender());
            assertEquals(List.of("bob@local.test", "carol@local.test"), parsed.recipients());
            assertArrayEquals(normal.message(), parsed.message());

            // The malformed record was skipped, not left blocking its partition.
            Await.until("offsets committed past every record", WAIT, this::committedToTheEnd);
            try (var files = Files.list(config.dropDir())) {
                assertEquals(List.of("DROP1.eml", "DROP2.eml"),
                        files.map(p -> p.getFileName().toString()).sorted().toList(), "no temp files left behind");
            }
        }
    }

    @Test
    void anUnexpectedFailureRestartsTheWriterInsteadOfStoppingIt() throws Exception {
        MailrootConfig config = setUp("restart");
        MailRecord m = mail("AGAIN1", "alice@a.test", "hello", "bob@local.test");
        try (DropWriterRole writer = new DropWriterRole(config, clients, topics)) {
            java.util.concurrent.atomic.AtomicInteger batches = new java.util.concurrent.atomic.AtomicInteger();
            writer.beforeWrite = b -> {
                if (batches.incrementAndGet() == 1) {
                    throw new IllegalStateException("injected: something unexpected");
                }
            };
            writer.start();
            publish(List.of(toLocal(m)));

            Path file = config.dropDir().resolve("AGAIN1.eml");
            Await.until("the file was written by the restarted writer", WAIT, () -> Files.exists(file));
            Await.until("and committed", WAIT, this::committedToTheEnd);
            assertTrue(batches.get() >= 2, "batches seen: " + batches.get());
        }
    }

    @Test
    void aRedeliveredMessageOverwritesItsFile() throws Exception {
        MailrootConfig config = setUp("redrop");
        Path file = config.dropDir().resolve("SAME.eml");
        try (DropWriterRole writer = new DropWriterRole(config, clients, topics)) {
            writer.start();
            publish(List.of(toLocal(mail("SAME", "a@b.test", "first", "x@local.test"))));
            Await.until("first copy written", WAIT, () -> Files.exists(file));
        }
        // Another writer (as after a crash) gets the same message again, in the same batch as a newer copy.
        MailRecord last = mail("SAME", "a@b.test", "second", "x@local.test");
        publish(List.of(toLocal(mail("SAME", "a@b.test", "first", "x@local.test")), toLocal(last)));
        try (DropWriterRole writer = new DropWriterRole(config, clients, topics)) {
            writer.start();
            byte[] expected = concat(DropFile.envelopeBlock(last.envelope()), last.message());
            Await.until("file rewritten with the last copy", WAIT, () -> java.util.Arrays.equals(expected, read(file)));
            Await.until("offsets committed", WAIT, this::committedToTheEnd);
        }
        try (var files = Files.list(config.dropDir())) {
            assertEquals(1, files.count(), "one file per message id");
        }
    }

    @Test
    void aDropFolderThatKeepsFailingGivesOneDelayNoticeThenAFailureReport() throws Exception {
        bootstrap = SharedKafka.bootstrap();
        prefix = SharedKafka.uniquePrefix("baddrop");
        topics = new Topics(prefix, 2);
        clients = new KafkaClients(bootstrap, prefix);
        TopicCreator.ensure(bootstrap, topics, 3, (short) 1);
        MailrootConfig config = ConfigLoader.parse("""
                fqdn: relay.test
                localDomains: [local.test]
                mailroot: ./mr
                delivery:
                  local: {delayNotification: 2s, expirationTimeout: 5s}
                """, dir);
        // Drop is a file, so no message can be written into it.
        Files.createDirectories(config.dropDir().getParent());
        Files.write(config.dropDir(), new byte[0]);
        List<MailRecord> reports = new java.util.concurrent.CopyOnWriteArrayList<>();
        Instant sent = Instant.now();
        try (DropWriterRole writer = new DropWriterRole(config, clients, topics);
             org.apache.kafka.clients.consumer.KafkaConsumer<String, byte[]> dsn =
                     clients.consumer("test-dsn", "test-dsn")) {
            writer.start();
            publish(List.of(toLocal(mail("STUCK", "alice@a.test", "hello", "bob@local.test"))));
            List<TopicPartition> parts = dsn.partitionsFor(topics.dsn()).stream()
                    .map(pi -> new TopicPartition(topics.dsn(), pi.partition())).toList();
            dsn.assign(parts);
            dsn.seekToBeginning(parts);
            Await.until("a failure report", WAIT, () -> {
                dsn.poll(Duration.ofMillis(100)).forEach(r -> reports.add(EnvelopeCodec.fromRecord(r)));
                return reports.stream().anyMatch(r -> action(r) == Outcome.Action.FAILED);
            });
            Await.until("the local topic is committed to its end", WAIT, this::committedToTheEnd);
        }
        Duration took = Duration.between(sent, Instant.now());
        List<MailRecord> delayed = reports.stream().filter(r -> action(r) == Outcome.Action.DELAYED).toList();
        List<MailRecord> failed = reports.stream().filter(r -> action(r) == Outcome.Action.FAILED).toList();
        assertEquals(1, delayed.size(), "one delay notice: " + reports);
        assertEquals(1, failed.size());
        Outcome notice = delayed.get(0).envelope().recipients().get(0).outcome();
        assertEquals("4.3.0", notice.status());
        Outcome gaveUp = failed.get(0).envelope().recipients().get(0).outcome();
        assertEquals("5.3.0", gaveUp.status());
        assertTrue(gaveUp.diagnostic().contains("cannot write to the Drop folder " + config.dropDir()),
                gaveUp.diagnostic());
        assertEquals("STUCK", failed.get(0).envelope().id());
        assertEquals(List.of("bob@local.test"),
                failed.get(0).envelope().recipients().stream().map(Recipient::address).toList());
        assertTrue(took.compareTo(Duration.ofSeconds(5)) >= 0, "reported as failed after only " + took);
    }

    @Test
    void oneMessageDropCannotTakeWaitsOnTheRetryTopicsWhileTheOnesBehindItAreWritten() throws Exception {
        bootstrap = SharedKafka.bootstrap();
        prefix = SharedKafka.uniquePrefix("onebad");
        topics = new Topics(prefix, 2);
        clients = new KafkaClients(bootstrap, prefix);
        TopicCreator.ensure(bootstrap, topics, 1, (short) 1);
        MailrootConfig config = ConfigLoader.parse("""
                fqdn: relay.test
                localDomains: [local.test]
                mailroot: ./mr
                delivery:
                  retryIntervals: [1s]
                  local: {delayNotification: 3s, expirationTimeout: 6s}
                """, dir);
        // A directory stands where BAD's file would go, so that one message, and only it, can never be written.
        Files.createDirectories(config.dropDir().resolve("BAD.eml").resolve("occupied"));
        List<MailRecord> reports = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (DropWriterRole writer = new DropWriterRole(config, clients, topics);
             io.mailroot.core.role.Role retry = new io.mailroot.deliverer.RetryRole(config, clients, topics);
             io.mailroot.core.role.Role deliverer = new io.mailroot.deliverer.DelivererRole(config, clients, topics);
             org.apache.kafka.clients.consumer.KafkaConsumer<String, byte[]> dsn =
                     clients.consumer("test-dsn", "test-dsn")) {
            writer.start();
            retry.start();
            deliverer.start();
            Instant sent = Instant.now();
            publish(List.of(toLocal(mail("BAD", "alice@a.test", "stuck", "bob@local.test")),
                    toLocal(mail("GOOD1", "alice@a.test", "1", "bob@local.test")),
                    toLocal(mail("GOOD2", "alice@a.test", "2", "bob@local.test")),
                    toLocal(mail("GOOD3", "alice@a.test", "3", "bob@local.test"))));

            Await.until("the good ones are in Drop", WAIT, () -> List.of("GOOD1", "GOOD2", "GOOD3").stream()
                    .allMatch(id -> Files.isRegularFile(config.dropDir().resolve(id + ".eml"))));
            Await.until("and committed, the bad one with them", WAIT, this::committedToTheEnd);
            Duration committedAfter = Duration.between(sent, Instant.now());
            assertTrue(committedAfter.compareTo(Duration.ofSeconds(3)) < 0,
                    "the partition waited for the bad message: committed after " + committedAfter);

            List<TopicPartition> parts = dsn.partitionsFor(topics.dsn()).stream()
                    .map(pi -> new TopicPartition(topics.dsn(), pi.partition())).toList();
            dsn.assign(parts);
            dsn.seekToBeginning(parts);
            Await.until("the bad one is reported as failed at the local expiry", WAIT, () -> {
                dsn.poll(Duration.ofMillis(100)).forEach(r -> reports.add(EnvelopeCodec.fromRecord(r)));
                return reports.stream().anyMatch(r -> action(r) == Outcome.Action.FAILED);
            });
            assertTrue(Duration.between(sent, Instant.now()).compareTo(Duration.ofSeconds(6)) >= 0);
        }
        MailRecord failed = reports.stream().filter(r -> action(r) == Outcome.Action.FAILED).findFirst().orElseThrow();
        assertEquals("BAD", failed.envelope().id());
        assertEquals("5.3.0", failed.envelope().recipients().get(0).outcome().status());
        assertTrue(failed.envelope().attempt() >= 1, "it went round the retry path: " + failed.envelope());
        assertEquals(1, reports.stream().filter(r -> action(r) == Outcome.Action.DELAYED).count(), "one delay notice");
        assertTrue(reports.stream().allMatch(r -> r.envelope().id().equals("BAD")), "only the bad one is reported");
    }

    private static Outcome.Action action(MailRecord report) {
        return report.envelope().recipients().get(0).outcome().action();
    }
}
