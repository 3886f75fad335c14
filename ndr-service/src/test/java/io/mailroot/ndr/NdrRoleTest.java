package io.mailroot.ndr;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.Outcome;
import io.mailroot.core.message.Recipient;
import io.mailroot.testkit.Await;
import jakarta.mail.internet.ContentType;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeBodyPart;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NdrRoleTest {

    private static final String ORIGINAL = "Message-ID: <orig-1@src.test>\r\n"
            + "From: Alice <alice@src.test>\r\n"
            + "To: Bob <bob@dst.test>\r\n"
            + "Subject: Quarterly figures\r\n"
            + "Date: Sat, 28 Nov 2026 10:00:00 +0000\r\n"
            + "\r\n"
            + "The figures are attached in spirit.\r\n";

    @TempDir
    Path dir;

    private static MailRecord failed(String id, String sender, Recipient... recipients) {
        Envelope e = Envelope.received(id, sender, List.of(recipients), Instant.now().minus(1, ChronoUnit.HOURS));
        return new MailRecord(e, ORIGINAL.getBytes(StandardCharsets.US_ASCII));
    }

    private static Recipient bobFailed() {
        return new Recipient("bob@dst.test", Set.of(), "rfc822;bob@dst.test",
                Outcome.failed("5.1.1", "smtp; 550 5.1.1 <bob@dst.test>: no such user", "mx.dst.test"));
    }

    @Test
    void failedRecipientIsReportedToTheSenderFromTheNullSender() throws Exception {
        try (NdrHarness h = new NdrHarness("ndr-failed", dir, "")) {
            MailRecord original = failed("M1", "alice@src.test", bobFailed());
            original = new MailRecord(original.envelope().withDsn("ENV-42", Envelope.Ret.HDRS), original.message());
            h.sendDsn("M1", original);

            ConsumerRecord<String, byte[]> record = h.awaitInbound(1).get(0);
            MailRecord report = EnvelopeCodec.fromRecord(record);
            Envelope env = report.envelope();
            assertTrue(env.nullSender(), "a report travels from the null sender");
            assertEquals(List.of("alice@src.test"), env.recipients().stream().map(Recipient::address).toList());
            assertNotEquals("M1", env.id());
            assertEquals(env.id(), record.key());
            assertEquals("ndr-service", env.virtualServer());

            ReportReader r = ReportReader.read(report.message());
            ContentType type = new ContentType(r.message().getContentType());
            assertTrue(type.match("multipart/report"), type.toString());
            assertEquals("delivery-status", type.getParameter("report-type"));
            assertEquals("Undeliverable: Quarterly figures", r.message().getSubject());
            InternetAddress from = (InternetAddress) r.message().getFrom()[0];
            assertEquals("Mail Delivery System", from.getPersonal());
            assertEquals("postmaster@relay.test", from.getAddress());
            assertEquals("alice@src.test", r.message().getHeader("To", null));
            assertEquals("auto-replied", r.message().getHeader("Auto-Submitted", null));
            assertEquals("<orig-1@src.test>", r.message().getHeader("In-Reply-To", null));
            assertEquals("<" + env.id() + "@relay.test>", r.message().getMessageID());

            assertEquals("dns; relay.test", r.messageField("Reporting-MTA"));
            assertEquals("ENV-42", r.messageField("Original-Envelope-Id"));
            assertNotNull(r.messageField("Arrival-Date"));
            assertEquals(1, r.recipientCount());
            assertEquals("rfc822; bob@dst.test", r.recipientField(0, "Final-Recipient"));
            assertEquals("rfc822;bob@dst.test", r.recipientField(0, "Original-Recipient"));
            assertEquals("failed", r.recipientField(0, "Action"));
            assertEquals("5.1.1", r.recipientField(0, "Status"));
            assertEquals("dns; mx.dst.test", r.recipientField(0, "Remote-MTA"));
            assertEquals("smtp; 550 5.1.1 <bob@dst.test>: no such user", r.recipientField(0, "Diagnostic-Code"));
            assertNotNull(r.recipientField(0, "Last-Attempt-Date"));
            assertTrue(r.text().contains("bob@dst.test") && r.text().contains("no such user"), r.text());

            assertTrue(new ContentType(r.returnedType()).match("text/rfc822-headers"), r.returnedType());
            assertEquals("Quarterly figures", r.returned().getSubject());
            assertEquals("<orig-1@src.test>", r.returned().getMessageID());

            h.awaitCommitted(1);
        }
    }

    @Test
    void ndrCopyToReceivesFailureReportsToo() throws Exception {
        try (NdrHarness h = new NdrHarness("ndr-copy", dir, "  ndrCopyTo: ndr@admin.test\n")) {
            h.sendDsn("M2", failed("M2", "alice@src.test", bobFailed()));

            MailRecord report = EnvelopeCodec.fromRecord(h.awaitInbound(1).get(0));
            assertEquals(List.of("alice@src.test", "ndr@admin.test"),
                    report.envelope().recipients().stream().map(Recipient::address).toList());
            assertEquals("alice@src.test", ReportReader.read(report.message()).message().getHeader("To", null));
        }
    }

    @Test
    void notifyNeverMeansNoReport() throws Exception {
        try (NdrHarness h = new NdrHarness("ndr-never", dir, "")) {
            Recipient silent = new Recipient("carol@dst.test", Set.of(Recipient.Notify.NEVER), null,
                    Outcome.failed("5.1.1", "smtp; 550 no", "mx.dst.test"));
            h.sendDsn("M3", failed("M3", "alice@src.test", silent));
            // Same key, same partition: once the second one is answered, the first has been dealt with.
            h.sendDsn("M3", failed("M3b", "alice@src.test", bobFailed()));

            List<ConsumerRecord<String, byte[]>> all = h.awaitInbound(1);
            h.awaitCommitted(2);
            all = h.awaitInbound(1);
            assertEquals(1, all.size());
            ReportReader r = ReportReader.read(all.get(0).value());
            assertEquals("rfc822; bob@dst.test", r.recipientField(0, "Final-Recipient"));
        }
    }

    @Test
    void delayedOutcomeGivesADelayNoticeWithoutTheNdrCopy() throws Exception {
        try (NdrHarness h = new NdrHarness("ndr-delayed", dir, "  ndrCopyTo: ndr@admin.test\n")) {
            Recipient late = new Recipient("dave@slow.test", Set.of(), null,
                    Outcome.delayed("4.4.1", "smtp; 451 4.4.1 try later", "mx.slow.test"));
            h.sendDsn("M4", failed("M4", "alice@src.test", late));

            MailRecord report = EnvelopeCodec.fromRecord(h.awaitInbound(1).get(0));
            assertEquals(List.of("alice@src.test"), report.envelope().recipients().stream().map(Recipient::address).toList());
            ReportReader r = ReportReader.read(report.message());
            assertEquals("Delayed: Quarterly figures", r.message().getSubject());
            assertEquals("delayed", r.recipientField(0, "Action"));
            assertEquals("4.4.1", r.recipientField(0, "Status"));
            assertNotNull(r.recipientField(0, "Will-Retry-Until"));
        }
    }

    @Test
    void failureOfNullSenderMailGoesToBadmailNotInbound() throws Exception {
        try (NdrHarness h = new NdrHarness("ndr-badmail", dir, "")) {
            MailRecord bounce = failed("M5", "", bobFailed());
            bounce = new MailRecord(bounce.envelope().withDsn("ENV-5", null), bounce.message());
            h.sendDsn("M5", bounce);
            h.sendDsn("M5", failed("M5b", "alice@src.test", bobFailed()));

            h.awaitCommitted(2);
            List<ConsumerRecord<String, byte[]>> all = h.awaitInbound(1);
            assertEquals(1, all.size());
            assertEquals("alice@src.test", EnvelopeCodec.fromRecord(all.get(0)).envelope().recipients().get(0).address());

            Path badmail = h.config.badmailDir();
            List<Path> files;
            try (Stream<Path> s = Files.list(badmail)) {
                files = s.sorted().toList();
            }
            Path bad = files.stream().filter(p -> p.toString().endsWith(".bad")).findFirst().orElseThrow();
            Path bdr = files.stream().filter(p -> p.toString().endsWith(".bdr")).findFirst().orElseThrow();
            assertEquals(2, files.size(), files.toString());
            assertTrue(bad.getFileName().toString().startsWith("M5-"), bad.toString());
            assertArrayEquals(bounce.message(), Files.readAllBytes(bad));
            String reason = Files.readString(bdr);
            for (String expected : List.of("bob@dst.test", "failed", "5.1.1", "no such user", "mx.dst.test", "ENV-5", "<>", "M5")) {
                assertTrue(reason.contains(expected), "reason lacks " + expected + ":\n" + reason);
            }
        }
    }

    @Test
    void retFullReturnsTheWholeOriginal() throws Exception {
        try (NdrHarness h = new NdrHarness("ndr-full", dir, "")) {
            MailRecord original = failed("M6", "alice@src.test", bobFailed());
            original = new MailRecord(original.envelope().withDsn(null, Envelope.Ret.FULL), original.message());
            h.sendDsn("M6", original);

            ReportReader r = ReportReader.read(EnvelopeCodec.fromRecord(h.awaitInbound(1).get(0)).message());
            assertTrue(new ContentType(r.returnedType()).match("message/rfc822"), r.returnedType());
            byte[] returned = ((MimeBodyPart) r.report().getBodyPart(2)).getRawInputStream().readAllBytes();
            assertArrayEquals(original.message(), returned, new String(returned, StandardCharsets.ISO_8859_1));
            assertNull(r.messageField("Original-Envelope-Id"));
        }
    }

    @Test
    void oneReportPerKindOfOutcomeAndOnlyTheOnesAskedFor() throws Exception {
        try (NdrHarness h = new NdrHarness("ndr-mixed", dir, "")) {
            Recipient delivered = new Recipient("erin@ok.test", Set.of(Recipient.Notify.SUCCESS), null,
                    new Outcome(Outcome.Action.DELIVERED, "2.0.0", "smtp; 250 ok", "mx.ok.test"));
            Recipient deliveredQuietly = new Recipient("frank@ok.test", Set.of(), null,
                    new Outcome(Outcome.Action.DELIVERED, "2.0.0", "smtp; 250 ok", "mx.ok.test"));
            h.sendDsn("M7", failed("M7", "alice@src.test", bobFailed(), delivered, deliveredQuietly));

            List<ConsumerRecord<String, byte[]>> all = h.awaitInbound(2);
            h.awaitCommitted(1);
            assertEquals(2, h.awaitInbound(2).size());
            ReportReader first = ReportReader.read(all.get(0).value());
            ReportReader second = ReportReader.read(all.get(1).value());
            ReportReader failure = "failed".equals(first.recipientField(0, "Action")) ? first : second;
            ReportReader success = failure == first ? second : first;
            assertEquals("rfc822; bob@dst.test", failure.recipientField(0, "Final-Recipient"));
            assertEquals(1, success.recipientCount());
            assertEquals("delivered", success.recipientField(0, "Action"));
            assertEquals("rfc822; erin@ok.test", success.recipientField(0, "Final-Recipient"));
            assertEquals("Delivered: Quarterly figures", success.message().getSubject());
        }
    }

    @Test
    void malformedRecordIsKeptInBadmailAndSkipped() throws Exception {
        try (NdrHarness h = new NdrHarness("ndr-malformed", dir, "")) {
            byte[] junk = "no envelope header".getBytes(StandardCharsets.US_ASCII);
            RecordMetadata at = h.sendRaw(new ProducerRecord<>(h.topics.dsn(), "M8", junk));
            h.sendDsn("M8", failed("M8", "alice@src.test", bobFailed()));

            h.awaitCommitted(2);
            assertEquals(1, h.awaitInbound(1).size());
            String name = ("malformed-" + at.topic() + "-" + at.partition() + "-" + at.offset())
                    .replaceAll("[^A-Za-z0-9._-]", "_");
            assertArrayEquals(junk, Files.readAllBytes(h.config.badmailDir().resolve(name + ".bad")));
            String reason = Files.readString(h.config.badmailDir().resolve(name + ".bdr"));
            assertTrue(reason.contains("Malformed record") && reason.contains("mailroot-envelope"), reason);
        }
    }

    @Test
    void nullSenderMailGoesToBadmailOnlyForFailures() throws Exception {
        try (NdrHarness h = new NdrHarness("ndr-null-kinds", dir, "")) {
            Recipient delayed = new Recipient("bob@dst.test", Set.of(), null,
                    Outcome.delayed("4.4.1", "smtp; 451 4.4.1 try later", "mx.dst.test"));
            Recipient relayed = new Recipient("bob@dst.test", Set.of(Recipient.Notify.SUCCESS), null,
                    new Outcome(Outcome.Action.RELAYED, "2.0.0", "smtp; 250 ok", "mx.dst.test"));
            Recipient delivered = new Recipient("bob@dst.test", Set.of(Recipient.Notify.SUCCESS), null,
                    new Outcome(Outcome.Action.DELIVERED, "2.0.0", "smtp; 250 ok", "mx.dst.test"));
            // The deliverer's follow-ups for one null-sender message: a delay notice, then the expiry failure.
            h.sendDsn(0, failed("N1", "", delayed));
            h.sendDsn(0, failed("N2", "", relayed));
            h.sendDsn(0, failed("N3", "", delivered));
            h.sendDsn(0, failed("N4", "", bobFailed()));
            h.sendDsn(0, failed("N5", "alice@src.test", bobFailed()));

            h.awaitCommitted(5);
            List<ConsumerRecord<String, byte[]>> inbound = h.awaitInbound(1);
            assertEquals(1, inbound.size());
            assertEquals("alice@src.test",
                    EnvelopeCodec.fromRecord(inbound.get(0)).envelope().recipients().get(0).address());
            List<String> files;
            try (Stream<Path> s = Files.list(h.config.badmailDir())) {
                files = s.map(p -> p.getFileName().toString()).sorted().toList();
            }
            assertEquals(List.of("N4-0-3.bad", "N4-0-3.bdr"), files);
        }
    }

    @Test
    void aRecordThatCannotBeFinishedIsTriedAgainAloneWithoutRepeatingTheReportsBeforeIt() throws Exception {
        try (NdrHarness h = new NdrHarness("ndr-partial", dir, "", false)) {
            // One batch on one partition: a report, a Badmail write that fails (a full disk), another report.
            h.sendDsn(0, failed("PA", "alice@src.test", bobFailed()));
            h.sendDsn(0, failed("PB", "", bobFailed()));
            h.sendDsn(0, failed("PC", "alice@src.test", bobFailed()));
            Path blocker = h.config.badmailDir().resolve("PB-0-1.bdr");
            Files.createDirectories(blocker);
            Files.writeString(blocker.resolve("in-the-way"), "x");
            h.restartRole();

            Await.until("PB tried again twice", NdrHarness.WAIT, () -> h.role.retriedBatches.get() >= 2);
            h.awaitCommitted(1);
            assertEquals(1, h.committedDsnOffsets(), "committed up to the record that failed");
            Files.delete(blocker.resolve("in-the-way"));
            Files.delete(blocker);

            h.awaitCommitted(3);
            assertTrue(Files.exists(h.config.badmailDir().resolve("PB-0-1.bad")));
            // A later record on the same partition: once its report is out, any repeated one would be too.
            h.sendDsn(0, failed("PD", "alice@src.test", bobFailed()));
            h.awaitCommitted(4);
            List<ConsumerRecord<String, byte[]>> all = h.awaitInbound(3);
            List<String> keys = all.stream().map(ConsumerRecord::key).toList();
            assertEquals(3, all.size(), "one report each for PA, PC and PD: " + keys);
            // Report ids come from the dsn record's place: offsets 0, 2 and 3 are PA, PC and PD.
            assertEquals(Set.of("R0-0-failed", "R0-2-failed", "R0-3-failed"),
                    keys.stream().map(k -> k.substring(k.indexOf('.') + 1)).collect(Collectors.toSet()), keys.toString());
        }
    }

    @Test
    void aRecordHandledAgainGivesReportsTheSameIds() throws Exception {
        try (NdrHarness h = new NdrHarness("ndr-same-ids", dir, "")) {
            Recipient delivered = new Recipient("erin@ok.test", Set.of(Recipient.Notify.SUCCESS), null,
                    new Outcome(Outcome.Action.DELIVERED, "2.0.0", "smtp; 250 ok", "mx.ok.test"));
            h.sendDsn("M11", failed("M11", "alice@src.test", bobFailed(), delivered));
            List<ConsumerRecord<String, byte[]>> first = h.awaitInbound(2);
            h.awaitCommitted(1);

            // As after a crash before the commit: the same record is handled again by a new instance.
            h.role.close();
            h.forgetCommittedOffsets();
            h.restartRole();
            List<ConsumerRecord<String, byte[]>> all = h.awaitInbound(4);
            assertEquals(4, all.size());
            Set<String> firstIds = new HashSet<>();
            Set<String> firstMessageIds = new HashSet<>();
            for (ConsumerRecord<String, byte[]> r : first) {
                firstIds.add(EnvelopeCodec.fromRecord(r).envelope().id());
                firstMessageIds.add(ReportReader.read(r.value()).message().getMessageID());
            }
            Set<String> againIds = new HashSet<>();
            Set<String> againMessageIds = new HashSet<>();
            for (ConsumerRecord<String, byte[]> r : all.subList(2, 4)) {
                againIds.add(EnvelopeCodec.fromRecord(r).envelope().id());
                againMessageIds.add(ReportReader.read(r.value()).message().getMessageID());
            }
            assertEquals(2, firstIds.size());
            assertEquals(firstIds, againIds);
            assertEquals(firstMessageIds, againMessageIds);
        }
    }

    @Test
    void anUnexpectedErrorRestartsTheServiceWhichThenReportsLaterRecords() throws Exception {
        try (NdrHarness h = new NdrHarness("ndr-recover", dir, "")) {
            h.sendDsn("M12", failed("M12", "alice@src.test", bobFailed()));
            h.awaitInbound(1);

            AtomicInteger failures = new AtomicInteger();
            h.role.beforePoll = () -> {
                if (failures.incrementAndGet() <= 2) {
                    throw new IllegalStateException("injected failure");
                }
            };
            Await.until("the injected failures", NdrHarness.WAIT, () -> failures.get() >= 2);
            h.sendDsn("M13", failed("M13", "alice@src.test", bobFailed()));

            assertEquals(2, h.awaitInbound(2).size());
            h.awaitCommitted(2);
            assertTrue(failures.get() > 2, "polling again after the failures");
        }
    }
}
