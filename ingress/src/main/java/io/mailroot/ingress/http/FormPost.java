package io.mailroot.ingress.http;

import jakarta.mail.internet.InternetAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * An HTML form posted as {@code application/x-www-form-urlencoded}, turned into the text of a mail: one
 * {@code name: value} line per field, in the order the browser sent them. The visitor's text only ever reaches
 * the body; the one exception, a valid {@code email} field as Reply-To, is checked as an address first.
 */
record FormPost(List<Field> fields) {

    record Field(String name, String value) {
    }

    static FormPost parse(byte[] body) throws BadRequest {
        List<Field> fields = new ArrayList<>();
        String text = new String(body, StandardCharsets.UTF_8);
        for (String pair : text.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            try {
                String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                if (!name.isBlank()) {
                    fields.add(new Field(name, value));
                }
            } catch (IllegalArgumentException e) {
                throw BadRequest.field(null, "the form body is not valid application/x-www-form-urlencoded");
            }
        }
        if (fields.isEmpty()) {
            throw BadRequest.field(null, "the form has no fields");
        }
        return new FormPost(List.copyOf(fields));
    }

    /** The body text; a field's own line breaks become indented continuation lines so each field stays one entry. */
    String text() {
        StringBuilder b = new StringBuilder();
        for (Field f : fields) {
            b.append(f.name().replaceAll("[\\r\\n]+", " ")).append(": ")
                    .append(f.value().replaceAll("\\r\\n|\\r|\\n", "\r\n  ")).append("\r\n");
        }
        return b.toString();
    }

    /**
     * The visitor's address from a field named {@code email}, to reply to; null when there is none or it is not an
     * address.
     *
     * @throws BadRequest when it holds a line break, which is how header injection is tried
     */
    InternetAddress replyTo() throws BadRequest {
        for (Field f : fields) {
            if (f.name().equalsIgnoreCase("email")) {
                if (f.value().indexOf('\r') >= 0 || f.value().indexOf('\n') >= 0) {
                    throw BadRequest.field("email", "email must be one line");
                }
                try {
                    return MessageRequest.address(f.value(), "email");
                } catch (BadRequest notAnAddress) {
                    return null;
                }
            }
        }
        return null;
    }
}
