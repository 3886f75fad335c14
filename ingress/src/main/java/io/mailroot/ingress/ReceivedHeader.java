package io.mailroot.ingress;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
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
        return format(client, false, "ESMTP", fqdn, id, at);
    }

    /**
     * The header with the RFC 3848 protocol ({@code SMTP}, {@code ESMTP}, {@code ESMTPS}, {@code ESMTPA},
     * {@code ESMTPSA}). With {@code nameChecked} (IIS's reverse DNS lookup) the client's name is its
     * forward-confirmed reverse name, and {@code unverified} follows the address unless that name (or the address
     * literal) is what the client said in HELO/EHLO.
     */
    public static String format(Client client, boolean nameChecked, String protocol, String fqdn, String id,
                                ZonedDateTime at) {
        String helo = client.helo() == null ? "unknown" : printable(client.helo());
        String name = client.name() == null ? "unknown" : printable(client.name());
        String verdict = nameChecked && !matches(client) ? " unverified" : "";
        return "Received: from " + helo + " (" + name + " " + client.addressLiteral() + verdict + ")\r\n"
                + "\tby " + fqdn + " (Mailroot) with " + protocol + " id " + id + ";\r\n"
                + "\t" + RFC_5322.format(at) + "\r\n";
    }

    /**
     * The header for mail that came another way than SMTP: {@code Received: from SOURCE by fqdn (Mailroot) with
     * PROTOCOL id ID; date}, ending in CRLF.
     *
     * @param source what handed the message over: {@code pickup}, or the HTTP client's address literal
     * @param protocol {@code Pickup} or {@code HTTP}
     */
    public static String from(String source, String protocol, String fqdn, String id, ZonedDateTime at) {
        return "Received: from " + printable(source) + " by " + fqdn + " (Mailroot) with " + protocol + " id " + id + ";\r\n"
                + "\t" + RFC_5322.format(at) + "\r\n";
    }

    /** The message as queued: our header (ASCII, ending in CRLF) in front of the bytes as received. */
    public static byte[] prepend(String header, byte[] message) {
        byte[] h = header.getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[h.length + message.length];
        System.arraycopy(h, 0, out, 0, h.length);
        System.arraycopy(message, 0, out, h.length, message.length);
        return out;
    }

    /** {@link #from} dated {@code at} in UTC, prepended to the message that came another way than SMTP. */
    public static byte[] prependFrom(String source, String protocol, String fqdn, String id, Instant at, byte[] message) {
        return prepend(from(source, protocol, fqdn, id, ZonedDateTime.ofInstant(at, ZoneOffset.UTC)), message);
    }

    /** RFC 3848's name for how the message came: greeting, TLS and authentication. */
    public static String protocol(boolean extended, boolean tls, boolean authenticated) {
        if (!extended && !tls && !authenticated) {
            return "SMTP";
        }
        return "ESMTP" + (tls ? "S" : "") + (authenticated ? "A" : "");
    }

    /** Whether the client's HELO/EHLO names it truly: its confirmed reverse name or its own address literal. */
    static boolean matches(Client client) {
        String helo = client.helo();
        if (helo == null) {
            return false;
        }
        if (helo.equalsIgnoreCase(client.addressLiteral())) {
            return true;
        }
        return client.name() != null && strip(helo).equalsIgnoreCase(strip(client.name()));
    }

    private static String strip(String name) {
        return name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
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
