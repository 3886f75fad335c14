package io.mailroot.ingress;

import java.nio.charset.StandardCharsets;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/** The trace header each hop prepends (RFC 5321 section 4.4), and the hop count read back from them. */
public final class ReceivedHeader {

    private static final DateTimeFormatter RFC_5322 = DateTimeFormatter.ofPattern("EEE, d MMM yyyy HH:mm:ss Z", Locale.ENGLISH);
    private static final byte[] NAME = "received:".getBytes(StandardCharsets.US_ASCII);

    private ReceivedHeader() {
    }

    /**
     * {@code Received: from HELO (name [ip]) by fqdn (Mailroot) with ESMTP id ID; date}, folded to stay within
     * the 78-character line length of RFC 5322, ending in CRLF.
     */
    public static String format(Client client, String fqdn, String id, ZonedDateTime at) {
        String helo = client.helo() == null ? "unknown" : printable(client.helo());
        String name = client.name() == null ? "unknown" : printable(client.name());
        return "Received: from " + helo + " (" + name + " " + client.addressLiteral() + ")\r\n"
                + "\tby " + fqdn + " (Mailroot) with ESMTP id " + id + ";\r\n"
                + "\t" + RFC_5322.format(at) + "\r\n";
    }

    /** How many Received headers the header section holds; the body is not looked at. */
    public static int count(byte[] message) {
        int count = 0;
        int line = 0;
        while (line < message.length) {
            int end = line;
            while (end < message.length && message[end] != '\n') {
                end++;
            }
            int length = end - line;
            if (length > 0 && message[end - 1] == '\r') {
                length--;
            }
            if (length == 0) {
                break;
            }
            if (startsWithIgnoreCase(message, line, NAME)) {
                count++;
            }
            line = end + 1;
        }
        return count;
    }

    private static boolean startsWithIgnoreCase(byte[] b, int from, byte[] prefix) {
        if (from + prefix.length > b.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (Character.toLowerCase((char) b[from + i]) != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    /** The client chose this text: keep it to one header line of visible ASCII. */
    private static String printable(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            b.append(c > 0x20 && c < 0x7F ? c : '?');
        }
        return b.toString();
    }
}
