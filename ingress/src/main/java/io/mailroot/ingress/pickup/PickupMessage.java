package io.mailroot.ingress.pickup;

import io.mailroot.ingress.MailboxAddress;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.InternetHeaders;
import jakarta.mail.internet.MimeUtility;
import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A file from the Pickup folder read as IIS read it: the envelope comes from {@code X-Sender} and
 * {@code X-Receiver} (as CDO wrote them) when present, else from From and To, Cc and Bcc. Each address is read as
 * RCPT TO reads one, and queued in that form.
 *
 * @param sender the envelope sender; empty for the null sender
 * @param recipients the envelope recipients, each once, as {@link MailboxAddress#address()} writes them
 * @param queued the bytes to queue: the file with CRLF line ends and without X-Sender, X-Receiver and Bcc
 */
record PickupMessage(String sender, List<String> recipients, byte[] queued) {

    /** Fields that only describe the envelope: never delivered. */
    private static final Set<String> ENVELOPE_FIELDS = Set.of("x-sender", "x-receiver", "bcc");

    /** Why a file cannot be submitted; the reason goes beside it in Badmail. */
    static final class UnreadableMessage extends Exception {
        UnreadableMessage(String reason) {
            super(reason);
        }
    }

    static PickupMessage read(byte[] file) throws UnreadableMessage {
        byte[] message = HeaderSection.withCrlf(file);
        int headerEnd = HeaderSection.end(message);
        String problem = HeaderSection.problem(message, headerEnd);
        if (problem != null) {
            throw new UnreadableMessage(problem);
        }
        InternetHeaders headers;
        try {
            headers = new InternetHeaders(new ByteArrayInputStream(message, 0, headerEnd));
        } catch (MessagingException e) {
            throw new UnreadableMessage("unreadable header section: " + e.getMessage());
        }
        String sender = sender(headers);
        List<String> recipients = recipients(headers);
        if (recipients.isEmpty()) {
            throw new UnreadableMessage("no recipients: neither X-Receiver nor To, Cc or Bcc names an address");
        }
        return new PickupMessage(sender, recipients, HeaderSection.without(message, headerEnd, ENVELOPE_FIELDS));
    }

    private static String sender(InternetHeaders headers) throws UnreadableMessage {
        String[] xSender = headers.getHeader("X-Sender");
        if (xSender != null) {
            String value = MimeUtility.unfold(xSender[0]).trim();
            if (value.isEmpty() || value.equals("<>")) {
                return "";
            }
            List<String> a = addresses("X-Sender", value);
            if (a.size() != 1) {
                throw new UnreadableMessage("X-Sender must name exactly one address: " + value);
            }
            return a.get(0);
        }
        for (String field : List.of("From", "Sender")) {
            String[] values = headers.getHeader(field);
            if (values != null) {
                List<String> a = addresses(field, MimeUtility.unfold(values[0]));
                if (!a.isEmpty()) {
                    return a.get(0);
                }
            }
        }
        throw new UnreadableMessage("no sender: neither X-Sender nor From nor Sender names an address");
    }

    private static List<String> recipients(InternetHeaders headers) throws UnreadableMessage {
        String[] xReceivers = headers.getHeader("X-Receiver");
        List<String> fields = xReceivers != null ? List.of("X-Receiver") : List.of("To", "Cc", "Bcc");
        Map<String, String> unique = new LinkedHashMap<>();
        for (String field : fields) {
            String[] values = headers.getHeader(field);
            if (values == null) {
                continue;
            }
            for (String value : values) {
                for (String a : addresses(field, MimeUtility.unfold(value))) {
                    unique.putIfAbsent(a.toLowerCase(Locale.ROOT), a);
                }
            }
        }
        return List.copyOf(unique.values());
    }

    /** The mailboxes a field names, groups expanded ({@code undisclosed-recipients:;} names none). */
    private static List<String> addresses(String field, String value) throws UnreadableMessage {
        List<String> out = new ArrayList<>();
        try {
            for (InternetAddress a : InternetAddress.parseHeader(value, false)) {
                if (a.isGroup()) {
                    for (InternetAddress member : a.getGroup(false)) {
                        out.add(mailbox(field, member));
                    }
                } else {
                    out.add(mailbox(field, a));
                }
            }
        } catch (AddressException e) {
            throw new UnreadableMessage("bad address in " + field + ": " + value.trim() + " (" + e.getMessage() + ")");
        }
        return out;
    }

    /**
     * The address read as RCPT TO reads it ({@link MailboxAddress}): no source route, a plain domain, lower-cased and
     * without a root dot, so the router sees the domain the message is really for.
     */
    private static String mailbox(String field, InternetAddress a) throws UnreadableMessage {
        try {
            return MailboxAddress.parse(a.getAddress()).address();
        } catch (MailboxAddress.Invalid e) {
            throw new UnreadableMessage("bad address in " + field + ": " + a.getAddress() + " (" + e.getMessage() + ")");
        }
    }
}
