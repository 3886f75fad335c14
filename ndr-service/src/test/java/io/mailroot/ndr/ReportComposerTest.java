package io.mailroot.ndr;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.config.ConfigLoader;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.Outcome;
import io.mailroot.core.message.Recipient;
import jakarta.mail.internet.MimeBodyPart;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The report's wording and structure for awkward originals, without Kafka. */
class ReportComposerTest {

    @TempDir
    Path dir;

    private ReportComposer composer() {
        return new ReportComposer(ConfigLoader.parse("fqdn: relay.test\n", dir));
    }

    @Test
    void encodedSubjectEightBitBodyAndUnrulyDiagnosticStillMakeAValidReport() throws Exception {
        byte[] original = ("From: alice@src.test\r\n"
                + "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n"
                + "Content-Type: text/plain; charset=UTF-8\r\n"
                + "Content-Transfer-Encoding: 8bit\r\n"
                + "\r\n"
                + "Grüße aus Köln\r\n").getBytes(StandardCharsets.UTF_8);
        Recipient bob = new Recipient("bob@dst.test", Set.of(), null,
                new Outcome(Outcome.Action.FAILED, null, "550 mailbox\r\n unavailable – gone", null));
        Envelope env = Envelope.received("M1", "alice@src.test", List.of(bob), Instant.now())
                .withDsn(null, Envelope.Ret.FULL);

        List<DeliveryReport> reports = composer().compose(new MailRecord(env, original), Instant.now());

        assertEquals(1, reports.size());
        ReportReader r = ReportReader.read(reports.get(0).mail().message());
        assertEquals("Undeliverable: Grüße", r.message().getSubject());
        assertNull(r.message().getHeader("In-Reply-To"), "no Message-ID in the original, nothing to refer to");
        assertEquals("5.0.0", r.recipientField(0, "Status"), "a failure without a code still gets one");
        assertEquals("smtp; 550 mailbox unavailable ? gone", r.recipientField(0, "Diagnostic-Code"));
        assertNull(r.recipientField(0, "Remote-MTA"));
        MimeBodyPart returned = (MimeBodyPart) r.report().getBodyPart(2);
        assertEquals("8bit", returned.getEncoding());
        assertArrayEquals(original, returned.getRawInputStream().readAllBytes());
    }

    @Test
    void successReportsOnlyWhenAskedAndNeverTheDefault() throws Exception {
        Recipient quiet = new Recipient("carol@ok.test", Set.of(), null,
                new Outcome(Outcome.Action.RELAYED, "2.0.0", null, "mx.ok.test"));
        Recipient asked = new Recipient("dave@ok.test", Set.of(Recipient.Notify.SUCCESS, Recipient.Notify.FAILURE),
                "rfc822;Dave@OK.test", new Outcome(Outcome.Action.RELAYED, "2.0.0", null, "mx.ok.test"));
        Envelope env = Envelope.received("M2", "alice@src.test", List.of(quiet, asked), Instant.now());
        byte[] original = "Subject: hi\r\n\r\nbody\r\n".getBytes(StandardCharsets.US_ASCII);

        List<DeliveryReport> reports = composer().compose(new MailRecord(env, original), Instant.now());

        assertEquals(1, reports.size());
        assertEquals(Outcome.Action.RELAYED, reports.get(0).action());
        ReportReader r = ReportReader.read(reports.get(0).mail().message());
        assertEquals(1, r.recipientCount());
        assertEquals("relayed", r.recipientField(0, "Action"));
        assertEquals("rfc822;Dave@OK.test", r.recipientField(0, "Original-Recipient"));
        assertTrue(r.text().contains("dave@ok.test"));
        assertFalse(r.text().contains("carol@ok.test"));
    }
}
