package io.mailroot.ndr;

import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.MessageIds;
import io.mailroot.core.message.Outcome;
import io.mailroot.core.message.Recipient;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.InternetHeaders;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeUtility;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UnsupportedEncodingException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Function;
import org.eclipse.angus.mail.dsn.DeliveryStatus;
import org.eclipse.angus.mail.dsn.MessageHeaders;
import org.eclipse.angus.mail.dsn.MultipartReport;

/**
 * Turns a dsn record into the RFC 3464 reports its sender asked for (RFC 3461 NOTIFY): one
 * {@code multipart/report; report-type=delivery-status} per kind of outcome, addressed to the envelope sender.
 */
public final class ReportComposer {

    /** The virtual server name reports carry, so logs and the router can tell them from client mail. */
    public static final String VIRTUAL_SERVER = "ndr-service";

    private final MailrootConfig config;
    private final Session session = Session.getInstance(new Properties());

    public ReportComposer(MailrootConfig config) {
        this.config = config;
    }

    /**
     * @param lastAttempt when the attempt behind these outcomes ended (the dsn record's time)
     * @return nothing when no recipient wants to hear about its outcome
     */
    public List<DeliveryReport> compose(MailRecord failed, Instant lastAttempt) throws MessagingException, IOException {
        return compose(failed, lastAttempt, action -> MessageIds.next());
    }

    /**
     * @param ids the queue id (and Message-ID local part) of the report for each kind of outcome; the ndr-service
     *     derives them from the dsn record, so composing the same record again gives the same ids
     */
    public List<DeliveryReport> compose(MailRecord failed, Instant lastAttempt, Function<Outcome.Action, String> ids)
            throws MessagingException, IOException {
        Envelope envelope = failed.envelope();
        Map<Outcome.Action, List<Recipient>> byAction = new EnumMap<>(Outcome.Action.class);
        for (Recipient r : envelope.recipients()) {
            if (r.outcome() != null && r.wantsReport(r.outcome().action())) {
                byAction.computeIfAbsent(r.outcome().action(), a -> new ArrayList<>()).add(r);
            }
        }
        List<DeliveryReport> reports = new ArrayList<>();
        if (byAction.isEmpty()) {
            return reports;
        }
        InternetHeaders original = new InternetHeaders(new ByteArrayInputStream(failed.message()));
        for (var e : byAction.entrySet()) {
            reports.add(report(ids.apply(e.getKey()), failed, original, e.getKey(), e.getValue(), lastAttempt));
        }
        return reports;
    }

    private DeliveryReport report(String id, MailRecord failed, InternetHeaders original, Outcome.Action action,
                                  List<Recipient> recipients, Instant lastAttempt) throws MessagingException, IOException {
        Envelope envelope = failed.envelope();
        Instant now = Instant.now();
        boolean full = envelope.ret() == Envelope.Ret.FULL;
        Instant retryUntil = action == Outcome.Action.DELAYED ? retryUntil(envelope, recipients.get(0)) : null;

        DeliveryStatus status = DsnFields.of(config.fqdn(), envelope, recipients, lastAttempt,
                r -> retryUntil(envelope, r));
        MultipartReport body = new MultipartReport("", status);
        // A MessageHeaders goes as text/rfc822-headers, any other MimeMessage whole as message/rfc822.
        body.setReturnedMessage(full ? new ReturnedMessage(session, failed.message()) : new ReturnedHeaders(original));
        MimeBodyPart text = new MimeBodyPart();
        text.setText(ReportText.explanation(config.fqdn(), action, recipients, retryUntil, full), "UTF-8");
        body.setTextBodyPart(text);
        if (full && has8bit(failed.message())) {
            // message/rfc822 may not be encoded (RFC 2046 5.2.1), so 8-bit content must be labelled as such.
            body.getBodyPart(2).setHeader("Content-Transfer-Encoding", "8bit");
        }

        ReportMessage report = new ReportMessage(session, "<" + id + "@" + config.fqdn() + ">");
        report.setFrom(postmaster());
        InternetAddress to = new InternetAddress();
        to.setAddress(envelope.sender());
        report.setRecipient(Message.RecipientType.TO, to);
        report.setSubject(ReportText.subject(action, decodedSubject(original)), "UTF-8");
        report.setSentDate(Date.from(now));
        report.setHeader("Auto-Submitted", "auto-replied");
        String originalId = original.getHeader("Message-ID", null);
        if (originalId != null && !originalId.isBlank()) {
            report.setHeader("In-Reply-To", originalId.trim());
            report.setHeader("References", originalId.trim());
        }
        report.setContent(body);
        report.saveChanges();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(full ? failed.message().length + 4096 : 4096);
        report.writeTo(bytes);

        return new DeliveryReport(id, action, new MailRecord(reportEnvelope(id, envelope.sender(), action, now),
                bytes.toByteArray()));
    }

