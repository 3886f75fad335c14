package io.mailroot.ingress.http;

import jakarta.activation.DataHandler;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Part;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import jakarta.mail.internet.MimePart;
import jakarta.mail.internet.MimeUtility;
import jakarta.mail.util.ByteArrayDataSource;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Date;
import java.util.Map;
import java.util.Properties;

/**
 * Writes the MIME message for an API request or a form post with Jakarta Mail: text and html as
 * multipart/alternative, attachments beside them in multipart/mixed, a Message-ID under our fqdn, and no Bcc.
 */
final class MimeComposer {

    private static final Session SESSION = Session.getInstance(new Properties());

    private final String fqdn;

    MimeComposer(String fqdn) {
        this.fqdn = fqdn;
    }

    byte[] compose(MessageRequest r, String id) throws MessagingException {
        MimeMessage m = message(id);
        m.setFrom(r.from());
        m.setRecipients(Message.RecipientType.TO, r.to().toArray(InternetAddress[]::new));
        if (!r.cc().isEmpty()) {
            m.setRecipients(Message.RecipientType.CC, r.cc().toArray(InternetAddress[]::new));
        }
        m.setSubject(r.subject(), "UTF-8");
        if (r.importance() != null) {
            m.setHeader("Importance", r.importance().importance);
            m.setHeader("X-Priority", r.importance().xPriority);
        }
        for (Map.Entry<String, String> h : r.headers().entrySet()) {
            m.addHeader(h.getKey(), headerValue(h.getKey(), h.getValue()));
        }
        if (r.attachments().isEmpty()) {
            body(m, r.text(), r.html());
        } else {
            MimeMultipart mixed = new MimeMultipart("mixed");
            MimeBodyPart body = new MimeBodyPart();
            body(body, r.text(), r.html());
            mixed.addBodyPart(body);
            for (MessageRequest.Attachment a : r.attachments()) {
                MimeBodyPart part = new MimeBodyPart();
                part.setDataHandler(new DataHandler(new ByteArrayDataSource(a.content(), a.contentType())));
                part.setFileName(a.filename());
                part.setDisposition(Part.ATTACHMENT);
                mixed.addBodyPart(part);
            }
            m.setContent(mixed);
        }
        return bytes(m);
    }

    /** A plain text mail, as a form post makes it. */
    byte[] composeText(InternetAddress from, InternetAddress to, InternetAddress replyTo, String subject, String text,
                       String id) throws MessagingException {
        MimeMessage m = message(id);
        m.setFrom(from);
        m.setRecipient(Message.RecipientType.TO, to);
        if (replyTo != null) {
            m.setReplyTo(new InternetAddress[] {replyTo});
        }
        m.setSubject(subject, "UTF-8");
        m.setText(crlf(text), "UTF-8");
        return bytes(m);
    }

    private MimeMessage message(String id) throws MessagingException {
        MimeMessage m = new MimeMessage(SESSION) {
            @Override
            protected void updateMessageID() throws MessagingException {
                setHeader("Message-ID", "<" + id + "@" + fqdn + ">");
            }
        };
        m.setSentDate(new Date());
        return m;
    }

    private static void body(MimePart part, String rawText, String rawHtml) throws MessagingException {
        String text = crlf(rawText);
        String html = crlf(rawHtml);
        if (text != null && html != null) {
            MimeMultipart alternative = new MimeMultipart("alternative");
            MimeBodyPart plain = new MimeBodyPart();
            plain.setText(text, "UTF-8");
            alternative.addBodyPart(plain);
            MimeBodyPart rich = new MimeBodyPart();
            rich.setText(html, "UTF-8", "html");
            alternative.addBodyPart(rich);
            part.setContent(alternative);
        } else if (text != null) {
            part.setText(text, "UTF-8");
        } else {
            part.setText(html, "UTF-8", "html");
        }
    }

    /**
     * Jakarta Mail writes 7bit text as given, and the message goes out over SMTP as queued, where a bare LF or CR
     * is not allowed (RFC 5321 section 2.3.8): every line break becomes CRLF.
     */
    private static String crlf(String s) {
        return s == null ? null : s.replaceAll("\\r\\n|\\r|\\n", "\r\n");
    }

    /** Non-ASCII as RFC 2047 encoded words, long values folded to keep lines under 78 characters. */
    private static String headerValue(String name, String value) {
        try {
            return MimeUtility.fold(name.length() + 2, MimeUtility.encodeText(value, "UTF-8", null));
        } catch (java.io.UnsupportedEncodingException e) {
            throw new IllegalStateException("UTF-8 is always supported", e);
        }
    }

    private static byte[] bytes(MimeMessage m) throws MessagingException {
        m.saveChanges();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            m.writeTo(out);
        } catch (IOException e) {
            throw new UncheckedIOException("writing to memory", e);
        }
        return out.toByteArray();
    }
}
