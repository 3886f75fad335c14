package io.mailroot.ingress.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.mailroot.ingress.MailboxAddress;
import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.ContentType;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.ParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The JSON body of {@code POST /api/v1/messages}, checked field by field so that a bad one is named in the 400.
 *
 * @param headers extra header fields in the order given
 * @param importance null when the client did not say
 */
record MessageRequest(
        InternetAddress from,
        List<InternetAddress> to,
        List<InternetAddress> cc,
        List<InternetAddress> bcc,
        String subject,
        String text,
        String html,
        Importance importance,
        Map<String, String> headers,
        List<Attachment> attachments) {

    /** The Importance and X-Priority headers Outlook and most clients read. */
    enum Importance {
        LOW("Low", "5 (Lowest)"), NORMAL("Normal", "3 (Normal)"), HIGH("High", "1 (Highest)");

        final String importance;
        final String xPriority;

        Importance(String importance, String xPriority) {
            this.importance = importance;
            this.xPriority = xPriority;
        }
    }

    record Attachment(String filename, String contentType, byte[] content) {
    }

    private static final Set<String> FIELDS = Set.of("from", "to", "cc", "bcc", "subject", "text", "html",
            "importance", "headers", "attachments");

    /**
     * Fields Mailroot writes itself, or that would change who receives the message or how it is parsed: an extra
     * header may not replace them.
     */
    private static final Set<String> RESERVED_HEADERS = Set.of("from", "to", "cc", "bcc", "sender", "received",
            "return-path", "subject", "date", "message-id", "mime-version", "content-type",
            "content-transfer-encoding", "content-disposition", "importance", "x-priority", "x-sender", "x-receiver");

    static MessageRequest parse(JsonNode body) throws BadRequest {
        if (body == null || !body.isObject()) {
            throw BadRequest.field(null, "the body must be a JSON object");
        }
        for (Iterator<String> names = body.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!FIELDS.contains(name)) {
                throw BadRequest.field(name, "unknown field; expected one of " + new java.util.TreeSet<>(FIELDS));
            }
        }
        String fromText = string(body, "from");
        if (fromText == null || fromText.isBlank()) {
            throw BadRequest.field("from", "from is required");
        }
        InternetAddress from = address(fromText, "from");
        List<InternetAddress> to = addresses(body, "to");
        List<InternetAddress> cc = addresses(body, "cc");
        List<InternetAddress> bcc = addresses(body, "bcc");
        if (to.isEmpty() && cc.isEmpty() && bcc.isEmpty()) {
            throw BadRequest.field("to", "at least one recipient in to, cc or bcc is required");
        }
        String subject = string(body, "subject");
        oneLine(subject, "subject");
        String text = string(body, "text");
        String html = string(body, "html");
        if (text == null && html == null) {
            throw BadRequest.field("text", "text or html (or both) is required");
        }
        return new MessageRequest(from, to, cc, bcc, subject == null ? "" : subject, text, html,
                importance(string(body, "importance")), headers(body.get("headers")), attachments(body.get("attachments")));
    }

    /** Envelope recipients: to, cc and bcc, each address once. */
    List<String> recipients() {
        Map<String, String> unique = new LinkedHashMap<>();
        for (List<InternetAddress> list : List.of(to, cc, bcc)) {
            for (InternetAddress a : list) {
                unique.putIfAbsent(a.getAddress().toLowerCase(Locale.ROOT), a.getAddress());
            }
        }
        return List.copyOf(unique.values());
    }

    private static String string(JsonNode body, String field) throws BadRequest {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isTextual()) {
            throw BadRequest.field(field, field + " must be a string");
        }
        return n.textValue();
    }

    private static List<InternetAddress> addresses(JsonNode body, String field) throws BadRequest {
        JsonNode n = body.get(field);
        List<InternetAddress> out = new ArrayList<>();
        if (n == null || n.isNull()) {
            return out;
        }
        if (n.isTextual()) {
            out.add(address(n.textValue(), field));
            return out;
        }
        if (!n.isArray()) {
            throw BadRequest.field(field, field + " must be an array of addresses");
        }
        for (int i = 0; i < n.size(); i++) {
            String f = field + "[" + i + "]";
            if (!n.get(i).isTextual()) {
                throw BadRequest.field(f, f + " must be a string");
            }
            out.add(address(n.get(i).textValue(), f));
        }
        return out;
    }

    /**
     * One mailbox, {@code bob@example.com} or {@code Bob <bob@example.com>}, parsed strictly (RFC 5322), its address
     * then read as RCPT TO reads one and given back in that form (see {@link #normalised}).
     */
    static InternetAddress address(String value, String field) throws BadRequest {
        oneLine(value, field);
        InternetAddress a;
        try {
            a = new InternetAddress(value.trim(), true);
        } catch (AddressException e) {
            throw BadRequest.field(field, "not a valid address: " + value + " (" + e.getMessage() + ")");
        }
        if (a.isGroup()) {
            throw BadRequest.field(field, "a group is not a mailbox: " + value);
        }
        try {
            return normalised(a);
        } catch (MailboxAddress.Invalid e) {
            throw BadRequest.field(field, "not a mailbox address: " + value + " (" + e.getMessage() + ")");
        }
    }

    /**
     * Gives {@code a} its address as {@link MailboxAddress} reads it (domain lower-cased, without a root dot), the
     * form queued in the envelope and shown in the header, so the router judges the domain the message is for.
     *
     * @throws MailboxAddress.Invalid when it is not a plain mailbox RCPT TO would take
     */
    static InternetAddress normalised(InternetAddress a) throws MailboxAddress.Invalid {
        a.setAddress(MailboxAddress.parse(a.getAddress()).address());
        return a;
    }

    private static void oneLine(String value, String field) throws BadRequest {
        if (value == null) {
            return;
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\r' || c == '\n' || c == 0) {
                throw BadRequest.field(field, field + " must be one line (no CR, LF or NUL)");
            }
        }
    }

    private static Importance importance(String value) throws BadRequest {
        if (value == null) {
            return null;
        }
        try {
            return Importance.valueOf(value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw BadRequest.field("importance", "importance must be low, normal or high");
        }
    }

    private static Map<String, String> headers(JsonNode n) throws BadRequest {
        Map<String, String> out = new LinkedHashMap<>();
        if (n == null || n.isNull()) {
            return out;
        }
        if (!n.isObject()) {
            throw BadRequest.field("headers", "headers must be an object of name: value");
        }
        for (Map.Entry<String, JsonNode> e : n.properties()) {
            String name = e.getKey();
            String field = "headers." + name;
            if (!name.matches("[!-9;-~]{1,76}")) {
                throw BadRequest.field(field, "a header name is 1 to 76 printable ASCII characters without a colon");
            }
            if (RESERVED_HEADERS.contains(name.toLowerCase(Locale.ROOT))) {
                throw BadRequest.field(field, name + " is set by Mailroot or by its own field and cannot be given here");
            }
            if (!e.getValue().isTextual()) {
                throw BadRequest.field(field, field + " must be a string");
            }
            oneLine(e.getValue().textValue(), field);
            out.put(name, e.getValue().textValue());
        }
        return out;
    }

    private static List<Attachment> attachments(JsonNode n) throws BadRequest {
        List<Attachment> out = new ArrayList<>();
        if (n == null || n.isNull()) {
            return out;
        }
        if (!n.isArray()) {
            throw BadRequest.field("attachments", "attachments must be an array");
        }
        for (int i = 0; i < n.size(); i++) {
            String prefix = "attachments[" + i + "]";
            JsonNode a = n.get(i);
            if (!a.isObject()) {
                throw BadRequest.field(prefix, prefix + " must be an object {filename, contentType, contentBase64}");
            }
            String filename = string(a, prefix, "filename");
            if (filename == null || filename.isBlank()) {
                throw BadRequest.field(prefix + ".filename", "filename is required");
            }
            oneLine(filename, prefix + ".filename");
            String contentType = string(a, prefix, "contentType");
            if (contentType == null || contentType.isBlank()) {
                contentType = "application/octet-stream";
            }
            oneLine(contentType, prefix + ".contentType");
            try {
                contentType = new ContentType(contentType).toString();
            } catch (ParseException e) {
                throw BadRequest.field(prefix + ".contentType", "not a MIME type: " + contentType);
            }
            String base64 = string(a, prefix, "contentBase64");
            if (base64 == null) {
                throw BadRequest.field(prefix + ".contentBase64", "contentBase64 is required");
            }
            byte[] content;
            try {
                // Line breaks are allowed (some encoders wrap at 76), anything else outside the alphabet is not.
                content = Base64.getDecoder().decode(base64.replaceAll("[\\r\\n\\t ]", ""));
            } catch (IllegalArgumentException e) {
                throw BadRequest.field(prefix + ".contentBase64", "not valid base64: " + e.getMessage());
            }
            out.add(new Attachment(filename, contentType, content));
        }
        return out;
    }

    private static String string(JsonNode object, String prefix, String field) throws BadRequest {
        try {
            return string(object, field);
        } catch (BadRequest e) {
            throw BadRequest.field(prefix + "." + field, prefix + "." + field + " must be a string");
        }
    }
}
