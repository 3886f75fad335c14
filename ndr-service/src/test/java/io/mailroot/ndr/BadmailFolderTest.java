package io.mailroot.ndr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.folder.BadmailEnvelope;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.Outcome;
import io.mailroot.core.message.Recipient;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BadmailFolderTest {

    @TempDir
    Path dir;

    @Test
    void warnsOnlyPastTheConfiguredSize() throws Exception {
        BadmailFolder folder = new BadmailFolder(dir, BadmailFolder.warnBytes(1));
        folder.keep("small", new byte[100], "why");
        assertFalse(folder.overWarningSize(), "100 bytes and a reason stay under 1 KB");
        folder.keep("large", new byte[2048], "why");
        assertTrue(folder.overWarningSize());
    }

    @Test
    void nullMeansNeverWarn() {
        assertEquals(Long.MAX_VALUE, BadmailFolder.warnBytes(null));
        assertEquals(102_400L * 1024, BadmailFolder.warnBytes(102_400));
    }

    /** What 'mailroot badmail resubmit' reads back from a reason this service wrote. */
    @Test
    void theReasonKeepsTheEnvelopeThatResubmitNeeds() {
        Outcome failed = Outcome.failed("5.1.1", "smtp; 550 5.1.1 no such user", "mx.example.net");
        Envelope envelope = Envelope.received("M1.AB", "", List.of(Recipient.of("b@example.net").withOutcome(failed),
                Recipient.of("c@example.com")), Instant.parse("2026-12-03T10:00:00Z"));
        BadmailEnvelope known = BadmailEnvelope.parse(BadmailFolder.nullSenderReason(envelope));
        assertEquals("", known.sender());
        assertEquals(List.of("b@example.net", "c@example.com"), known.recipients());
        BadmailEnvelope other = BadmailEnvelope.parse(BadmailFolder.reason("why", envelope.withSender("a@example.org")));
        assertEquals("a@example.org", other.sender());
        assertEquals(new BadmailEnvelope(null, List.of()), BadmailEnvelope.parse("Malformed record on inbound-0-7: ...\n"));
    }
}
