package io.mailroot.ndr;

import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.Outcome;
import io.mailroot.core.message.Recipient;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.InternetHeaders;
import jakarta.mail.internet.MimeUtility;
import java.io.ByteArrayInputStream;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.function.Function;
import org.eclipse.angus.mail.dsn.DeliveryStatus;

/** The machine-readable part of a report (RFC 3464 section 2): per-message fields, then one block per recipient. */
final class DsnFields {

    private DsnFields() {
    }

    /**
     * @param lastAttempt when the attempt that decided these outcomes was made
     * @param retryUntil for delayed recipients, when Mailroot gives up; null when unknown
     */
    static DeliveryStatus of(String reportingMta, Envelope envelope, List<Recipient> recipients, Instant lastAttempt,
                             Function<Recipient, Instant> retryUntil) throws MessagingException {
        DeliveryStatus status = new DeliveryStatus();
        InternetHeaders message = emptyHeaders();
        message.addHeader("Reporting-MTA", "dns; " + reportingMta);
        if (envelope.envId() != null) {
            message.addHeader("Original-Envelope-Id", ascii(envelope.envId()));
        }
        if (envelope.receivedAt() != null) {
            message.addHeader("Arrival-Date", date(envelope.receivedAt()));
        }
        status.setMessageDSN(message);
        for (Recipient r : recipients) {
            status.addRecipientDSN(recipient(r, lastAttempt, retryUntil.apply(r)));
        }
        return status;
    }

    /**
     * Headers without the placeholders {@code new InternetHeaders()} starts with; one of them is "Status", which
     * would put that field at the end of the block instead of after Action.
     */
    private static InternetHeaders emptyHeaders() {
        try {
            return new InternetHeaders(new ByteArrayInputStream(new byte[0]));
        } catch (MessagingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static InternetHeaders recipient(Recipient r, Instant lastAttempt, Instant retryUntil) {
        Outcome o = r.outcome();
        InternetHeaders h = emptyHeaders();
        if (r.orcpt() != null) {
            h.addHeader("Original-Recipient", typed(r.orcpt(), "rfc822"));
        }
        h.addHeader("Final-Recipient", "rfc822; " + ascii(r.address()));
        h.addHeader("Action", o.action().field());
        h.addHeader("Status", status(o));
        if (o.remoteMta() != null && !o.remoteMta().isBlank()) {
            h.addHeader("Remote-MTA", "dns; " + ascii(o.remoteMta()));
        }
        if (o.diagnostic() != null && !o.diagnostic().isBlank()) {
            h.addHeader("Diagnostic-Code", fold("Diagnostic-Code", typed(o.diagnostic(), "smtp")));
        }
        h.addHeader("Last-Attempt-Date", date(lastAttempt));
        if (o.action() == Outcome.Action.DELAYED && retryUntil != null) {
            h.addHeader("Will-Retry-Until", date(retryUntil));
        }
        return h;
    }

    /** The enhanced status code; a missing one gets the generic code of its class so the field is never empty. */
    static String status(Outcome o) {
        if (o.status() != null && o.status().matches("[245]\\.\\d{1,3}\\.\\d{1,3}")) {
            return o.status();
        }
        return switch (o.action()) {
            case FAILED -> "5.0.0";
            case DELAYED -> "4.0.0";
            case DELIVERED, RELAYED, EXPANDED -> "2.0.0";
        };
    }

    static String date(Instant t) {
        return DateTimeFormatter.RFC_1123_DATE_TIME.format(t.atZone(ZoneOffset.UTC));
    }

    /** Fields like ORCPT and Diagnostic-Code carry a type ("rfc822;", "smtp;"); add the usual one when it is missing. */
    private static String typed(String value, String defaultType) {
        String v = ascii(value);
        return v.matches("[A-Za-z0-9-]+;.*") ? v : defaultType + "; " + v;
    }

    /** DSN fields are US-ASCII lines (RFC 3464 section 2.1.1); remote replies may be anything. */
    static String ascii(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            b.append(c == '\r' || c == '\n' || c == '\t' ? ' ' : c >= 0x20 && c < 0x7f ? c : '?');
        }
        return b.toString().trim().replaceAll(" {2,}", " ");
    }

    private static String fold(String name, String value) {
        return MimeUtility.fold(name.length() + 2, value);
    }
}
