package io.mailroot.deliverer.smtp;

import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.Recipient;
import java.nio.charset.StandardCharsets;
import java.util.stream.Collectors;

/** MAIL FROM and RCPT TO with the ESMTP parameters the server announced (SIZE, 8BITMIME, DSN). */
final class MailCommands {

    private MailCommands() {
    }

    static String mailFrom(Extensions ext, Envelope envelope, byte[] message) {
        StringBuilder b = new StringBuilder("MAIL FROM:<").append(envelope.sender()).append('>');
        if (ext.supports("SIZE")) {
            b.append(" SIZE=").append(message.length);
        }
        if (ext.supports("8BITMIME") && eightBit(message)) {
            b.append(" BODY=8BITMIME");
        }
        if (ext.supports("DSN")) {
            if (envelope.ret() != null) {
                b.append(" RET=").append(envelope.ret().name());
            }
            if (envelope.envId() != null) {
                b.append(" ENVID=").append(xtext(envelope.envId()));
            }
        }
        return b.toString();
    }

    static String rcptTo(Extensions ext, Recipient r) {
        StringBuilder b = new StringBuilder("RCPT TO:<").append(r.address()).append('>');
        if (ext.supports("DSN")) {
            if (!r.notifyOn().isEmpty()) {
                b.append(" NOTIFY=").append(r.notifyOn().stream().map(Enum::name).sorted()
                        .collect(Collectors.joining(",")));
            }
            if (r.orcpt() != null) {
                int semi = r.orcpt().indexOf(';');
                b.append(" ORCPT=").append(semi < 0 ? "rfc822;" + xtext(r.orcpt())
                        : r.orcpt().substring(0, semi) + ";" + xtext(r.orcpt().substring(semi + 1)));
            }
        }
        return b.toString();
    }

    /** RFC 3461 xtext: printable ASCII except '+' and '=', everything else as +HH. */
    static String xtext(String s) {
        StringBuilder b = new StringBuilder();
        for (byte c : s.getBytes(StandardCharsets.UTF_8)) {
            int v = c & 0xff;
            if (v >= 33 && v <= 126 && v != '+' && v != '=') {
                b.append((char) v);
            } else {
                b.append('+').append(String.format("%02X", v));
            }
        }
        return b.toString();
    }

    /** Whether the message has any byte outside 7-bit ASCII. */
    static boolean eightBit(byte[] message) {
        for (byte b : message) {
            if (b < 0) {
                return true;
            }
        }
        return false;
    }
}