    /** From the null sender, so a report that cannot be delivered ends in Badmail instead of bouncing back. */
    private Envelope reportEnvelope(String id, String originalSender, Outcome.Action action, Instant now) {
        List<Recipient> recipients = new ArrayList<>(List.of(Recipient.of(originalSender)));
        String copy = config.delivery().ndrCopyTo();
        if (action == Outcome.Action.FAILED && copy != null && !copy.equalsIgnoreCase(originalSender)) {
            recipients.add(Recipient.of(copy));
        }
        return Envelope.received(id, "", recipients, now).withClient(null, null, null, null, false, VIRTUAL_SERVER);
    }

    /** When Mailroot stops retrying this recipient: arrival plus the expiration time-out of its kind of delivery. */
    private Instant retryUntil(Envelope envelope, Recipient r) {
        if (envelope.receivedAt() == null) {
            return null;
        }
        Duration expiry = config.isLocal(r.domain())
                ? config.delivery().local().expirationTimeout()
                : config.delivery().expirationTimeout();
        return envelope.receivedAt().plus(expiry);
    }

    private static boolean has8bit(byte[] message) {
        for (byte b : message) {
            if (b < 0) {
                return true;
            }
        }
        return false;
    }

    private InternetAddress postmaster() throws MessagingException {
        try {
            return new InternetAddress("postmaster@" + config.fqdn(), "Mail Delivery System", "UTF-8");
        } catch (UnsupportedEncodingException e) {
            throw new MessagingException("UTF-8 unsupported", e);
        }
    }

    private static String decodedSubject(InternetHeaders original) {
        String raw = original.getHeader("Subject", " ");
        if (raw == null) {
            return "";
        }
        try {
            return MimeUtility.decodeText(MimeUtility.unfold(raw)).trim();
        } catch (UnsupportedEncodingException e) {
            return MimeUtility.unfold(raw).trim();
        }
    }

    /** A report whose Message-ID is the one we chose, not a random one from Jakarta Mail's saveChanges. */
    private static final class ReportMessage extends MimeMessage {
        private final String messageId;

        ReportMessage(Session session, String messageId) {
            super(session);
            this.messageId = messageId;
        }

        @Override
        protected void updateMessageID() throws MessagingException {
            setHeader("Message-ID", messageId);
        }
    }

    /**
     * The original headers (RET=HDRS), as they came: saving the report would otherwise give them a new Message-ID
     * and a MIME-Version, and the sender could no longer tell which message this report is about.
     */
    private static final class ReturnedHeaders extends MessageHeaders {
        ReturnedHeaders(InternetHeaders headers) throws MessagingException {
            super(headers);
        }

        @Override
        protected void updateHeaders() {
        }

        @Override
        protected void updateMessageID() {
        }
    }

    /**
     * The original message returned whole (RET=FULL). Its bytes must go out as they came in, so saving the report
     * must not give it a new Message-ID or touch its headers.
     */
    private static final class ReturnedMessage extends MimeMessage {
        ReturnedMessage(Session session, byte[] raw) throws MessagingException {
            super(session, new ByteArrayInputStream(raw));
        }

        @Override
        protected void updateHeaders() {
        }

        @Override
        protected void updateMessageID() {
        }
    }
}
