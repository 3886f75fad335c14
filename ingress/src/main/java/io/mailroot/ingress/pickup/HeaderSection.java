package io.mailroot.ingress.pickup;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;

/**
 * The header section of a message as bytes. Pickup removes envelope-only fields (X-Sender, X-Receiver, Bcc) by
 * cutting their lines out, so every other byte, DKIM-signed headers and body included, reaches the queue untouched.
 */
final class HeaderSection {

    private HeaderSection() {
    }

    /**
     * Turns bare LF line ends (a file written on Unix) into CRLF, which SMTP requires (RFC 5321 section 2.3.8);
     * a file already in CRLF comes back as it is.
     */
    static byte[] withCrlf(byte[] file) {
        int bare = 0;
        for (int i = 0; i < file.length; i++) {
            if (file[i] == '\n' && (i == 0 || file[i - 1] != '\r')) {
                bare++;
            }
        }
        if (bare == 0) {
            return file;
        }
        byte[] out = new byte[file.length + bare];
        int o = 0;
        for (int i = 0; i < file.length; i++) {
            if (file[i] == '\n' && (i == 0 || file[i - 1] != '\r')) {
                out[o++] = '\r';
            }
            out[o++] = file[i];
        }
        return out;
    }

    /**
     * Where the header section ends: the index just past the empty line that separates it from the body, or the
     * message length when there is no body. Lines end in CRLF here (see {@link #withCrlf}).
     */
    static int end(byte[] message) {
        int line = 0;
        while (line < message.length) {
            int lf = indexOf(message, line);
            if (lf < 0) {
                return message.length;
            }
            if (lf == line + 1 && message[line] == '\r') {
                return lf + 1;
            }
            line = lf + 1;
        }
        return message.length;
    }

    /**
     * Checks that every line before the empty line is a header field or the continuation of one.
     *
     * @return null when it is, else why not (naming the line)
     */
    static String problem(byte[] message, int headerEnd) {
        if (headerEnd == 0 || message.length == 0) {
            return "no header section";
        }
        if (headerEnd == 2 && message[0] == '\r') {
            return "no header section: the file starts with an empty line";
        }
        int line = 0;
        int number = 1;
        while (line < headerEnd) {
            int lf = indexOf(message, line);
            int stop = lf < 0 ? message.length : lf;
            int length = stop > line && message[stop - 1] == '\r' ? stop - 1 - line : stop - line;
            if (length == 0) {
                break;
            }
            byte first = message[line];
            if (first == ' ' || first == '\t') {
                if (number == 1) {
                    return "line 1 is a continuation line without a header field";
                }
            } else if (!isFieldName(message, line, length)) {
                String text = new String(message, line, Math.min(length, 60), StandardCharsets.ISO_8859_1);
                return "line " + number + " is not a header field: " + text.replaceAll("[^\\x20-\\x7E]", "?");
            }
            line = stop + 1;
            number++;
        }
        return null;
    }

    /** A field name is one or more printable ASCII characters except the colon, then the colon (RFC 5322 3.6.8). */
    private static boolean isFieldName(byte[] b, int from, int length) {
        for (int i = from; i < from + length; i++) {
            int c = b[i] & 0xFF;
            if (c == ':') {
                return i > from;
            }
            if (c < 33 || c > 126) {
                return false;
            }
        }
        return false;
    }

    /** The message without the named fields (case-insensitive), each removed with its continuation lines. */
    static byte[] without(byte[] message, int headerEnd, Set<String> names) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(message.length);
        int line = 0;
        boolean dropping = false;
        while (line < headerEnd) {
            int lf = indexOf(message, line);
            int next = lf < 0 ? headerEnd : Math.min(lf + 1, headerEnd);
            byte first = message[line];
            boolean continuation = first == ' ' || first == '\t';
            if (!continuation) {
                dropping = names.contains(fieldName(message, line, next));
            }
            if (!dropping) {
                out.write(message, line, next - line);
            }
            line = next;
        }
        out.write(message, headerEnd, message.length - headerEnd);
        return out.toByteArray();
    }

    private static String fieldName(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] == ':') {
                return new String(b, from, i - from, StandardCharsets.ISO_8859_1).trim().toLowerCase(Locale.ROOT);
            }
        }
        return "";
    }

    private static int indexOf(byte[] b, int from) {
        for (int i = from; i < b.length; i++) {
            if (b[i] == '\n') {
                return i;
            }
        }
        return -1;
    }
}
